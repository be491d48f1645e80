// Determinism of GptNeox on the vendored fixtures (bit-exact, no tolerance):
//  - forward(): every logit row identical with 1 and 2 TBB threads, also when the sequence is fed
//    in two forward() calls;
//  - decode(): a sequence's logits identical whatever other sequences share the call (alone, all
//    8 together, reversed, subsets), with 1 and 2 threads.
#include <tbb/global_control.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "neox_golden_fixture.h"

namespace pythia::model::testing {
namespace {

std::uint64_t fnv1a(std::span<const float> row) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the 32-bit patterns
  for (const float f : row) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  return h;
}

// Hash of every logit row of a forward pass over `ids`, optionally split into two calls.
std::vector<std::uint64_t> forward_hashes(const GptNeox& m, const std::vector<Token>& ids,
                                          int threads, int split = 0) {
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  std::vector<std::uint64_t> h(ids.size());
  KvCache cache = m.make_cache(static_cast<int>(ids.size()));
  auto run = [&](std::size_t begin, std::size_t end) {
    std::vector<int> rows;
    for (std::size_t i = 0; i < end - begin; ++i) rows.push_back(static_cast<int>(i));
    m.forward(std::span<const Token>(ids).subspan(begin, end - begin), cache, rows,
              [&](int r, std::span<const float> lg) { h[begin + static_cast<std::size_t>(r)] = fnv1a(lg); });
  };
  if (split > 0) {
    run(0, static_cast<std::size_t>(split));
    run(static_cast<std::size_t>(split), ids.size());
  } else {
    run(0, ids.size());
  }
  return h;
}

std::vector<Token> sequence(const std::string& model_name, const std::string& name) {
  const auto seqs = read_json(golden_dir(model_name) / "sequences.json");
  for (const auto& s : seqs["sequences"])
    if (s["name"] == name) return s["ids"].get<std::vector<Token>>();
  return {};
}

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, ForwardIsIndependentOfThreadCount) {
  const GptNeox& m = model(GetParam());
  for (const std::string name : {"len0300", "len2048"}) {
    const auto ids = sequence(GetParam(), name);
    const auto one = forward_hashes(m, ids, 1);
    const auto two = forward_hashes(m, ids, 2);
    int differ = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) differ += one[i] != two[i];
    std::printf("[%s / %s] rows differing between 1 and 2 threads: %d of %zu\n", GetParam().c_str(),
                name.c_str(), differ, ids.size());
    EXPECT_EQ(differ, 0);
    // The same split into two calls, with 1 and 2 threads.
    const auto split1 = forward_hashes(m, ids, 1, 100);
    const auto split2 = forward_hashes(m, ids, 2, 100);
    EXPECT_EQ(split1, split2) << name << ": split forward differs between thread counts";
  }
}

TEST_P(Determinism, DecodeIsIndependentOfBatchComposition) {
  const GptNeox& m = model(GetParam());
  const auto gen = read_json(golden_dir(GetParam()) / "generation.json");
  std::vector<std::vector<Token>> prefixes;
  for (const auto& p : gen["prefixes"]) prefixes.push_back(p["ids"].get<std::vector<Token>>());
  const int n = static_cast<int>(prefixes.size());
  constexpr int kSteps = 12;

  // hashes[prefix][step]
  auto run = [&](const std::vector<int>& which, int threads) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    std::vector<KvCache> caches;
    std::vector<Token> next;
    for (const int w : which) {
      const auto& ids = prefixes[static_cast<std::size_t>(w)];
      caches.push_back(m.make_cache(static_cast<int>(ids.size()) + kSteps));
      Token t = 0;
      m.forward(ids, caches.back(), std::vector<int>{static_cast<int>(ids.size()) - 1},
                [&](int, std::span<const float> lg) { t = argmax(lg, 0); });
      next.push_back(t);
    }
    std::vector<std::vector<std::uint64_t>> h(which.size(), std::vector<std::uint64_t>(kSteps));
    for (int s = 0; s < kSteps; ++s) {
      std::vector<KvCache*> ptrs;
      for (auto& c : caches) ptrs.push_back(&c);
      const std::vector<Token> cur = next;
      m.decode(cur, ptrs, [&](int b, std::span<const float> lg) {
        next[static_cast<std::size_t>(b)] = argmax(lg, 0);
        h[static_cast<std::size_t>(b)][static_cast<std::size_t>(s)] = fnv1a(lg);
      });
    }
    std::map<int, std::vector<std::uint64_t>> by_prefix;
    for (std::size_t k = 0; k < which.size(); ++k) by_prefix[which[k]] = h[k];
    return by_prefix;
  };

  std::vector<int> all(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
  const auto reference = run(all, 2);
  std::vector<std::vector<int>> compositions = {{0}, {3}, {7}, {7, 6, 5, 4, 3, 2, 1, 0}, {1, 5}, {6, 2, 4}};
  int compared = 0, differ = 0;
  for (const int threads : {1, 2}) {
    for (const auto& which : compositions) {
      const auto got = run(which, threads);
      for (const auto& [p, hashes] : got) {
        ++compared;
        if (hashes != reference.at(p)) ++differ;
      }
    }
  }
  std::printf("[%s] decode: %d (sequence, composition, threads) runs compared over %d steps, %d differ\n",
              GetParam().c_str(), compared, kSteps, differ);
  EXPECT_EQ(differ, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, Determinism,
                         ::testing::Values(std::string("pythia-tiny"), std::string("neox-variant")),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string s = param_info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
}  // namespace pythia::model::testing
