// Where the embedded default (`pythia-harness sweep` with no --model) finds its bundled fixtures
// (the repository's tests/fixtures: mini-pythia, mini-pile, tasks, tokenizer). Nothing about the
// source tree is compiled into the program:
//   1. $PYTHIA_FIXTURES_DIR when set (harness/quickstart.sh sets it to <repo>/tests/fixtures);
//   2. else the first tests/fixtures found walking up from the executable's folder
//      (build/release/harness/pythia-harness -> <repo>/tests/fixtures).
// Throws UsageError saying how to point at them when neither holds a mini-pythia folder.
#pragma once

#include <filesystem>

namespace pythia::harness {

std::filesystem::path bundled_fixtures_dir();

}  // namespace pythia::harness
