// IEEE binary16 (fp16) and bfloat16 <-> float32 in plain C++ (no SIMD, no tables).
//
// Widening is exact for every bit pattern: fp16 and bf16 values are a subset of fp32, so
// f16_to_f32 / bf16_to_f32 return the same value, including signed zeros, fp16 subnormals
// (normalised in fp32), infinities and NaNs (payload kept: a signalling NaN stays signalling;
// F16C's vcvtph2ps returns it quieted, which no product or sum can tell apart, since an fma
// quiets it anyway). These are the reference the SIMD paths of gemm.cpp and tensor_store.cpp are
// tested against (tests/model/half_weights_test.cpp).
//
// Narrowing (f32_to_f16 / f32_to_bf16) rounds to nearest, ties to even, as torch's .half() and
// .bfloat16() do; used for random weights and tests, never on a checkpoint's values.
#pragma once

#include <bit>
#include <cstdint>

namespace pythia::model {

// fp16 bits -> fp32 bits, exact.
constexpr std::uint32_t f16_to_f32_bits(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    if (man == 0) return sign;  // +-0
    exp = 127 - 15 + 1;         // subnormal: shift the mantissa until its leading 1 is implicit
    while ((man & 0x400u) == 0) {
      man <<= 1;
      --exp;
    }
    man &= 0x3ffu;
    return sign | (exp << 23) | (man << 13);
  }
  if (exp == 31) return sign | 0x7f800000u | (man << 13);  // inf, NaN (payload kept)
  return sign | ((exp + 127 - 15) << 23) | (man << 13);
}

inline float f16_to_f32(std::uint16_t h) { return std::bit_cast<float>(f16_to_f32_bits(h)); }

// bfloat16 is the upper half of a float32.
inline float bf16_to_f32(std::uint16_t h) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

// fp32 -> fp16, round to nearest even; overflow -> inf; NaN -> a quiet NaN with the top payload
// bits.
inline std::uint16_t f32_to_f16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf / NaN
    if (abs == 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (abs < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);  // < 2^-25: rounds to 0
    const std::uint32_t e = abs >> 23;
    const std::uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;  // value = m * 2^(e-150); half subnormal unit 2^-24
    std::uint32_t r = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<std::uint16_t>(sign | r);
  }
  std::uint32_t r = ((abs >> 13) - ((127 - 15) << 10));
  const std::uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // may carry into the exponent: fine
  return static_cast<std::uint16_t>(sign | r);
}

// fp32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN.
inline std::uint16_t f32_to_bf16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  const std::uint32_t r = x + 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>(r >> 16);
}

}  // namespace pythia::model
