#include "model/pretokenizer.h"

#include <utf8proc.h>

#include <array>

#include "model/utf8.h"

namespace pythia::model {

namespace {

struct ByteTables {
  std::array<std::uint32_t, 256> to_char{};
  std::array<std::int16_t, 324> to_byte{};  // code points 0..323 cover the whole alphabet
};

bool printable_latin1(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

ByteTables make_byte_tables() {
  ByteTables t;
  t.to_byte.fill(-1);
  std::uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const std::uint32_t cp = printable_latin1(b) ? static_cast<std::uint32_t>(b) : next++;
    t.to_char[static_cast<std::size_t>(b)] = cp;
    t.to_byte[cp] = static_cast<std::int16_t>(b);
  }
  return t;
}

const ByteTables& byte_tables() {
  static const ByteTables tables = make_byte_tables();
  return tables;
}

CharClass classify_slow(std::uint32_t cp) {
  if (cp == 0x85) return CharClass::kWhitespace;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::kWhitespace;
    default:
      return (cp >= 0x09 && cp <= 0x0D) ? CharClass::kWhitespace : CharClass::kOther;
  }
}

// ASCII classes as constants (no static-initialisation order issue); a unit test checks them
// against utf8proc (tests/model/tokenizer_test.cpp, CharClass.AsciiTableMatchesUtf8proc).
constexpr std::array<CharClass, 128> make_ascii_classes() {
  std::array<CharClass, 128> t{};
  for (std::uint32_t c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t[c] = CharClass::kLetter;
    } else if (c >= '0' && c <= '9') {
      t[c] = CharClass::kNumber;
    } else if ((c >= 0x09 && c <= 0x0D) || c == ' ') {
      t[c] = CharClass::kWhitespace;
    } else {
      t[c] = CharClass::kOther;
    }
  }
  return t;
}

constexpr std::array<CharClass, 128> kAscii = make_ascii_classes();

// Class of the character at text[i] and its length in bytes.
inline CharClass class_at(std::string_view text, std::size_t i, std::size_t& len) {
  const auto b = static_cast<unsigned char>(text[i]);
  if (b < 0x80) {
    len = 1;
    return kAscii[b];
  }
  const std::uint32_t cp = decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + i, len);
  return classify_slow(cp);
}

// End of the run of characters of class `cls` starting at i.
inline std::size_t run_end(std::string_view text, std::size_t i, CharClass cls) {
  std::size_t len = 0;
  while (i < text.size() && class_at(text, i, len) == cls) i += len;
  return i;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at text[i] == '\'', else 0.
inline std::size_t contraction_len(std::string_view text, std::size_t i) {
  if (i + 1 >= text.size()) return 0;
  const char c1 = text[i + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (i + 2 >= text.size()) return 0;
  const char c2 = text[i + 2];
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

}  // namespace

std::uint32_t byte_to_char(std::uint8_t byte) { return byte_tables().to_char[byte]; }

int char_to_byte(std::uint32_t cp) {
  return cp < byte_tables().to_byte.size() ? byte_tables().to_byte[cp] : -1;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) append_utf8(out, byte_to_char(static_cast<std::uint8_t>(c)));
  return out;
}

std::optional<std::string> byte_level_to_bytes(std::string_view text) {
  if (find_invalid_utf8(text)) return std::nullopt;
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t len = 0;
    const std::uint32_t cp =
        decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + i, len);
    const int b = char_to_byte(cp);
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
    i += len;
  }
  return out;
}

CharClass char_class(std::uint32_t cp) { return cp < 128 ? kAscii[cp] : classify_slow(cp); }

CharClass char_class_utf8proc(std::uint32_t cp) { return classify_slow(cp); }

bool Gpt2Splitter::next(std::string_view& piece) {
  const std::size_t n = text_.size();
  const std::size_t start = pos_;
  if (start >= n) return false;
  std::size_t len0 = 0;
  const CharClass cls0 = class_at(text_, start, len0);
  std::size_t end = 0;
  if (text_[start] == '\'' && (end = contraction_len(text_, start)) != 0) {
    end += start;  // 's 't 're 've 'm 'll 'd
  } else if (cls0 != CharClass::kWhitespace) {
    end = run_end(text_, start + len0, cls0);  // \p{L}+ | \p{N}+ | [^\s\p{L}\p{N}]+
  } else {
    std::size_t len1 = 0;
    const CharClass cls1 =
        (text_[start] == ' ' && start + 1 < n) ? class_at(text_, start + 1, len1)
                                               : CharClass::kWhitespace;
    if (cls1 != CharClass::kWhitespace) {
      end = run_end(text_, start + 1 + len1, cls1);  // " ?" then a run of one class
    } else {
      // \s+(?!\S) | \s+ : take the whole whitespace run; if a non-space follows and the run has
      // two or more characters, give the last one back.
      std::size_t e = start + len0, last = start, len = 0;
      while (e < n && class_at(text_, e, len) == CharClass::kWhitespace) {
        last = e;
        e += len;
      }
      end = (e < n && last > start) ? last : e;
    }
  }
  piece = text_.substr(start, end - start);
  pos_ = end;
  return true;
}

}  // namespace pythia::model
