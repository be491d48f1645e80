// The command-line parsing every subcommand (harness/cmd_<name>.cpp) does the same way with
// Boost.Program_options: store the arguments, answer --help by printing the options, else notify
// (defaults, bound variables, required options).
//
//   po::options_description desc("Usage: ...\n\nOptions");
//   desc.add_options()("help,h", "this help") ...;
//   if (!parse_or_help(args, desc)) return 0;   // --help was printed
//
// Errors: Boost.Program_options exceptions (unknown flag, bad value, too many positionals), which
// harness/main.cpp maps to exit code 2. Not thread-safe (writes stdout).
#pragma once

#include <boost/program_options.hpp>
#include <optional>

#include "harness/commands.h"

namespace pythia::harness {

// Parses `args` with the options of `desc` (what --help prints) plus `hidden` (not printed, e.g.
// the target of positional arguments) and the positional mapping `pos`; a null `pos` means the
// command takes no positional mapping (Boost then leaves positional words unused, as before).
// Returns nullopt after printing `desc` to stdout when --help / -h is given (desc must define
// "help"); otherwise the stored and notified variables.
std::optional<boost::program_options::variables_map> parse_or_help(
    const Args& args, const boost::program_options::options_description& desc,
    const boost::program_options::positional_options_description* pos = nullptr,
    const boost::program_options::options_description* hidden = nullptr);

}  // namespace pythia::harness
