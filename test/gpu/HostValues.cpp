//===- HostValues.cpp - Host copies of tensors ----------------------------===//

#include "HostValues.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace ssmc::gpu {

/// f32 to bf16, rounding to nearest even (NaN stays a quiet NaN).
static uint16_t floatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

static float bf16ToFloat(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

/// f32 to IEEE f16, rounding to nearest even, with subnormals and overflow to
/// infinity.
static uint16_t floatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) // NaN
    return static_cast<uint16_t>(sign | 0x7e00);
  if (magnitude >= 0x477ff000) // >= 65520 rounds to infinity
    return static_cast<uint16_t>(sign | 0x7c00);
  if (magnitude < 0x38800000) { // below 2^-14: a multiple of 2^-24
    float scaled;
    std::memcpy(&scaled, &magnitude, 4);
    // Exact scaling by a power of two, then the default round-to-even.
    return static_cast<uint16_t>(
        sign | static_cast<uint32_t>(std::nearbyint(scaled * 16777216.0f)));
  }
  // Rebias the exponent (127 -> 15) and round the mantissa to 10 bits; a
  // carry out of the mantissa correctly bumps the exponent.
  const uint32_t rounded = magnitude + 0xfff + ((magnitude >> 13) & 1);
  return static_cast<uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
}

static float halfToFloat(uint16_t value) {
  const uint32_t sign = static_cast<uint32_t>(value & 0x8000) << 16;
  const uint32_t exponent = (value >> 10) & 0x1f;
  const uint32_t mantissa = value & 0x3ff;
  if (exponent == 0) {
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  uint32_t bits =
      sign | (exponent == 31 ? 0x7f800000 | (mantissa << 13)
                             : ((exponent + 112) << 23) | (mantissa << 13));
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

std::vector<uint8_t> encode(const std::vector<double> &values,
                            ssmrt_dtype dtype) {
  std::vector<uint8_t> bytes(values.size() * ssmrt_dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    const float f = static_cast<float>(values[i]);
    if (dtype == SSMRT_F32) {
      std::memcpy(&bytes[4 * i], &f, 4);
      continue;
    }
    const uint16_t h = dtype == SSMRT_F16 ? floatToHalf(f) : floatToBf16(f);
    std::memcpy(&bytes[2 * i], &h, 2);
  }
  return bytes;
}

std::vector<double> decode(const std::vector<uint8_t> &bytes,
                           ssmrt_dtype dtype) {
  std::vector<double> values(bytes.size() / ssmrt_dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == SSMRT_F32) {
      float f;
      std::memcpy(&f, &bytes[4 * i], 4);
      values[i] = f;
      continue;
    }
    uint16_t h;
    std::memcpy(&h, &bytes[2 * i], 2);
    values[i] = dtype == SSMRT_F16 ? halfToFloat(h) : bf16ToFloat(h);
  }
  return values;
}

double quantize(double value, ssmrt_dtype dtype) {
  const float f = static_cast<float>(value);
  switch (dtype) {
  case SSMRT_F32:
    return f;
  case SSMRT_F16:
    return halfToFloat(floatToHalf(f));
  case SSMRT_BF16:
    return bf16ToFloat(floatToBf16(f));
  }
  return f;
}

} // namespace ssmc::gpu
