// Tokenizer: the GPT-NeoX-20B tokenizer (byte-level BPE) loaded from a Hugging Face
// tokenizer.json, reproducing Hugging Face `tokenizers` 0.23.2 `encode(text, add_special_tokens =
// false)` and `decode(ids, skip_special_tokens)` exactly (goldens: tests/fixtures/tokenizer).
//
// encode(text), in HF's order (tokenizer/mod.rs `encode_single_sequence`, added_vocabulary.rs):
//   1. added tokens with normalized = false (<|endoftext|>, <|padding|>) are found in the raw
//      text, anywhere, leftmost-longest;
//   2. each gap between them is NFC-normalized (normalizer "NFC"; utf8proc);
//   3. added tokens with normalized = true (the 23 runs of 2..24 spaces) are found in it,
//      leftmost-longest;
//   4. each remaining gap is split by the GPT-2 regex (ByteLevel pre-tokenizer, pretokenizer.h)
//      and every piece goes through byte-level BPE (bpe.h).
//   No BOS/EOS and no prefix space are added (the ByteLevel post-processor adds nothing).
// decode(ids): the bytes of all tokens are concatenated (ByteLevel decoder: a token's characters
//   map back to bytes; a token with a character outside the byte-level alphabet, such as the
//   space-run added tokens, contributes its UTF-8 as is), then decoded like Rust's
//   String::from_utf8_lossy. Unknown ids (e.g. 50277..50303 of the padded embedding) are dropped;
//   skip_special_tokens drops the special added tokens (ids 0 and 1).
//
// Supported tokenizer.json: model BPE (no dropout, unk_token, subword prefix/suffix, byte
// fallback or ignore_merges), normalizer NFC or none, pre_tokenizer ByteLevel without prefix
// space and with the regex, decoder ByteLevel or none. Anything else is refused with DataError.
//
// Thread safety: immutable after loading; every const method may be called from many threads at
// once (the BPE piece cache inside is locked per shard). Copies share the loaded tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pythia::model {

class Tokenizer {
 public:
  // Loads tokenizer.json (plain or gzip-compressed). Throws DataError naming the file on unreadable or bad JSON, or on an
  // unsupported model / normalizer / pre-tokenizer / decoder type.
  static Tokenizer from_file(const std::filesystem::path& tokenizer_json);
  // The same from JSON text; `name` is used in error messages.
  static Tokenizer from_json_text(std::string_view json_text, const std::string& name);

  // The tokenizer of a checkpoint folder: <model_dir>/tokenizer.json. Throws DataError if absent,
  // saying to pass --tokenizer.
  static std::filesystem::path locate(const std::filesystem::path& model_dir);

  // Token ids of `text` (no special-token post-processing, as lm-eval calls it). Embedded NUL
  // bytes are ordinary characters. Throws DataError("input text", "invalid UTF-8 at byte offset
  // N") where N is the offset of the first byte of the first ill-formed sequence.
  std::vector<std::int32_t> encode(std::string_view text) const;
  // Appends the ids of `text` to `out` (same as encode; lets callers reuse a buffer).
  void encode_into(std::string_view text, std::vector<std::int32_t>& out) const;

  // Text of `ids` (see above). Never throws on ids: unknown ones are dropped.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const;

  // Number of ids the tokenizer knows: model vocab plus added tokens (50277 for GPT-NeoX-20B).
  int vocab_size() const;
  // Id of a token given in its tokenizer.json spelling (byte-level alphabet, e.g. "Ġthe", or an
  // added token's content); added tokens first, as HF's token_to_id.
  std::optional<std::int32_t> token_to_id(std::string_view token) const;

  // Empties the BPE piece cache (for cold-cache benchmarks). Thread-safe.
  void clear_cache() const;
  // Turns the BPE piece cache on or off (benchmarks). NOT thread-safe: call before sharing.
  void set_cache_enabled(bool on);

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace pythia::model
