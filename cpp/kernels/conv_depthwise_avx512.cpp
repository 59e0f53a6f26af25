// cpp/kernels/conv_depthwise_avx512.cpp — the AVX-512 copy of the blocked depthwise kernels
// (conv_depthwise_impl.h). This file alone is built with -mavx512f; conv_depthwise.cpp calls it
// only when the GEMM's ISA choice (blas::active_isa) is AVX-512.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 flags _mm512_undefined_ps inside intrinsics
#endif
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/conv_depthwise_isa.h"

namespace keras_cpp {
namespace convk {
namespace dwk {
namespace {
#include "kernels/conv_depthwise_impl.h"
}  // namespace

void forward_rows_avx512(const ConvGeom& g, const float* x, const float* w, float* y, const blas::Epilogue<float>& ep, int64_t r0,
                    int64_t r1, bool stream) {
  if (stream) by_shape<FwdStreamFn>(g, x, w, y, ep, r0, r1);
  else by_shape<FwdFn>(g, x, w, y, ep, r0, r1);
}

void dgrad_rows_avx512(const ConvGeom& g, const float* gy, const float* w, float* gx, int64_t r0, int64_t r1) {
  by_shape<DgradFn>(g, gy, w, gx, r0, r1);
}

void wgrad_rows_avx512(const ConvGeom& g, const float* x, const float* gy, float* acc, int64_t r0, int64_t r1) {
  by_shape<WgradFn>(g, x, gy, acc, r0, r1);
}

}  // namespace dwk
}  // namespace convk
}  // namespace keras_cpp
