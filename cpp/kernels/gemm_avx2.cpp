// cpp/kernels/gemm_avx2.cpp — the AVX2 micro-kernels (float 6x16, double 6x8: 12 ymm accumulators,
// 2 B loads and 1 broadcast in flight) and GEMV bodies, built for the x86-64-v3 baseline. Builds
// without AVX2 get the portable traits (plain loops) with the same shapes.
#include "kernels/gemm_kernels.h"

namespace keras_cpp {
namespace blas {
namespace detail {

#if defined(__AVX2__) && defined(__FMA__)
KernelSet<float> avx2_kernels_f32() { return make_set<V256f, 6, 2>(); }
KernelSet<double> avx2_kernels_f64() { return make_set<V256d, 6, 2>(); }
double fma_peak_avx2(double seconds) { return fma_probe<V256f, 12>(seconds); }
#else
KernelSet<float> avx2_kernels_f32() { return make_set<VGen<float>, 4, 2>(); }
KernelSet<double> avx2_kernels_f64() { return make_set<VGen<double>, 4, 2>(); }
double fma_peak_avx2(double) { return 0.0; }
#endif

}  // namespace detail
}  // namespace blas
}  // namespace keras_cpp
