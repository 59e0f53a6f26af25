// cpp/kernels/gemm_int.cpp — integer GEMM: a cache-friendly loop (not a packed kernel), instantiated
// once here so matmul.cpp does not compile Eigen's GEMM for five integer types.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace {

// Products in the unsigned type: wrap-around without signed-overflow UB.
template <class T>
using Wide = std::make_unsigned_t<std::conditional_t<(sizeof(T) < sizeof(int32_t)), int32_t, T>>;

template <class T>
void rows(const T* a, const MatView& va, const T* b, const MatView& vb, T* c, int64_t i0, int64_t i1, int64_t K,
          int64_t N, int64_t ldc, bool accumulate) {
  using W = Wide<T>;
  const int64_t ars = va.rs(), acs = va.cs(), brs = vb.rs(), bcs = vb.cs();
  for (int64_t i = i0; i < i1; ++i) {
    T* ci = c + i * ldc;
    const T* ai = a + i * ars;
    if (!vb.transposed) {  // rows of B are contiguous: C[i, :] += A[i, k] * B[k, :]
      for (int64_t j = 0; j < N; ++j) if (!accumulate) ci[j] = T(0);
      for (int64_t k = 0; k < K; ++k) {
        const W aik = static_cast<W>(ai[k * acs]);
        const T* bk = b + k * brs;
        for (int64_t j = 0; j < N; ++j) ci[j] = static_cast<T>(static_cast<W>(ci[j]) + aik * static_cast<W>(bk[j]));
      }
    } else {  // columns of B are contiguous: C[i, j] = dot(A[i, :], B[:, j])
      for (int64_t j = 0; j < N; ++j) {
        const T* bj = b + j * bcs;
        W s = accumulate ? static_cast<W>(ci[j]) : W(0);
        for (int64_t k = 0; k < K; ++k) s += static_cast<W>(ai[k * acs]) * static_cast<W>(bj[k]);
        ci[j] = static_cast<T>(s);
      }
    }
  }
}

}  // namespace

template <class T>
void int_gemm(const T* a, const MatView& va, const T* b, const MatView& vb, T* c, int64_t M, int64_t K, int64_t N,
              int64_t ldc, bool accumulate) {
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, N * K));
  parallel_for(M, grain, [&](int64_t i0, int64_t i1) { rows(a, va, b, vb, c, i0, i1, K, N, ldc, accumulate); });
}

#define KERAS_CPP_INT_GEMM(T)                                                                                  \
  template void int_gemm<T>(const T*, const MatView&, const T*, const MatView&, T*, int64_t, int64_t, int64_t, \
                            int64_t, bool);
KERAS_CPP_INT_GEMM(int8_t)
KERAS_CPP_INT_GEMM(int16_t)
KERAS_CPP_INT_GEMM(int32_t)
KERAS_CPP_INT_GEMM(int64_t)
KERAS_CPP_INT_GEMM(uint8_t)
#undef KERAS_CPP_INT_GEMM

}  // namespace keras_cpp
