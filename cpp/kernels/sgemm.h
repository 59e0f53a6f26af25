// cpp/kernels/sgemm.h — our float32/float64 GEMM (GotoBLAS/BLIS style): operands packed into
// cache-sized panels (or read in place where reuse is low), a register-blocked FMA micro-kernel
// (AVX-512 or AVX2, chosen once at run time from the CPU), blocking sized from the CPU's caches,
// tiles of C claimed by the threads of parallel.h, a GEMV path for vector operands, and an
// epilogue (accumulate, bias, activation) applied to each finished block of C.
// Operands are read through (row stride, column stride) pairs: transposed and padded views need no copy.
#pragma once
#include <cstdint>
#include <memory>

#include "kernels/cpu_isa.h"

namespace keras_cpp {
namespace blas {

using keras_cpp::Isa;
using keras_cpp::isa_name;
// The micro-kernels gemm uses now: AVX-512 when the CPU has it, unless the environment variable
// KERAS_CPP_ISA=avx2 (read once, at first use) asks for the AVX2 kernels.
Isa active_isa();
bool cpu_has(Isa isa);       // whether this CPU (and this build) can run that ISA's kernels
void force_isa(Isa isa);     // test hook: use that ISA (ignored when unsupported)
void reset_isa();            // back to the automatic choice

enum class Act : uint8_t { none, relu };

// What is done to each block of C as it is finished, in this order: C = (accumulate ? C : add ?
// D : 0) + A*B, then + bias[j] on column j (bias has N entries), then the activation. D (M x N,
// D(i, j) = add[i*ldd + j]) is read in the store, so a strided addend needs no copy into C; it
// may be C itself but must not otherwise overlap it. `add` is honoured by gemm only (not by the
// convolution kernels that share this struct).
template <class T>
struct Epilogue {
  bool accumulate = false;
  const T* bias = nullptr;
  Act act = Act::none;
  const T* add = nullptr;
  int64_t ldd = 0;
};

// B (K x N) packed once into the micro-kernel's panel layout, to be reused by many products
// (a weight matrix across calls). Valid for the ISA it was packed for (gemm checks, and packs
// again on the fly if the ISA has changed since).
template <class T>
struct PackedB {
  int64_t K = 0, N = 0, kc = 0;  // kc: the k slice the panels were cut at
  int nr = 0;                     // panel width
  Isa isa = Isa::avx2;
  std::unique_ptr<T[], void (*)(void*)> data{nullptr, nullptr};
  size_t bytes() const;
  // The panel of columns [j, j + nr) in the k slice starting at pc (j a multiple of nr).
  const T* panel(int64_t pc, int64_t j) const {
    return data.get() + pc * ((N + nr - 1) / nr * nr) + j * (kc < K - pc ? kc : K - pc);
  }
};

// Pack B(p, j) = b[p*rsb + j*csb] for the active ISA, in k slices of kc (0: the blocking's kc;
// >= K: one slice, each panel all of K, as the implicit-GEMM convolution reads them).
template <class T>
std::shared_ptr<const PackedB<T>> pack_b(int64_t K, int64_t N, const T* b, int64_t rsb, int64_t csb, int64_t kc = 0);

// C (M x N, row-major, row stride ldc) = A * B with the epilogue, where A(i, p) = a[i*rsa + p*csa]
// and B(p, j) = b[p*rsb + j*csb]. K == 0 gives C = epilogue(0). Threads are used for large
// products when not already inside a parallel_for (then it runs on the calling thread).
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t rsb, int64_t csb,
          T* c, int64_t ldc, const Epilogue<T>& ep = {});
// The same with a pre-packed B.
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t rsa, int64_t csa, const PackedB<T>& b, T* c, int64_t ldc,
          const Epilogue<T>& ep = {});

inline void sgemm(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb,
                  int64_t csb, float* c, int64_t ldc) {
  gemm<float>(M, N, K, a, rsa, csa, b, rsb, csb, c, ldc);
}

// Data cache sizes in bytes (per core for L1/L2), read from the CPU at first use.
struct CacheSizes {
  int64_t l1 = 0, l2 = 0, l3 = 0;
};
const CacheSizes& cache_sizes();

// The blocking gemm uses for an ISA and element size: micro-tile mr x nr, k slice kc, B block
// width nc (kc x nc stays in L2), A block height mc.
struct Blocking {
  int mr = 0, nr = 0;
  int64_t kc = 0, nc = 0, mc = 0;
};
Blocking blocking(Isa isa, bool f64);

// Measured float32 FMA throughput (GFLOP/s) of one core with that ISA's vectors over ~seconds
// (0 when the ISA is not available): the peak a GEMM is compared with.
double fma_peak(Isa isa, double seconds);

}  // namespace blas
}  // namespace keras_cpp
