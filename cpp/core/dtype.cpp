// cpp/core/dtype.cpp — dtype names, sizes, promotion, and half-float conversion.
#include "keras_cpp/dtype.h"

#include <cstring>

#include "keras_cpp/error.h"

namespace keras_cpp {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::float16: return "float16";
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int8: return "int8";
    case DType::int16: return "int16";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::uint8: return "uint8";
    case DType::bool_: return "bool";
  }
  return "?";
}

DType dtype_from_name(const std::string& n) {
  static const DType all[] = {DType::float16, DType::float32, DType::float64, DType::int8, DType::int16,
                              DType::int32,   DType::int64,   DType::uint8,   DType::bool_};
  for (DType t : all)
    if (n == dtype_name(t)) return t;
  if (n == "half") return DType::float16;
  if (n == "float") return DType::float32;
  if (n == "double") return DType::float64;
  throw TypeError("Unknown dtype: '" + n +
                  "' (expected one of float16, float32, float64, int8, int16, int32, int64, uint8, bool)");
}

bool is_floating(DType t) { return t == DType::float16 || t == DType::float32 || t == DType::float64; }
bool is_integer(DType t) {
  return t == DType::int8 || t == DType::int16 || t == DType::int32 || t == DType::int64 || t == DType::uint8;
}

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::bool_) return b;
  if (b == DType::bool_) return a;
  if (is_floating(a) && is_floating(b)) return dtype_size(a) >= dtype_size(b) ? a : b;
  if (is_floating(a)) return a;
  if (is_floating(b)) return b;
  // Both integers.
  bool ua = a == DType::uint8, ub = b == DType::uint8;
  if (ua != ub) {
    DType s = ua ? b : a;  // the signed one
    return dtype_size(s) > 1 ? s : DType::int16;
  }
  return dtype_size(a) >= dtype_size(b) ? a : b;
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (absx < 0x38800000u) {  // subnormal or zero: round to nearest even
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t e = absx >> 23, m = (absx & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;  // 14 - (e - 112)
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = absx - 0x38000000u;  // rebias
  uint32_t mant = r & 0x1fff;
  r >>= 13;
  if (mant > 0x1000 || (mant == 0x1000 && (r & 1))) ++r;
  return static_cast<uint16_t>(sign | r);
}

}  // namespace keras_cpp
