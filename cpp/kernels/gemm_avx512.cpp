// cpp/kernels/gemm_avx512.cpp — the AVX-512 sgemm micro-kernel (12 rows x 32 columns: 24 zmm
// accumulators, 2 B loads and 12 broadcasts per k). This file alone is compiled with
// -mavx512f -mavx512bw -mavx512dq -mavx512vl; gemm.cpp calls it only when the CPU has AVX-512F.
#include "kernels/sgemm.h"

#if defined(__AVX512F__)
#include <immintrin.h>

namespace keras_cpp {
namespace blas {
namespace {

constexpr int MR = 12, NR = 32;

void kernel_12x32(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate) {
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);  // C is read/written at the end
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
    _mm_prefetch(reinterpret_cast<const char*>(bp + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      __m512 a = _mm512_set1_ps(ap[r]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
    ap += MR;
    bp += NR;
  }
  if (accumulate) {
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
      _mm512_storeu_ps(cr, _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][0]));
      _mm512_storeu_ps(cr + 16, _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc[r][1]));
    }
  } else {
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      _mm512_storeu_ps(c + r * ldc, acc[r][0]);
      _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
  }
}

}  // namespace

MicroKernel avx512_kernel() { return {MR, NR, kernel_12x32}; }
bool avx512_compiled() { return true; }

}  // namespace blas
}  // namespace keras_cpp

#else  // built without AVX-512 flags (non-x86 or another compiler): never chosen

namespace keras_cpp {
namespace blas {
MicroKernel avx512_kernel() { return {0, 0, nullptr}; }
bool avx512_compiled() { return false; }
}  // namespace blas
}  // namespace keras_cpp

#endif
