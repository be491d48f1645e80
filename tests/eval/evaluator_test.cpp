// eval/evaluator: lm-eval's _encode_pair (whitespace move, joint encoding, empty context,
// left truncation), rolling windows (spec §1.5 examples), and the scoring plan (context forwarded
// once, cache truncated per choice) against a brute-force computation on a scripted model whose
// logits depend on the whole prefix; results identical for 1 and 2 threads.
#include "eval/evaluator.h"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <numeric>

#include "data/error.h"
#include "model/logit_ops.h"

using namespace pythia;
using namespace pythia::eval;
using model::Token;

namespace {

// Logits of a position = pseudo-random function of (all tokens up to it, vocab id).
class ScriptedLm final : public model::CausalLm {
 public:
  explicit ScriptedLm(int vocab, int max_pos = 64) : vocab_(vocab), max_pos_(max_pos) {}
  int vocab_size() const override { return vocab_; }
  int max_positions() const override { return max_pos_; }
  model::KvCache make_cache(int capacity) const override { return model::KvCache(0, 0, 0, capacity); }
  void forward(std::span<const Token> tokens, model::KvCache& cache, std::span<const int> rows,
               const model::LogitSink& sink) const override {
    std::vector<Token> seq(cache.tokens().begin(), cache.tokens().end());
    const std::size_t base = seq.size();
    seq.insert(seq.end(), tokens.begin(), tokens.end());
    cache.append(tokens);
    for (int r : rows) {
      const auto row = logits(std::span<const Token>(seq.data(), base + static_cast<std::size_t>(r) + 1));
      sink(r, row);
    }
  }
  void decode(std::span<const Token>, std::span<model::KvCache* const>,
              const model::LogitSink&) const override {
    throw std::logic_error("not used");
  }
  std::vector<float> logits(std::span<const Token> prefix) const {
    std::uint64_t h = 1469598103934665603ULL;
    for (Token t : prefix) h = (h ^ static_cast<std::uint64_t>(t + 7)) * 1099511628211ULL;
    std::vector<float> row(static_cast<std::size_t>(vocab_));
    for (int v = 0; v < vocab_; ++v) {
      std::uint64_t x = h ^ (static_cast<std::uint64_t>(v) * 0x9E3779B97F4A7C15ULL);
      x ^= x >> 29;
      x *= 0xBF58476D1CE4E5B9ULL;
      x ^= x >> 32;
      row[static_cast<std::size_t>(v)] = static_cast<float>((x % 10000) / 1000.0);
    }
    return row;
  }

 private:
  int vocab_, max_pos_;
};

// Brute force: score the request on the full input sequence.
tasks::RequestAnswer brute(const ScriptedLm& lm, const TokenRequest& r) {
  std::vector<Token> inp = r.context_ids;
  inp.insert(inp.end(), r.continuation_ids.begin(), r.continuation_ids.end() - 1);
  tasks::RequestAnswer a{0.0, true};
  for (std::size_t j = 0; j < r.continuation_ids.size(); ++j) {
    const std::size_t pos = r.context_ids.size() - 1 + j;
    const auto row = lm.logits(std::span<const Token>(inp.data(), pos + 1));
    const Token t = r.continuation_ids[j];
    a.logprob += static_cast<double>(row[static_cast<std::size_t>(t)]) - model::logsumexp(row);
    a.is_greedy = a.is_greedy && model::argmax(row) == t;
  }
  return a;
}

// Toy encoder: one token per byte (byte value + 1), so token boundaries are predictable.
std::vector<Token> bytes_encode(std::string_view s) {
  std::vector<Token> out;
  for (unsigned char c : s) out.push_back(static_cast<Token>(c) + 1);
  return out;
}

}  // namespace

TEST(EncodeRequest, TrailingWhitespaceMovesIntoContinuation) {
  std::vector<std::string> seen;
  EncodeFn enc = [&](std::string_view s) {
    seen.emplace_back(s);
    return bytes_encode(s);
  };
  const auto r = encode_request(enc, "ab \n", "c", 2048, 0);
  // context "ab", continuation " \nc"
  EXPECT_EQ(r.context_ids, bytes_encode("ab"));
  EXPECT_EQ(r.continuation_ids, bytes_encode(" \nc"));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "ab \nc");  // joint encoding first, as _encode_pair
  EXPECT_EQ(seen[1], "ab");
}

TEST(EncodeRequest, ContinuationIsTailOfJointEncoding) {
  // An encoder that spells " c" as one token 500 only at the start of the text, so the
  // separate encoding of the continuation ([500]) differs from the tail of the joint one.
  EncodeFn enc = [](std::string_view s) {
    if (s == " c") return std::vector<Token>{500};
    return bytes_encode(s);
  };
  const auto r = encode_request(enc, "ab", " c", 2048, 0);
  EXPECT_EQ(r.context_ids, bytes_encode("ab"));
  EXPECT_EQ(r.continuation_ids, bytes_encode(" c"));
}

TEST(EncodeRequest, EmptyContinuationAfterJointEncodingIsDataError) {
  EncodeFn enc = [](std::string_view s) { return std::vector<Token>(s.empty() ? 0 : 1, 5); };
  EXPECT_THROW(encode_request(enc, "abc", " d", 2048, 0), DataError);
}

