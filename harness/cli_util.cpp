#include "harness/cli_util.h"

#include <iostream>

namespace pythia::harness {

namespace po = boost::program_options;

std::optional<po::variables_map> parse_or_help(const Args& args,
                                               const po::options_description& desc,
                                               const po::positional_options_description* pos,
                                               const po::options_description* hidden) {
  po::options_description all;
  all.add(desc);
  if (hidden != nullptr) all.add(*hidden);
  po::command_line_parser parser(args);
  parser.options(all);
  if (pos != nullptr) parser.positional(*pos);
  po::variables_map vm;
  po::store(parser.run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  po::notify(vm);
  return vm;
}

}  // namespace pythia::harness
