// cpp/kernels/gemm_avx512.cpp — the AVX-512 micro-kernels (float 12x32, double 12x16: 24 zmm
// accumulators, 2 B loads and 12 broadcasts per k) and GEMV bodies. This file alone is compiled
// with -mavx512f -mavx512bw -mavx512dq -mavx512vl; gemm.cpp calls it only when the CPU has AVX-512F.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 flags _mm512_undefined_ps inside intrinsics
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "kernels/gemm_kernels.h"

namespace keras_cpp {
namespace blas {
namespace detail {

#if defined(__AVX512F__)
// 14 rows x 2 vectors for the convolutions' in-place segments: 28 accumulators of 32 registers.
KernelSet<float> avx512_kernels_f32() { return make_set_wide_seg<V512f, 12, 2, 14>(); }
KernelSet<double> avx512_kernels_f64() { return make_set_wide_seg<V512d, 12, 2, 14>(); }
double fma_peak_avx512(double seconds) { return fma_probe<V512f, 16>(seconds); }
bool avx512_compiled() { return true; }
#else  // built without AVX-512 flags (non-x86 or another compiler): never chosen
KernelSet<float> avx512_kernels_f32() { return {}; }
KernelSet<double> avx512_kernels_f64() { return {}; }
double fma_peak_avx512(double) { return 0.0; }
bool avx512_compiled() { return false; }
#endif

}  // namespace detail
}  // namespace blas
}  // namespace keras_cpp
