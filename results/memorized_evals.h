// The memorized rows in the layout EleutherAI published them (Hugging Face dataset
// EleutherAI/pythia-memorized-evals, card at commit d97edd1: features index int64, tokens
// sequence<int64> (the first 64 tokens of the training row: 32-token prompt + 32-token
// continuation), __index_level_0__ int64 (= index, a pandas artefact); one split per model, e.g.
// duped.70m), and the comparison of our memorized set with such a file.
//
// Our file: memorized_evals.jsonl.gz beside memorization.json (`memorize --memorized-evals`), one
// JSON object a row in increasing index order: {"index": I, "tokens": [64 ids], "__index_level_0__": I}.
// The published splits are parquet; `datasets.load_dataset("json", data_files=F)` gives the same
// three features, and `pandas.read_json(F, lines=True).to_parquet(...)` the published file type.
// The reader takes this layout (plain or gzip JSON lines) -- e.g. a published split exported with
// `ds.to_json(F)` -- and needs only "index" (tokens optional, checked when present).
//
// Errors: ResultsFileError naming the file (and line) for anything malformed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace pythia::results {

inline constexpr const char* kMemorizedEvalsFile = "memorized_evals.jsonl.gz";

struct MemorizedEvalRow {
  std::int64_t index = 0;
  std::vector<std::int64_t> tokens;  // empty when the file carried none
};

// One line of the file ("{...}\n").
std::string memorized_evals_line(const MemorizedEvalRow& row);

// Writes `rows` (increasing index) atomically, gzip (data/gzip_stream.h: deterministic bytes).
void write_memorized_evals(const std::filesystem::path& path, const std::vector<MemorizedEvalRow>& rows);

// Reads such a file; rows in file order (duplicates kept: the comparison uses sets).
std::vector<MemorizedEvalRow> read_memorized_evals(const std::filesystem::path& path);
// The same, streamed: fn(line_number, row) for every row in file order (shard merge: millions of rows).
void for_each_memorized_eval(const std::filesystem::path& path,
                             const std::function<void(std::int64_t line, const MemorizedEvalRow&)>& fn);

// Our memorized set against theirs. Set semantics (duplicate indices count once).
struct MemorizedSetComparison {
  std::uint64_t ours = 0, theirs = 0, both = 0, only_ours = 0, only_theirs = 0;
  std::vector<std::int64_t> only_ours_sample, only_theirs_sample;  // first up to 10 of each
  double precision() const { return ours == 0 ? 0.0 : static_cast<double>(both) / static_cast<double>(ours); }
  double recall() const { return theirs == 0 ? 0.0 : static_cast<double>(both) / static_cast<double>(theirs); }
};
MemorizedSetComparison compare_memorized_sets(std::vector<std::int64_t> ours, std::vector<std::int64_t> theirs);

// The table `pythia-harness compare` prints for it.
std::string format_memorized_comparison(const MemorizedSetComparison& c, const std::string& ours_name,
                                        const std::string& theirs_name);

}  // namespace pythia::results
