// Added tokens of a tokenizer.json and the leftmost-longest matcher that splits text on them,
// after Hugging Face tokenizers 0.23.2 `tokenizer/added_vocabulary.rs` (`find_matches`).
//
// HF builds two matchers: one over the tokens with normalized = false, run on the raw text, and
// one over the tokens with normalized = true (their content normalized first), run on each
// normalized gap between the first matcher's tokens. Matches are non-overlapping, leftmost first
// and longest among those starting at the same byte; the scan resumes after a match, also after a
// match that the single_word rule rejects (as HF's aho-corasick find_iter does).
// Flags: single_word keeps a match only if the characters around it are not word characters
// (regex \w; see added_tokens.cpp for the approximation); lstrip/rstrip widen the match over
// adjacent White_Space (not over text an earlier match already took). The GPT-NeoX-20B file sets none of
// these flags.
//
// Thread safety: immutable after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pythia::model {

struct AddedToken {
  std::string content;  // as matched: NFC-normalized for normalized tokens when NFC is in use
  std::int32_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// One piece of a split: a matched added token (id >= 0) or a gap to process further (id == -1).
struct TextSplit {
  std::size_t begin;
  std::size_t end;
  std::int32_t id;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // Tokens with empty content are ignored. REQUIRES: ids >= 0.
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }

  // Appends to `out` the splits of `text`, in order, covering all of it (none if text is empty).
  // REQUIRES: text is valid UTF-8.
  void split(std::string_view text, std::vector<TextSplit>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, std::int32_t>> kids;  // sorted by byte
    std::int32_t token = -1;                                    // index into tokens_, or -1
  };
  // Longest token starting at text[i]: its index and end, or -1.
  std::int32_t longest_at(std::string_view text, std::size_t i, std::size_t& end) const;

  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::array<bool, 256> first_byte_{};
};

}  // namespace pythia::model
