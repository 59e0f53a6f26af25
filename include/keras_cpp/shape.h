// keras_cpp/shape.h — shapes, with -1 for a dimension unknown until run time (Keras `None`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace keras_cpp {

using Shape = std::vector<int64_t>;
constexpr int64_t kUnknownDim = -1;

std::string shape_str(const Shape& s);  // "(2, None, 3)"
int64_t shape_numel(const Shape& s);    // -1 if any dim is unknown
bool shape_known(const Shape& s);
// numpy broadcasting of two shapes; unknown dims broadcast optimistically. Throws ValueError
// naming `op` when they cannot broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Normalize a possibly negative axis for a tensor of rank `ndim`; throws ValueError naming op.
int normalize_axis(int64_t axis, int ndim, const char* op, const char* arg = "axis");
// Normalize a list of axes (sorted, unique). Empty list means "no axes".
std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* op);

}  // namespace keras_cpp
