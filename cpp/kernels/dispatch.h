// cpp/kernels/dispatch.h — one place that turns a runtime DType into a C++ type.
// Usage: dispatch(t, [&](auto tag) { using T = decltype(tag); ... });
#pragma once
#include <cstdint>

#include "keras_cpp/dtype.h"
#include "keras_cpp/error.h"

namespace keras_cpp {

// float16 storage: kernels convert to float32 to compute (no half arithmetic anywhere).
struct half {
  uint16_t bits = 0;
  half() = default;
  explicit half(float f) : bits(float_to_half(f)) {}
  explicit operator float() const { return half_to_float(bits); }
  static half from_bits(uint16_t b) {
    half h;
    h.bits = b;
    return h;
  }
};
static_assert(sizeof(half) == 2, "half is stored as its 16 bits");

template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  switch (t) {
    case DType::float16: return f(half{});
    case DType::float32: return f(float{});
    case DType::float64: return f(double{});
    case DType::int8: return f(int8_t{});
    case DType::int16: return f(int16_t{});
    case DType::int32: return f(int32_t{});
    case DType::int64: return f(int64_t{});
    case DType::uint8: return f(uint8_t{});
    case DType::bool_: return f(bool{});
  }
  throw TypeError("unknown dtype");
}

// Floating types only (float16 is computed in float32 by the caller converting first).
template <class F>
decltype(auto) dispatch_float(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::float32: return f(float{});
    case DType::float64: return f(double{});
    default: throw TypeError(std::string("[") + op + "] expected a float32/float64 tensor, got " + dtype_name(t));
  }
}

template <class T> struct dtype_of;
template <> struct dtype_of<half> { static constexpr DType value = DType::float16; };
template <> struct dtype_of<float> { static constexpr DType value = DType::float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::float64; };
template <> struct dtype_of<int8_t> { static constexpr DType value = DType::int8; };
template <> struct dtype_of<int16_t> { static constexpr DType value = DType::int16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::int64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::uint8; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::bool_; };

// Conversions that go through float for half and saturate nothing (numpy's astype semantics).
template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    if constexpr (std::is_same_v<From, half>) return static_cast<float>(v) != 0.0f;
    else return v != From(0);
  } else if constexpr (std::is_same_v<From, half>) return static_cast<To>(static_cast<float>(v));
  else if constexpr (std::is_same_v<To, half>) return half(static_cast<float>(v));
  else return static_cast<To>(v);
}

}  // namespace keras_cpp