TEST(EncodeRequest, EmptyContextUsesPrefixToken) {
  const auto r = encode_request(bytes_encode, "", " hi", 2048, 0);
  EXPECT_EQ(r.context_ids, (std::vector<Token>{0}));
  EXPECT_EQ(r.continuation_ids, bytes_encode(" hi"));
  EncodeFn with_eot = [](std::string_view) { return std::vector<Token>{0, 5, 6}; };
  const auto r2 = encode_request(with_eot, "", "x", 2048, 0);
  EXPECT_EQ(r2.context_ids, (std::vector<Token>{0}));
  EXPECT_EQ(r2.continuation_ids, (std::vector<Token>{5, 6}));
}

TEST(EncodeRequest, LeftTruncationKeepsLastMaxLengthPlusOne) {
  const auto r = encode_request(bytes_encode, "abcdefgh", " xy", 6, 0);
  // ctx 8 + cont 3 = 11 tokens, keep 7: drop 4 from the left.
  EXPECT_EQ(r.truncated_left, 4);
  EXPECT_EQ(r.context_ids, bytes_encode("efgh"));
  EXPECT_EQ(r.continuation_ids, bytes_encode(" xy"));
  EXPECT_THROW(encode_request(bytes_encode, "a", " too long", 4, 0), DataError);
}

TEST(RollingWindows, SpecSmallIllustration) {
  std::vector<Token> t(10);
  std::iota(t.begin(), t.end(), 100);
  const Token P = 0;
  const auto w = rolling_windows(t, 4, P);
  ASSERT_EQ(w.size(), 3u);
  // inputs [P,0,1,2]->0-3; [3,4,5,6]->4-7; [5,6,7,8]->8,9 (last two positions)
  EXPECT_EQ(w[0].context_ids, (std::vector<Token>{P}));
  EXPECT_EQ(w[0].continuation_ids, (std::vector<Token>{100, 101, 102, 103}));
  EXPECT_EQ(w[1].context_ids, (std::vector<Token>{103}));
  EXPECT_EQ(w[1].continuation_ids, (std::vector<Token>{104, 105, 106, 107}));
  EXPECT_EQ(w[2].context_ids, (std::vector<Token>{105, 106, 107}));
  EXPECT_EQ(w[2].continuation_ids, (std::vector<Token>{108, 109}));
  EXPECT_TRUE(rolling_windows({}, 4, P).empty());
}

TEST(RollingWindows, SpecN5000) {
  std::vector<Token> t(5000);
  std::iota(t.begin(), t.end(), 0);
  const auto w = rolling_windows(t, 2048, -1);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].continuation_ids.size(), 2048u);
  EXPECT_EQ(w[1].context_ids, (std::vector<Token>{2047}));
  EXPECT_EQ(w[1].continuation_ids.front(), 2048);
  EXPECT_EQ(w[1].continuation_ids.back(), 4095);
  // window 3: input t2951..t4998, targets t4096..t4999 (904)
  EXPECT_EQ(w[2].continuation_ids.size(), 904u);
  EXPECT_EQ(w[2].context_ids.front(), 2951);
  EXPECT_EQ(w[2].context_ids.size() + w[2].continuation_ids.size() - 1, 2048u);
  std::size_t scored = 0;
  for (const auto& x : w) scored += x.continuation_ids.size();
  EXPECT_EQ(scored, 5000u);
}

TEST(ScoreRequests, MatchesBruteForceAndIgnoresThreadCount) {
  const ScriptedLm lm(37);
  std::vector<TokenRequest> reqs;
  std::vector<std::int64_t> keys;
  // doc 0: three choices sharing a context; doc 1: two contexts (winogrande-like); doc 2: 1-token.
  for (int c = 0; c < 3; ++c) {
    reqs.push_back({{1, 2, 3, 4}, {static_cast<Token>(5 + c), 6, static_cast<Token>(7 + c)}, 0});
    keys.push_back(0);
  }
  reqs.push_back({{1, 2, 9}, {3, 3}, 0});
  keys.push_back(1);
  reqs.push_back({{1, 2, 8}, {3, 3}, 0});
  keys.push_back(1);
  reqs.push_back({{4}, {5}, 0});
  keys.push_back(2);
  std::vector<std::vector<tasks::RequestAnswer>> runs;
  for (int threads : {1, 2}) {
    tbb::task_arena arena(threads);
    arena.execute([&] { runs.push_back(score_requests(lm, reqs, keys, nullptr)); });
  }
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto want = brute(lm, reqs[i]);
    EXPECT_NEAR(runs[0][i].logprob, want.logprob, 1e-9) << i;
    EXPECT_EQ(runs[0][i].is_greedy, want.is_greedy) << i;
    EXPECT_EQ(runs[0][i].logprob, runs[1][i].logprob) << i;
    EXPECT_EQ(runs[0][i].is_greedy, runs[1][i].is_greedy) << i;
  }
}

TEST(ScoreRequests, GreedyFlagWhenEveryTokenIsArgmax) {
  const ScriptedLm lm(23);
  // Build a continuation by greedy decoding, so is_greedy must be true.
  std::vector<Token> seq{3, 1};
  std::vector<Token> cont;
  for (int k = 0; k < 4; ++k) {
    const auto row = lm.logits(seq);
    const Token t = model::argmax(row);
    cont.push_back(t);
    seq.push_back(t);
  }
  std::vector<TokenRequest> reqs{{{3, 1}, cont, 0}};
  std::vector<std::int64_t> keys{0};
  const auto a = score_requests(lm, reqs, keys, nullptr);
  EXPECT_TRUE(a[0].is_greedy);
  reqs[0].continuation_ids.back() = (cont.back() + 1) % 23;
  EXPECT_FALSE(score_requests(lm, reqs, keys, nullptr)[0].is_greedy);
}
