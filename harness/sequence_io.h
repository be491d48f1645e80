// JSON-lines input/output of token sequences for `score` and `generate`.
//
// Input line: {"ids": [int, ...]} or {"text": "..."} (encoded with the tokenizer, see
// model/tokenizer.h; only when a tokenizer was given). Other keys are ignored. Blank lines are
// skipped. "-" reads stdin. Plain or gzip input (detected from the content, data/jsonl_reader.h).
// Every problem throws DataError("<file>:<line>", ...): invalid JSON, no ids/text, an id that is
// not an integer in [0, vocab_size), an empty sequence, a sequence longer than max_len.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "model/kv_cache.h"
#include "model/tokenizer.h"

namespace pythia::harness {

struct SequenceLine {
  std::string where;               // "<file>:<line>"
  std::vector<model::Token> ids;
};

struct SequenceLimits {
  int vocab_size = 50304;
  int max_len = 2048;              // longest accepted sequence
  std::string max_len_reason;      // appended to the too-long message
};

// Reads lines in blocks of at most `block` sequences and calls fn(block) for each, in order.
// `tokenizer` may be null (then {"text"} lines are an error saying to pass --tokenizer/--model).
void for_each_sequence_block(const std::string& input, const model::Tokenizer* tokenizer,
                             const SequenceLimits& limits, std::size_t block,
                             const std::function<void(std::vector<SequenceLine>&)>& fn);

// "-" = stdout; otherwise a file (truncated). Throws DataError if it cannot be opened.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  std::ostream& stream() { return *out_; }
  // Flushes; DataError on a write error.
  void close();

 private:
  std::string path_;
  std::ofstream file_;
  std::ostream* out_;
};

}  // namespace pythia::harness
