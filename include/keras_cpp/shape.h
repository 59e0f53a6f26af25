// keras_cpp/shape.h — shapes, with -1 for a dimension unknown until run time (Keras `None`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "small_dims.h"

namespace keras_cpp {

// A shape (or a tensor's strides): std::vector<int64_t>'s interface with up to 6 dims held
// inline, so making, copying and dropping a tensor allocates nothing for its shape and strides
// (small_dims.h). Converts to and from std::vector<int64_t> implicitly.
using Shape = SmallDims;
constexpr int64_t kUnknownDim = -1;

std::string shape_str(const Shape& s);  // "(2, None, 3)"
inline bool shape_known(const Shape& s) {  // inline, as shape_numel: asked several times per op
  for (int64_t d : s)
    if (d < 0) return false;
  return true;
}

// Checked size arithmetic. Dims come from users (2**62, products of dims), so element counts,
// byte sizes and size formulas go through these: a result that does not fit in int64 throws
// ValueError ("[op] ..." when op is given) instead of wrapping. Arguments must be >= 0.
int64_t checked_mul(int64_t a, int64_t b, const char* op = nullptr);
int64_t checked_add(int64_t a, int64_t b, const char* op = nullptr);
// Element count; -1 if any dim is unknown. Throws when the known dims' product overflows.
// Inline for the common case (all dims > 0, no overflow); the rest goes to shape_numel_general.
int64_t shape_numel_general(const Shape& s, const char* op);
inline int64_t shape_numel(const Shape& s, const char* op = nullptr) {
  int64_t n = 1;
  for (int64_t d : s)
    if (d <= 0 || __builtin_mul_overflow(n, d, &n)) return shape_numel_general(s, op);
  return n;
}
// Bytes of a contiguous tensor of shape s (all dims known) with `itemsize`-byte elements.
int64_t shape_nbytes(const Shape& s, size_t itemsize, const char* op = nullptr);
// Throws when the known dims of s alone already need more than 2**63-1 bytes (infer results).
void check_shape_size(const Shape& s, size_t itemsize, const char* op);
// numpy broadcasting of two shapes; unknown dims broadcast optimistically. Throws ValueError
// naming `op` when they cannot broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Normalize a possibly negative axis for a tensor of rank `ndim`; throws ValueError naming op.
int normalize_axis(int64_t axis, int ndim, const char* op, const char* arg = "axis");
// Normalize a list of axes (sorted, unique). Empty list means "no axes".
std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* op);

}  // namespace keras_cpp
