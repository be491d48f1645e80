// UTF-8 helpers for the tokenizer: validation with a byte offset, code point decoding, NFC
// (utf8proc), and the lossy decode Hugging Face's ByteLevel decoder ends with.
//
// All functions are pure and thread-safe. Strings are std::string_view / std::string, so embedded
// NUL bytes are ordinary characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pythia::model {

// Byte offset of the first byte of the first ill-formed sequence in `text` (Unicode 15 §3.9
// table 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or nullopt if `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// Decodes the code point starting at p and stores its length in bytes in `len`.
// REQUIRES: p points into valid UTF-8 (checked with find_invalid_utf8 beforehand).
inline std::uint32_t decode_utf8(const unsigned char* p, std::size_t& len) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    len = 2;
    return (std::uint32_t{b0 & 0x1Fu} << 6) | (p[1] & 0x3Fu);
  }
  if (b0 < 0xF0) {
    len = 3;
    return (std::uint32_t{b0 & 0x0Fu} << 12) | (std::uint32_t{p[1] & 0x3Fu} << 6) |
           (p[2] & 0x3Fu);
  }
  len = 4;
  return (std::uint32_t{b0 & 0x07u} << 18) | (std::uint32_t{p[1] & 0x3Fu} << 12) |
         (std::uint32_t{p[2] & 0x3Fu} << 6) | (p[3] & 0x3Fu);
}

// Start of the last code point of non-empty valid UTF-8 `text` (walks back over 10xxxxxx bytes).
inline std::size_t last_code_point_start(std::string_view text) {
  std::size_t i = text.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0u) == 0x80u) --i;
  return i;
}

// True if every byte is below 0x80 (such text is its own NFC).
bool is_ascii(std::string_view text);

// Appends the UTF-8 encoding of `cp` (REQUIRES: a Unicode scalar value).
void append_utf8(std::string& out, std::uint32_t cp);

// Unicode Normalization Form C of valid UTF-8 `text`, via utf8proc (UTF8PROC_COMPOSE |
// UTF8PROC_STABLE; utf8proc 2.8 = Unicode 15 tables). Pure ASCII is returned unchanged without
// calling utf8proc. Reproduces HF tokenizers' `NFC` normalizer (unicode-normalization crate).
// REQUIRES: `text` is valid UTF-8. Throws std::runtime_error if utf8proc reports an error.
std::string nfc(std::string_view text);

// Decodes arbitrary bytes to valid UTF-8 like Rust's String::from_utf8_lossy (the WHATWG /
// Unicode "maximal subpart" rule): each maximal invalid subsequence becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace pythia::model
