// Evaluation results JSON, both layouts (lm-eval v0.4 and Pythia's v0.3) and real lm-eval
// results_<timestamp>.json files (results/results_reader.h read_eval_results), from a file.
// Input: byte 0 = mode (mode & 1: the file is named results.json.gz and read through zlib, which
// passes plain bytes through), the rest = the file. Errors must be ResultsFileError. A file that
// reads is then written back in both layouts, as compare / report / sweep do.
#include "data/checkpoint_step.h"
#include "fuzz/fuzz_util.h"
#include "results/results_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  if (size == 0) return 0;
  const auto path = fuzz::scratch_dir() / ((data[0] & 1) ? "results.json.gz" : "results.json");
  fuzz::write_file(path, fuzz::as_text(data + 1, size - 1));
  try {
    const results::EvalFile f = results::read_eval_results(path);
    // What compare / report / sweep do with a file they read: its revision and step, and the
    // run written back in both layouts.
    (void)data::step_of_revision(results::revision_of_eval(f, "pythia-70m/step1000"));
    (void)results::to_lm_eval_v04(f.run).dump();
    (void)results::to_pythia_v0(f.run).dump();
  } catch (const results::ResultsFileError& e) {
    fuzz::note_error(e);
  }
  return 0;
}
