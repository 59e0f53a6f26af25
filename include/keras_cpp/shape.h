// keras_cpp/shape.h — shapes, with -1 for a dimension unknown until run time (Keras `None`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace keras_cpp {

using Shape = std::vector<int64_t>;
constexpr int64_t kUnknownDim = -1;

std::string shape_str(const Shape& s);  // "(2, None, 3)"
bool shape_known(const Shape& s);

// Checked size arithmetic. Dims come from users (2**62, products of dims), so element counts,
// byte sizes and size formulas go through these: a result that does not fit in int64 throws
// ValueError ("[op] ..." when op is given) instead of wrapping. Arguments must be >= 0.
int64_t checked_mul(int64_t a, int64_t b, const char* op = nullptr);
int64_t checked_add(int64_t a, int64_t b, const char* op = nullptr);
// Element count; -1 if any dim is unknown. Throws when the known dims' product overflows.
int64_t shape_numel(const Shape& s, const char* op = nullptr);
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
