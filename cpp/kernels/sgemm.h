// cpp/kernels/gemm.h — our float32 GEMM (GotoBLAS/BLIS style): A and B packed into cache-sized
// panels, a register-blocked FMA micro-kernel (AVX-512 12x32 or AVX2 6x16, chosen once at run time
// from the CPU), blocks of C spread over the thread pool of parallel.h. Operands are read through
// (row stride, column stride) pairs, so transposed and padded views need no copy.
#pragma once
#include <cstdint>

namespace keras_cpp {
namespace blas {

// C (M x N, row-major, row stride ldc) = A * B, with A(i,k) = a[i*rsa + k*csa] and
// B(k,j) = b[k*rsb + j*csb]. C is overwritten (beta = 0); K == 0 gives zeros. Threads are used
// for large products when not already inside a parallel_for (then it runs on the calling thread).
void sgemm(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b,
           int64_t rsb, int64_t csb, float* c, int64_t ldc);

enum class Isa { avx2, avx512 };
Isa active_isa();            // the micro-kernel sgemm uses now
bool cpu_has(Isa isa);       // whether this CPU (and this build) can run that micro-kernel
void force_isa(Isa isa);     // test hook: use that micro-kernel (must be supported)
void reset_isa();            // back to the automatic choice

// One micro-kernel: C[MR x NR] (row stride ldc) = (accumulate ? C : 0) + Ap * Bp, where Ap is kc
// columns of MR packed values and Bp kc rows of NR packed values.
struct MicroKernel {
  int mr, nr;
  void (*run)(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate);
};
MicroKernel avx512_kernel();  // defined in gemm_avx512.cpp (compiled with -mavx512f ...)
bool avx512_compiled();       // false when that file was built without AVX-512 support

}  // namespace blas
}  // namespace keras_cpp
