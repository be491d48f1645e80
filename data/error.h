// Error types shared by every folder, and the process exit codes main() maps them to.
//
// Policy (CONTRIBUTING.md): exceptions at boundaries (loading, parsing, configuration), with the
// file and the problem in the message. Nothing below harness/ calls exit().
#pragma once

#include <stdexcept>
#include <string>

namespace pythia {

// Exit codes of the pythia-harness executable.
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,   // the job ran but found what it checks for (e.g. `compare` saw a regression)
  kUsage = 2,     // bad command line
  kData = 3,      // bad input file: model, tokenizer, data set, results
  kInternal = 4,  // a bug: an invariant did not hold
};

// A bad command line: unknown flag, missing value, contradictory options.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad input file or a file that is missing. The message names the file and the problem.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  DataError(const std::string& file, const std::string& problem)
      : std::runtime_error(file + ": " + problem) {}
};

}  // namespace pythia
