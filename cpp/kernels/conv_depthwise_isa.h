// cpp/kernels/conv_depthwise_isa.h — the register-blocked float depthwise kernels (multiplier 1),
// one copy per ISA (conv_depthwise_avx2.cpp, conv_depthwise_avx512.cpp, both from
// conv_depthwise_impl.h); conv_depthwise.cpp picks one by blas::active_isa() and keeps the
// general loops for every other case.
#pragma once
#include <cstdint>

#include "kernels/conv_geom.h"
#include "kernels/sgemm.h"

namespace keras_cpp {
namespace convk {
namespace dwk {

// Kernel widths and strides along the last spatial dim that have a blocked body; dilation 1 there.
inline bool fits(const ConvGeom& g) {
  return (g.k[2] == 3 || g.k[2] == 5) && (g.s[2] == 1 || g.s[2] == 2) && g.d[2] == 1 && g.k[0] * g.k[1] <= 32 &&
         g.G == g.C && g.Cg == 1;
}

// y rows [r0, r1) of the forward (a row: one (n, o0, o1), all of its out[2] pixels and C channels);
// y points at row r0's output, the rows following it contiguously. stream: write the interior
// blocks with non-temporal stores (needs y 64-byte aligned, C % 16 == 0 and no accumulate; the
// caller fences after its last row).
void forward_rows_avx2(const ConvGeom& g, const float* x, const float* w, float* y, const blas::Epilogue<float>& ep, int64_t r0,
                       int64_t r1, bool stream);
void forward_rows_avx512(const ConvGeom& g, const float* x, const float* w, float* y, const blas::Epilogue<float>& ep,
                         int64_t r0, int64_t r1, bool stream);
// gx rows [r0, r1) (a row: one (n, i0, i1)) of the input gradient at stride 2 along the last dim
// (stride 1 runs the forward with the kernel flipped).
void dgrad_rows_avx2(const ConvGeom& g, const float* gy, const float* w, float* gx, int64_t r0, int64_t r1);
void dgrad_rows_avx512(const ConvGeom& g, const float* gy, const float* w, float* gx, int64_t r0, int64_t r1);
// acc (k..., C) += the kernel gradient from gy rows [r0, r1).
void wgrad_rows_avx2(const ConvGeom& g, const float* x, const float* gy, float* acc, int64_t r0, int64_t r1);
void wgrad_rows_avx512(const ConvGeom& g, const float* x, const float* gy, float* acc, int64_t r0, int64_t r1);

}  // namespace dwk
}  // namespace convk
}  // namespace keras_cpp
