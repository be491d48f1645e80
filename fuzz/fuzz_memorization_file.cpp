// memorization.json and its scores CSV (results/memorization_file_read.cpp: read_memorization,
// read_memorization_scores, read_result_tree; results/memorization_file.cpp: the writer side's
// read_memorization_document + summary_from_json, as merge and resume use them), from files.
//
// Input: byte 0 = mode, the rest = `memorization.json` bytes |CSV| scores CSV bytes.
//   mode & 1: the CSV is named memorization_scores.csv.gz (read through zlib, which passes
//             plain bytes through), else memorization_scores.csv;
//   mode & 2: the JSON is named memorization.json.gz.
// Errors must be ResultsFileError (readers of results/) or DataError (the writer-side reader).
#include <string>

#include "fuzz/fuzz_util.h"
#include "results/memorization_file.h"
#include "results/results_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  if (size == 0) return 0;
  const unsigned mode = data[0];
  const auto parts = fuzz::split(fuzz::as_text(data + 1, size - 1), "|CSV|");
  fuzz::clear_scratch();
  const auto dir = fuzz::scratch_dir() / "m" / "step1000";
  const auto json_path = dir / ((mode & 2) ? "memorization.json.gz" : "memorization.json");
  const auto csv_path = dir / ((mode & 1) ? "memorization_scores.csv.gz" : "memorization_scores.csv");
  fuzz::write_file(json_path, parts[0]);
  if (parts.size() > 1) fuzz::write_file(csv_path, parts[1]);

  auto results_clean = [](auto&& fn) {
    try {
      fn();
    } catch (const results::ResultsFileError& e) {
      fuzz::note_error(e);
    }
  };
  results_clean([&] {
    const results::MemorizationResult m = results::read_memorization(json_path);
    if (!m.scores_path.empty()) {
      const auto scores = results::read_memorization_scores(m.scores_path);
      double sum = 0;
      for (const auto& [i, s] : scores) sum += s + static_cast<double>(i);
      (void)sum;
    }
  });
  results_clean([&] { (void)results::read_result_tree(fuzz::scratch_dir()); });
  if (parts.size() > 1) results_clean([&] { (void)results::read_memorization_scores(csv_path); });
  fuzz::expect_clean([&] {
    const auto doc = results::read_memorization_document(json_path);
    const results::ScanSummary s = results::summary_from_json(doc, json_path.string());
    (void)s.mean_score();
  });
  return 0;
}
