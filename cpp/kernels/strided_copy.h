// cpp/kernels/strided_copy.h — same-dtype copies between strided views (transpose/permute, concatenate,
// tile/repeat, pad, reverse and every contiguous() go through it). Rows are memcpy'd when both
// sides are contiguous, a transposed pair of axes is copied in cache-sized tiles (8x8 AVX2
// register transposes for 4-byte elements), a broadcast (stride 0) axis is written once and then
// replicated with memcpy, and the outer axes are split over threads for large copies.
#pragma once
#include <cstddef>
#include <cstdint>

#include "keras_cpp/shape.h"

namespace keras_cpp {

// dst[idx] = src[idx] for every index of `shape`; strides in elements (any sign, 0 for a
// broadcast source), elements of `elem_size` bytes (1, 2, 4 or 8). dst must not overlap src.
void strided_copy(const void* src, const Shape& src_strides, void* dst, const Shape& dst_strides, const Shape& shape,
                  size_t elem_size);

// Joins contiguous sources row by row: destination row r (of `rows`) is source 0's row r (row_bytes[0]
// bytes), then source 1's row r, and so on, so the destination is written once, in order.
void concat_rows(const void* const* srcs, const int64_t* row_bytes, int nsrc, void* dst, int64_t rows);

}  // namespace keras_cpp
