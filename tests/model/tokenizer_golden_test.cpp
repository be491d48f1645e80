// Tokenizer vs Hugging Face tokenizers 0.23.2 on the vendored goldens
// (tests/fixtures/tokenizer/README.md; shared/golden/tokenizer/README.md "What a C++ test should
// assert"): exact ids on every edge case and corpus document, decode(encode) == NFC(text), exact
// text on every decode case. Tolerance: none (exact equality); counts and the first mismatch
// are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "data/jsonl_reader.h"
#include "model/tokenizer.h"
#include "model/utf8.h"

namespace {

using pythia::model::Tokenizer;

const std::string kDir = std::string(PYTHIA_FIXTURES_DIR) + "/tokenizer/";

const Tokenizer& tokenizer() {
  static const Tokenizer tok = Tokenizer::from_file(kDir + "20B_tokenizer.json.gz");
  return tok;
}

struct Case {
  std::string name;
  std::string text;
  std::vector<std::int32_t> ids;
  bool skip = false;
};

std::vector<Case> load(const std::string& file) {
  std::vector<Case> cases;
  pythia::data::for_each_jsonl(kDir + file, [&](std::int64_t, const nlohmann::json& j) {
    Case c;
    c.name = j.at("name").get<std::string>();
    c.text = j.at("text").get<std::string>();
    c.ids = j.at("ids").get<std::vector<std::int32_t>>();
    if (j.contains("skip_special_tokens")) c.skip = j.at("skip_special_tokens").get<bool>();
    cases.push_back(std::move(c));
  });
  return cases;
}

std::string ids_around(const std::vector<std::int32_t>& ids, std::size_t pos) {
  std::ostringstream os;
  const std::size_t lo = pos >= 5 ? pos - 5 : 0;
  const std::size_t hi = std::min(ids.size(), pos + 6);
  os << "[";
  for (std::size_t i = lo; i < hi; ++i) os << (i == pos ? " >" : " ") << ids[i];
  os << " ] (len " << ids.size() << ")";
  return os.str();
}

// Shows bytes as C escapes so control characters and invalid text are visible.
std::string escaped(const std::string& s, std::size_t max = 200) {
  std::ostringstream os;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      os << s[i];
    } else {
      static const char* hex = "0123456789abcdef";
      os << "\\x" << hex[c >> 4] << hex[c & 15];
    }
  }
  if (s.size() > max) os << "...";
  return os.str();
}

// Encodes every case, counts exact matches and reports the first mismatch.
void expect_ids_identical(const std::vector<Case>& cases, std::size_t expected_cases,
                          std::size_t expected_tokens) {
  ASSERT_EQ(cases.size(), expected_cases);
  std::size_t identical = 0, golden_tokens = 0;
  std::string first;
  for (const Case& c : cases) {
    golden_tokens += c.ids.size();
    const std::vector<std::int32_t> got = tokenizer().encode(c.text);
    if (got == c.ids) {
      ++identical;
      continue;
    }
    if (first.empty()) {
      std::size_t pos = 0;
      while (pos < got.size() && pos < c.ids.size() && got[pos] == c.ids[pos]) ++pos;
      first = c.name + " at id position " + std::to_string(pos) + "\n  expected " +
              ids_around(c.ids, pos) + "\n  got      " + ids_around(got, pos) +
              "\n  text: " + escaped(c.text);
    }
  }
  std::printf("[tokenizer] %zu / %zu identical (%zu golden tokens)\n", identical, cases.size(),
              golden_tokens);
  EXPECT_EQ(golden_tokens, expected_tokens);
  EXPECT_EQ(identical, cases.size()) << "first mismatch: " << first;
}

// decode(ids) with special tokens kept must equal NFC(text).
void expect_round_trip(const std::vector<Case>& cases) {
  std::size_t identical = 0;
  std::string first;
  for (const Case& c : cases) {
    const std::string got = tokenizer().decode(c.ids);
    const std::string want = pythia::model::nfc(c.text);
    if (got == want) {
      ++identical;
    } else if (first.empty()) {
      first = c.name + "\n  expected " + escaped(want) + "\n  got      " + escaped(got);
    }
  }
  std::printf("[tokenizer] round trip %zu / %zu identical\n", identical, cases.size());
  EXPECT_EQ(identical, cases.size()) << "first mismatch: " << first;
}

TEST(TokenizerGolden, EdgeCaseIdsIdentical) {
  expect_ids_identical(load("edge_cases.jsonl"), 437, 9440);
}

TEST(TokenizerGolden, CorpusIdsIdentical) {
  expect_ids_identical(load("corpus.jsonl.gz"), 741, 566'635);
}

TEST(TokenizerGolden, EdgeCaseRoundTripIsNfc) { expect_round_trip(load("edge_cases.jsonl")); }

TEST(TokenizerGolden, CorpusRoundTripIsNfc) { expect_round_trip(load("corpus.jsonl.gz")); }

TEST(TokenizerGolden, DecodeCasesIdentical) {
  const std::vector<Case> cases = load("decode_cases.jsonl.gz");
  ASSERT_EQ(cases.size(), 53'020u);
  std::size_t identical = 0, skipping = 0;
  std::string first;
  for (const Case& c : cases) {
    skipping += c.skip ? 1 : 0;
    const std::string got = tokenizer().decode(c.ids, c.skip);
    if (got == c.text) {
      ++identical;
    } else if (first.empty()) {
      first = c.name + " (skip_special_tokens=" + (c.skip ? "true" : "false") + ") ids " +
              ids_around(c.ids, 0) + "\n  expected " + escaped(c.text) + "\n  got      " +
              escaped(got);
    }
  }
  std::printf("[tokenizer] decode %zu / %zu identical (%zu with skip_special_tokens)\n",
              identical, cases.size(), skipping);
  EXPECT_GT(skipping, 0u);
  EXPECT_EQ(identical, cases.size()) << "first mismatch: " << first;
}

}  // namespace
