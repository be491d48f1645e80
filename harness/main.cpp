// pythia-harness: one executable, one subcommand per job. See harness/README.md.
#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "data/error.h"
#include "harness/commands.h"
#include "results/eval_results.h"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "pythia-harness: memorization and evaluation harness for GPT-NeoX (Pythia) models\n"
               "\nUsage: pythia-harness <command> [options]\n"
               "       pythia-harness <command> --help   (every flag of that command)\n"
               "\nCommands:\n");
  for (const auto& cmd : pythia::harness::kCommands) {
    std::fprintf(out, "  %-10s %s\n", cmd.name, cmd.summary);
  }
  std::fprintf(out,
               "\nExit codes: 0 ok, 1 check failed (compare), 2 usage error, 3 bad input file,\n"
               "4 internal error.\n");
}

}  // namespace

int main(int argc, char** argv) {
  using pythia::ExitCode;
  if (argc < 2) {
    print_usage(stderr);
    return static_cast<int>(ExitCode::kUsage);
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("pythia-harness 0.1.0\n");
    return 0;
  }
  for (const auto& cmd : pythia::harness::kCommands) {
    if (name != cmd.name) continue;
    const pythia::harness::Args args(argv + 2, argv + argc);
    try {
      return cmd.run(args);
    } catch (const pythia::UsageError& e) {
      std::fprintf(stderr, "pythia-harness %s: %s\n(see pythia-harness %s --help)\n", cmd.name,
                   e.what(), cmd.name);
      return static_cast<int>(ExitCode::kUsage);
    } catch (const boost::program_options::error& e) {
      std::fprintf(stderr, "pythia-harness %s: %s\n(see pythia-harness %s --help)\n", cmd.name,
                   e.what(), cmd.name);
      return static_cast<int>(ExitCode::kUsage);
    } catch (const pythia::DataError& e) {
      std::fprintf(stderr, "pythia-harness %s: error: %s\n", cmd.name, e.what());
      return static_cast<int>(ExitCode::kData);
    } catch (const pythia::results::ResultsFileError& e) {  // a results file unreadable/unwritable
      std::fprintf(stderr, "pythia-harness %s: error: %s\n", cmd.name, e.what());
      return static_cast<int>(ExitCode::kData);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pythia-harness %s: internal error: %s\n", cmd.name, e.what());
      return static_cast<int>(ExitCode::kInternal);
    }
  }
  std::fprintf(stderr, "pythia-harness: unknown command '%s'\n\n", name.c_str());
  print_usage(stderr);
  return static_cast<int>(ExitCode::kUsage);
}
