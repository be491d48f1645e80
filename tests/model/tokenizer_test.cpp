// Unit tests of the tokenizer pieces: UTF-8 handling, the GPT-2 splitter, BPE implementations
// against each other, the Tokenizer API (errors, thread safety, lm-eval's own test value).
// Expected values come from references: lm-eval tests/models/test_huggingface.py ("foo bar"),
// shared/golden/tokenizer/README.md (documented HF behaviours), the Unicode standard §3.9
// (U+FFFD substitution example, table 3-8), and the vendored goldens.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "data/error.h"
#include "data/jsonl_reader.h"
#include "model/bpe.h"
#include "model/pretokenizer.h"
#include "model/tokenizer.h"
#include "model/utf8.h"

namespace {

using namespace pythia::model;
using Ids = std::vector<std::int32_t>;

const std::string kDir = std::string(PYTHIA_FIXTURES_DIR) + "/tokenizer/";

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::from_file(kDir + "20B_tokenizer.json.gz");
  return t;
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  Gpt2Splitter s(text);
  std::string_view p;
  while (s.next(p)) out.emplace_back(p);
  return out;
}

std::string error_of(const std::string& text) {
  try {
    (void)tok().encode(text);
  } catch (const pythia::DataError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- UTF-8 -----------------------------------------------------------------------------------

TEST(Utf8, FindsFirstInvalidSequence) {
  EXPECT_FALSE(find_invalid_utf8("plain ascii"));
  EXPECT_FALSE(find_invalid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD"));
  EXPECT_EQ(find_invalid_utf8("ab\xFF" "cd"), 2u);
  EXPECT_EQ(find_invalid_utf8("abc\xE2\x82"), 3u);           // truncated at the end
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);         // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);              // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);      // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("0123456789\x80"), 10u);       // after the 8-byte fast path
}

TEST(Utf8, LossyDecodeUsesMaximalSubparts) {
  // Unicode 15 §3.9, table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64
  //   -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + r + r + r + "b" + r + "c" + r + r + "d");
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), r);  // a cut 4-byte character is one U+FFFD
  EXPECT_EQ(utf8_lossy(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(Utf8, NfcComposesAndKeepsNul) {
  EXPECT_EQ(nfc("e\xCC\x81"), "\xC3\xA9");              // e + U+0301 -> U+00E9
  EXPECT_EQ(nfc("\xE2\x84\xAB"), "\xC3\x85");           // U+212B ANGSTROM SIGN -> U+00C5
  EXPECT_EQ(nfc("\xE0\xA5\x98"), "\xE0\xA4\x95\xE0\xA4\xBC");  // U+0958 is a composition exclusion
  EXPECT_EQ(nfc(std::string("\0\xC3\xA9", 3)), std::string("\0\xC3\xA9", 3));
}

// ---- pre-tokenizer ---------------------------------------------------------------------------

TEST(Gpt2Splitter, FollowsTheRegexCases) {
  using V = std::vector<std::string>;
  // From shared/golden/tokenizer/README.md "Pre-tokenizer".
  EXPECT_EQ(pieces("a\n\n\nb"), (V{"a", "\n\n", "\n", "b"}));
  EXPECT_EQ(pieces("DON'T"), (V{"DON", "'", "T"}));
  // Regex semantics: contractions, " ?" prefixes, \s+(?!\S), trailing whitespace.
  EXPECT_EQ(pieces("don't we'll"), (V{"don", "'t", " we", "'ll"}));
  EXPECT_EQ(pieces("a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(pieces("x 12345 !?"), (V{"x", " 12345", " !?"}));
  EXPECT_EQ(pieces("end  "), (V{"end", "  "}));
  EXPECT_EQ(pieces("\tx"), (V{"\t", "x"}));
  EXPECT_EQ(pieces("x.'s"), (V{"x", ".'", "s"}));
  EXPECT_TRUE(pieces("").empty());
}

TEST(CharClass, AsciiTableMatchesUtf8proc) {
  for (std::uint32_t c = 0; c < 128; ++c) EXPECT_EQ(char_class(c), char_class_utf8proc(c)) << c;
  EXPECT_EQ(char_class(0x85), CharClass::kWhitespace);   // NEL is White_Space (category Cc)
  EXPECT_EQ(char_class(0x3000), CharClass::kWhitespace);  // ideographic space (Zs)
  EXPECT_EQ(char_class(0x200B), CharClass::kOther);       // ZWSP is not White_Space (Cf)
  EXPECT_EQ(char_class(0x4E2D), CharClass::kLetter);      // 中 (Lo)
  EXPECT_EQ(char_class(0x00BD), CharClass::kNumber);      // ½ (No)
}

TEST(ByteLevel, AlphabetRoundTrips) {
  EXPECT_EQ(byte_to_char(' '), 0x120u);  // 'Ġ'
  EXPECT_EQ(byte_to_char('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(byte_to_char('A'), static_cast<std::uint32_t>('A'));
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(char_to_byte(byte_to_char(static_cast<std::uint8_t>(b))), b);
  }
  EXPECT_EQ(char_to_byte(' '), -1);
  EXPECT_EQ(byte_level_to_bytes(bytes_to_byte_level("Hello world\n")), "Hello world\n");
}

// ---- BPE: the linear scan and the heap must agree --------------------------------------------

TEST(Bpe, LinearScanAndHeapAgree) {
  const auto root = nlohmann::json::parse(pythia::data::read_whole_file(kDir + "20B_tokenizer.json.gz"));
  std::unordered_map<std::string, std::int32_t> vocab;
  for (const auto& [k, v] : root["model"]["vocab"].items()) vocab.emplace(k, v.get<std::int32_t>());
  std::vector<std::pair<std::string, std::string>> merges;
  for (const auto& m : root["model"]["merges"]) {
    const auto s = m.get<std::string>();
    merges.emplace_back(s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1));
  }
  const BpeModel bpe(vocab, merges, "test");
  std::vector<std::string> inputs;
  pythia::data::for_each_jsonl(kDir + "edge_cases.jsonl", [&](std::int64_t, const nlohmann::json& j) {
    const std::string text = nfc(j.at("text").get<std::string>());
    for (const auto& p : pieces(text)) inputs.push_back(p);
    inputs.push_back(text);  // whole texts: long, with spaces, as one piece
  });
  std::mt19937 rng(1234);
  const std::string alphabet = "aaeeinorsttth  .,'\n";
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int len = 1 + static_cast<int>(rng() % 200);
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    inputs.push_back(s);
  }
  std::size_t compared = 0, long_pieces = 0;
  for (const auto& in : inputs) {
    if (in.empty()) continue;
    long_pieces += in.size() > 64 ? 1 : 0;  // beyond the linear scan's stack arrays
    Ids linear, heap, cached;
    bpe.encode_piece_uncached(in, linear, BpeAlgorithm::kLinearScan);
    bpe.encode_piece_uncached(in, heap, BpeAlgorithm::kHeap);
    bpe.encode_piece(in, cached);
    ASSERT_EQ(linear, heap) << "piece of " << in.size() << " bytes";
    ASSERT_EQ(linear, cached);
    ++compared;
  }
  EXPECT_GT(compared, 4000u);
  EXPECT_GT(long_pieces, 200u);
}

// ---- Tokenizer API ---------------------------------------------------------------------------

TEST(Tokenizer, LmEvalFooBar) {
  // lm-eval tests/models/test_huggingface.py: tok_encode("foo bar") == [12110, 2534].
  EXPECT_EQ(tok().encode("foo bar"), (Ids{12110, 2534}));
}

TEST(Tokenizer, EmptyStringGivesNoIds) { EXPECT_TRUE(tok().encode("").empty()); }

TEST(Tokenizer, DocumentedAddedTokenCases) {
  // shared/golden/tokenizer/README.md "Behaviour these goldens pin down".
  EXPECT_EQ(tok().encode("x<|padding|>y"), (Ids{89, 1, 90}));
  EXPECT_EQ(tok().encode("a    b"), (Ids{66, 50274, 67}));
  EXPECT_EQ(tok().encode("  word"), (Ids{50276, 3418}));
  EXPECT_EQ(tok().encode(std::string(25, ' ')), (Ids{50254, 209}));
  EXPECT_EQ(tok().encode("a" + std::string(25, ' ') + "b"), (Ids{66, 50254, 270}));
}

TEST(Tokenizer, InvalidUtf8NamesTheByteOffset) {
  EXPECT_EQ(error_of("ab\xFF" "cd"), "input text: invalid UTF-8 at byte offset 2");
  EXPECT_EQ(error_of("caf\xC3\xA9 \xE2\x82"), "input text: invalid UTF-8 at byte offset 6");
  EXPECT_EQ(error_of("ok"), "(no error)");
}

TEST(Tokenizer, EmbeddedNulRoundTrips) {
  const std::string text("a\0b \0\0 c", 8);
  const Ids ids = tok().encode(text);
  EXPECT_GE(ids.size(), 4u);
  EXPECT_EQ(tok().decode(ids), text);
}

TEST(Tokenizer, DecodeDropsUnknownAndSkipsSpecial) {
  const Ids ids{0, 12110, 50277, 2534, 50303, -1, 1, 50276};
  EXPECT_EQ(tok().decode(ids), "<|endoftext|>foo bar<|padding|>  ");
  EXPECT_EQ(tok().decode(ids, true), "foo bar  ");
}

TEST(Tokenizer, VocabularyLookups) {
  EXPECT_EQ(tok().vocab_size(), 50277);
  EXPECT_EQ(tok().token_to_id("<|endoftext|>"), 0);
  EXPECT_EQ(tok().token_to_id("<|padding|>"), 1);
  EXPECT_EQ(tok().token_to_id("\xC4\xA0the"), 253);  // "Ġthe", from the golden " the" -> 253
  EXPECT_EQ(tok().token_to_id("  "), 50276);
  EXPECT_FALSE(tok().token_to_id("no-such-token-xyz"));
}

TEST(Tokenizer, ThreadsGiveTheSameIds) {
  std::vector<std::string> texts;
  std::vector<Ids> golden;
  pythia::data::for_each_jsonl(kDir + "corpus.jsonl.gz", [&](std::int64_t, const nlohmann::json& j) {
    texts.push_back(j.at("text").get<std::string>());
    golden.push_back(j.at("ids").get<Ids>());
  });
  const Tokenizer fresh = Tokenizer::from_file(kDir + "20B_tokenizer.json.gz");  // empty cache
  std::vector<Ids> a(texts.size()), b(texts.size());
  std::thread t1([&] { for (std::size_t i = 0; i < texts.size(); ++i) a[i] = fresh.encode(texts[i]); });
  std::thread t2([&] {
    for (std::size_t i = texts.size(); i-- > 0;) b[i] = fresh.encode(texts[i]);
  });
  t1.join();
  t2.join();
  std::size_t same = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) same += (a[i] == golden[i] && b[i] == golden[i]);
  EXPECT_EQ(same, texts.size());
}

// A byte-only BPE (no merges) with flagged added tokens; the expected behaviour is the one
// documented for tokenizers.AddedToken (huggingface.co/docs/tokenizers/api/added-tokens):
// lstrip "[MASK]" in "I saw a [MASK]" matches " [MASK]"; single_word "ing" does not match inside
// "tokenizing"; rstrip takes the whitespace on the right.
TEST(Tokenizer, AddedTokenFlags) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) {
    if (b == 0xC0 || b == 0xC1 || b >= 0xF5) continue;
    vocab[bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = b;
  }
  const auto added = [](int id, const char* content, bool special, const char* flag_name) {
    nlohmann::json t = {{"id", id},          {"content", content}, {"special", special},
                        {"single_word", false}, {"lstrip", false},  {"rstrip", false},
                        {"normalized", false}};
    t[flag_name] = true;
    return t;
  };
  const nlohmann::json root = {
      {"added_tokens",
       {added(300, "[MASK]", true, "lstrip"), added(301, "ing", false, "single_word"),
        added(302, "<e>", true, "rstrip")}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  const Tokenizer t = Tokenizer::from_json_text(root.dump(), "flags.json");
  const auto bytes = [](std::string_view s) { return Ids(s.begin(), s.end()); };
  const auto cat = [](Ids a, const Ids& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  EXPECT_EQ(t.encode("I saw a [MASK]"), cat(bytes("I saw a"), {300}));
  EXPECT_EQ(t.encode("I saw a[MASK]"), cat(bytes("I saw a"), {300}));
  EXPECT_EQ(t.encode("tokenizing"), bytes("tokenizing"));
  EXPECT_EQ(t.encode("go ing now"), cat(cat(bytes("go "), {301}), bytes(" now")));
  EXPECT_EQ(t.encode("<e>  x"), (Ids{302, 'x'}));
  EXPECT_EQ(t.vocab_size(), 303);
  EXPECT_EQ(t.decode(Ids{'a', 300, 301, 302}), "a[MASK]ing<e>");
  EXPECT_EQ(t.decode(Ids{'a', 300, 301, 302}, true), "aing");
}

TEST(Tokenizer, FileErrorsNameTheFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tokenizer_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_THROW(Tokenizer::locate(dir), pythia::DataError);
  try {
    Tokenizer::locate(dir);
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("--tokenizer"), std::string::npos) << e.what();
  }
  const auto write = [&](const char* name, const char* content) {
    const auto p = dir / name;
    FILE* f = std::fopen(p.c_str(), "wb");
    std::fputs(content, f);
    std::fclose(f);
    return p;
  };
  const auto bad_json = write("bad.json", "{\"model\": ");
  const auto wordpiece = write("wp.json",
                               "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}, "
                               "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
  for (const auto& p : {bad_json, wordpiece}) {
    try {
      (void)Tokenizer::from_file(p);
      ADD_FAILURE() << "no error for " << p;
    } catch (const pythia::DataError& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Tokenizer::from_file(dir / "missing.json"), pythia::DataError);
  std::filesystem::remove_all(dir);
}

}  // namespace
