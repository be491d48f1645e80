#include "model/added_tokens.h"

#include <utf8proc.h>

#include <algorithm>

#include "model/pretokenizer.h"
#include "model/utf8.h"

namespace pythia::model {

namespace {

std::uint32_t cp_at(std::string_view text, std::size_t i) {
  std::size_t len = 0;
  return decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + i, len);
}

// Regex `\w` as HF's single_word check uses it (`^\w` / `\w$`, Rust regex crate):
// Alphabetic, marks, decimal digits, connector punctuation, ZWNJ/ZWJ. Alphabetic is approximated
// by L* and Nl (Other_Alphabetic beyond marks, e.g. circled letters, is not included).
bool is_word_char(std::uint32_t cp) {
  if (cp == 0x200C || cp == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) {
  nodes_.emplace_back();
  for (auto& t : tokens) {
    if (t.content.empty()) continue;
    const auto index = static_cast<std::int32_t>(tokens_.size());
    std::int32_t node = 0;
    for (const char ch : t.content) {
      const auto byte = static_cast<unsigned char>(ch);
      auto& kids = nodes_[static_cast<std::size_t>(node)].kids;
      const auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, -1));
      if (it != kids.end() && it->first == byte) {
        node = it->second;
      } else {
        const auto child = static_cast<std::int32_t>(nodes_.size());
        kids.insert(it, {byte, child});
        nodes_.emplace_back();  // invalidates `kids`; not used again below
        node = child;
      }
    }
    // Two added tokens with the same content: HF keeps the first pattern; so do we.
    if (nodes_[static_cast<std::size_t>(node)].token < 0) {
      nodes_[static_cast<std::size_t>(node)].token = index;
    }
    first_byte_[static_cast<unsigned char>(t.content[0])] = true;
    tokens_.push_back(std::move(t));
  }
}

std::int32_t AddedTokenMatcher::longest_at(std::string_view text, std::size_t i,
                                           std::size_t& end) const {
  std::int32_t best = -1;
  std::int32_t node = 0;
  for (std::size_t k = i; k < text.size(); ++k) {
    const auto byte = static_cast<unsigned char>(text[k]);
    const auto& kids = nodes_[static_cast<std::size_t>(node)].kids;
    const auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, -1));
    if (it == kids.end() || it->first != byte) break;
    node = it->second;
    const std::int32_t tok = nodes_[static_cast<std::size_t>(node)].token;
    if (tok >= 0) {
      best = tok;
      end = k + 1;
    }
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSplit>& out) const {
  std::size_t gap_start = 0;  // start of the text not yet emitted
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    if (!first_byte_[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    std::size_t stop = 0;
    const std::int32_t tok = longest_at(text, i, stop);
    if (tok < 0) {
      ++i;
      continue;
    }
    const AddedToken& t = tokens_[static_cast<std::size_t>(tok)];
    std::size_t start = i;
    i = stop;  // the scan resumes after the match, kept or not
    if (t.single_word) {
      const bool space_before =
          start == 0 || !is_word_char(cp_at(text, last_code_point_start(text.substr(0, start))));
      const bool space_after = stop == n || !is_word_char(cp_at(text, stop));
      if (!space_before || !space_after) continue;
    }
    if (t.lstrip) {
      std::size_t s = start;
      while (s > gap_start) {
        const std::size_t prev = last_code_point_start(text.substr(0, s));
        if (char_class(cp_at(text, prev)) != CharClass::kWhitespace) break;
        s = prev;
      }
      start = s;
    }
    if (t.rstrip) {
      while (stop < n) {
        std::size_t len = 0;
        const std::uint32_t cp =
            decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + stop, len);
        if (char_class(cp) != CharClass::kWhitespace) break;
        stop += len;
      }
      i = stop;
    }
    if (gap_start < start) out.push_back({gap_start, start, -1});
    out.push_back({start, stop, t.id});
    gap_start = stop;
  }
  if (gap_start < n) out.push_back({gap_start, n, -1});
}

}  // namespace pythia::model
