// PythonRandom: a bit-exact copy of CPython's `random.Random` core (Modules/_randommodule.c,
// Lib/random.py, CPython 3.11) for the calls lm-eval makes: seed(int), random(), choices(k=...)
// without weights, shuffle(), getrandbits(k<=32), and randbelow.
//
// Used by the bootstrap standard error of lm-eval's `bootstrap_stderr` (lm_eval/api/metrics.py,
// v0.4; identical in v0.3 lm_eval/metrics.py): one generator seeded with the chunk number i per
// chunk of 1000 resamples, by v0.3's document shuffle (`random.Random(42).shuffle(docs)`), and by
// the few-shot sampler (`ContextSampler.sample`: `Random(1234).sample(pool, k)`, tasks/fewshot.h).
//
// Thread safety: an object is used by one thread at a time; distinct objects are independent.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace pythia::tasks {

class PythonRandom {
 public:
  // random.Random(seed) for a non-negative integer seed < 2^64: MT19937 init_by_array with the
  // 32-bit little-endian words of |seed| (one word 0 for seed 0), as CPython's random_seed().
  explicit PythonRandom(std::uint64_t seed);

  // genrand_uint32 of MT19937.
  std::uint32_t genrand32();
  // random.random(): (a*2^26 + b) / 2^53 with a = genrand32()>>5, b = genrand32()>>6.
  double random();
  // getrandbits(k) for 1 <= k <= 32: genrand32() >> (32 - k).
  std::uint32_t getrandbits(int k);
  // _randbelow_with_getrandbits(n) for 1 <= n < 2^32: draw getrandbits(n.bit_length()) until < n.
  std::uint32_t randbelow(std::uint32_t n);
  // One index of random.choices(population, k=...) without weights: floor(random() * n), n as
  // a float (Lib/random.py: `n += 0.0; population[floor(random() * n)]`).
  std::size_t choice_index(std::size_t n);

  // random.sample(population, k) on a sequence of n items, as the indices of the items drawn, in
  // draw order (Lib/random.py 3.11: a pool swap for n <= setsize, else rejection of repeats, with
  // setsize = 21 (+ 4^ceil(log(3k, 4)) for k > 5)). REQUIRES: k <= n < 2^32.
  std::vector<std::size_t> sample_indices(std::size_t n, std::size_t k);

  // random.shuffle(x): for i = len-1 down to 1, j = randbelow(i+1), swap x[i], x[j].
  template <typename T>
  void shuffle(std::vector<T>& x) {
    for (std::size_t i = x.size(); i-- > 1;) {
      const std::size_t j = randbelow(static_cast<std::uint32_t>(i + 1));
      std::swap(x[i], x[j]);
    }
  }

 private:
  void init_genrand(std::uint32_t s);
  void init_by_array(std::span<const std::uint32_t> key);
  static constexpr int kN = 624;
  std::array<std::uint32_t, kN> mt_{};
  int mti_ = kN + 1;
};

}  // namespace pythia::tasks
