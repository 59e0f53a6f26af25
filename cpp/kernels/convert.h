// cpp/kernels/convert.h — the flat per-element dtype conversion that Tensor::astype runs
// (defined in copy.cpp), for kernels that convert blocks themselves.
#pragma once
#include <cstdint>

#include "keras_cpp/dtype.h"

namespace keras_cpp {

// dst[i] = src[i] converted from `from` to `to`, for i < n (contiguous).
using ConvertFn = void (*)(const void* src, void* dst, int64_t n);
ConvertFn convert_fn(DType from, DType to);

}  // namespace keras_cpp
