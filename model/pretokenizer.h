// The ByteLevel pre-tokenizer of Hugging Face tokenizers (0.23.2, `pre_tokenizers/byte_level.rs`)
// as GPT-NeoX-20B uses it (add_prefix_space = false, use_regex = true): the GPT-2 split and the
// byte <-> character table ("byte-level alphabet").
//
// The GPT-2 split reproduces the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with leftmost-first alternation (Oniguruma, as HF runs it) by a hand-written scanner:
//   \p{L} = general category L*, \p{N} = N* (utf8proc 2.8, Unicode 15 tables),
//   \s = Unicode White_Space (U+0009..000D, U+0020, U+0085, and categories Zs, Zl, Zp).
// Contractions are ASCII and case-sensitive; the optional leading character is U+0020 only.
// `\s+(?!\S)`: a whitespace run followed by a non-space gives back its last character, which
// then starts the next piece (" word"); a single whitespace before a non-space is its own piece.
//
// Everything here is pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pythia::model {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF)
// map to themselves, the other 68 bytes to U+0100.. in increasing byte order (space -> U+0120 'Ġ').
std::uint32_t byte_to_char(std::uint8_t byte);
// Inverse of byte_to_char: the byte, or -1 if `cp` is not in the byte-level alphabet.
int char_to_byte(std::uint32_t cp);

// Raw bytes -> byte-level string ("Hello world" -> "HelloĠworld").
std::string bytes_to_byte_level(std::string_view bytes);
// Byte-level string -> raw bytes; nullopt if `text` is not valid UTF-8 or has a character outside
// the byte-level alphabet.
std::optional<std::string> byte_level_to_bytes(std::string_view text);

// Character classes of the GPT-2 regex.
enum class CharClass : std::uint8_t { kLetter, kNumber, kWhitespace, kOther };
CharClass char_class(std::uint32_t cp);
// The same always through utf8proc (no ASCII table); for tests.
CharClass char_class_utf8proc(std::uint32_t cp);

// Iterates over the GPT-2 pieces of one text segment, left to right; the pieces cover the text
// exactly. REQUIRES: `text` is valid UTF-8 and outlives the splitter. Not thread-safe per object.
class Gpt2Splitter {
 public:
  explicit Gpt2Splitter(std::string_view text) : text_(text) {}
  // Stores the next piece (a non-empty view into the text) and returns true; false at the end.
  bool next(std::string_view& piece);

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace pythia::model
