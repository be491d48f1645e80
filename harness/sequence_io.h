// JSON-lines input/output of token sequences for `score` and `generate`.
//
// Input line: {"ids": [int, ...]} or {"text": "..."} (encoded with the tokenizer, see
// model/tokenizer.h; only when a tokenizer was given). Other keys are ignored. Blank lines are
// skipped. "-" reads stdin. Plain or gzip input (detected from the content, data/jsonl_reader.h).
// Every problem throws DataError("<file>:<line>", ...): invalid JSON, no ids/text, an id that is
// not an integer in [0, vocab_size), an empty sequence, a sequence longer than max_len.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
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

// The flags every sequence command (`score`, `generate`) takes for its files.
struct SequenceIoOptions {
  std::string input;      // --input/-i: JSON lines ("-" = stdin)
  std::string output;     // --output/-o: JSON lines ("-" = stdout)
  std::string tokenizer;  // --tokenizer: tokenizer.json for {"text"} lines
};

// Adds --input/-i, --output/-o and --tokenizer to `desc`, bound to `o`.
void add_sequence_io_options(boost::program_options::options_description& desc,
                             SequenceIoOptions& o);

// Throws UsageError unless --input and --output were both given.
void require_input_output(const SequenceIoOptions& o);

// The tokenizer for {"text"} lines: the --tokenizer file, else <model_dir>/tokenizer.json when it
// exists, else none (text lines are then refused by for_each_sequence_block).
// Throws DataError for a file that cannot be read.
std::optional<model::Tokenizer> load_text_tokenizer(const SequenceIoOptions& o,
                                                    const std::filesystem::path& model_dir);

// Upper bound on the token count of the longest sequence in `input`, for the memory check before a
// model loads (a pre-pass over the file): "ids" lines count exactly; "text" lines as 5 x their
// UTF-8 bytes (byte-level BPE gives at most one token per byte, and NFC normalisation multiplies a
// string's bytes by at most 4.5). Lines that do not parse are skipped (the real pass reports
// them). 0 when unknown: stdin, or a file that cannot be read.
std::int64_t longest_sequence_bound(const std::string& input);

// Throws DataError naming the file when --tokenizer was given but cannot be opened, so a wrong
// path fails before a model spends minutes loading.
void check_tokenizer_path(const SequenceIoOptions& o);

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
