// MT19937 as in CPython Modules/_randommodule.c (genrand_uint32, init_genrand, init_by_array),
// which is Matsumoto & Nishimura's mt19937ar.c.
#include "tasks/python_random.h"

#include <bit>
#include <cmath>

namespace pythia::tasks {

namespace {
constexpr std::uint32_t kMatrixA = 0x9908b0dfU;
constexpr std::uint32_t kUpperMask = 0x80000000U;
constexpr std::uint32_t kLowerMask = 0x7fffffffU;
constexpr int kM = 397;
}  // namespace

PythonRandom::PythonRandom(std::uint64_t seed) {
  std::vector<std::uint32_t> key;
  if (seed == 0) {
    key.push_back(0);
  } else {
    while (seed != 0) {
      key.push_back(static_cast<std::uint32_t>(seed & 0xffffffffU));
      seed >>= 32;
    }
  }
  init_by_array(key);
}

void PythonRandom::init_genrand(std::uint32_t s) {
  mt_[0] = s;
  for (int i = 1; i < kN; ++i) {
    mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
  }
  mti_ = kN;
}

void PythonRandom::init_by_array(std::span<const std::uint32_t> key) {
  init_genrand(19650218U);
  int i = 1;
  std::size_t j = 0;
  const std::size_t key_length = key.size();
  for (std::size_t k = (kN > key_length ? kN : key_length); k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
             static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (int k = kN - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) -
             static_cast<std::uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;
}

std::uint32_t PythonRandom::genrand32() {
  std::uint32_t y;
  if (mti_ >= kN) {
    int kk = 0;
    for (; kk < kN - kM; ++kk) {
      y = (mt_[kk] & kUpperMask) | (mt_[kk + 1] & kLowerMask);
      mt_[kk] = mt_[kk + kM] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
    }
    for (; kk < kN - 1; ++kk) {
      y = (mt_[kk] & kUpperMask) | (mt_[kk + 1] & kLowerMask);
      mt_[kk] = mt_[kk + (kM - kN)] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
    }
    y = (mt_[kN - 1] & kUpperMask) | (mt_[0] & kLowerMask);
    mt_[kN - 1] = mt_[kM - 1] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
    mti_ = 0;
  }
  y = mt_[mti_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

double PythonRandom::random() {
  const std::uint32_t a = genrand32() >> 5;
  const std::uint32_t b = genrand32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

std::uint32_t PythonRandom::getrandbits(int k) { return genrand32() >> (32 - k); }

std::uint32_t PythonRandom::randbelow(std::uint32_t n) {
  const int k = std::bit_width(n);
  std::uint32_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

std::vector<std::size_t> PythonRandom::sample_indices(std::size_t n, std::size_t k) {
  std::vector<std::size_t> result(k);
  std::size_t setsize = 21;
  if (k > 5) {
    // 4 ** _ceil(_log(k * 3, 4)); math.log(x, base) is log(x) / log(base) in doubles.
    const double e = std::ceil(std::log(static_cast<double>(k * 3)) / std::log(4.0));
    setsize += static_cast<std::size_t>(1) << (2 * static_cast<int>(e));
  }
  if (n <= setsize) {
    std::vector<std::size_t> pool(n);
    for (std::size_t i = 0; i < n; ++i) pool[i] = i;
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t j = randbelow(static_cast<std::uint32_t>(n - i));
      result[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
  } else {
    std::vector<bool> selected(n, false);
    for (std::size_t i = 0; i < k; ++i) {
      std::size_t j = randbelow(static_cast<std::uint32_t>(n));
      while (selected[j]) j = randbelow(static_cast<std::uint32_t>(n));
      selected[j] = true;
      result[i] = j;
    }
  }
  return result;
}

std::size_t PythonRandom::choice_index(std::size_t n) {
  return static_cast<std::size_t>(std::floor(random() * static_cast<double>(n)));
}

}  // namespace pythia::tasks
