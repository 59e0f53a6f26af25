// keras_cpp/dtype.h — element types, named as numpy names them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace keras_cpp {

enum class DType : uint8_t { float16, float32, float64, int8, int16, int32, int64, uint8, bool_ };

// IEEE half stored as its bits; kernels compute it in float32.
struct float16_t {
  uint16_t bits;
};

const char* dtype_name(DType t);                // "float32", "bool", ...
DType dtype_from_name(const std::string& name);  // throws TypeError for unknown names
inline size_t dtype_size(DType t) {  // inline: every kernel and view asks it, several times a call
  switch (t) {
    case DType::float16: case DType::int16: return 2;
    case DType::float32: case DType::int32: return 4;
    case DType::float64: case DType::int64: return 8;
    default: return 1;
  }
}
bool is_floating(DType t);
bool is_integer(DType t);  // signed or unsigned integer (not bool)
// numpy-style promotion for binary arithmetic: float beats int, wider beats narrower.
DType promote_types(DType a, DType b);

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

}  // namespace keras_cpp
