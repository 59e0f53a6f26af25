// cpp/kernels/gemm.h — one GEMM call over row-major (or transposed) operands in place, shared by
// matmul and the convolutions. float32/float64 run on our own packed GEMM (sgemm.h) with its
// epilogue; integer types on a plain loop (gemm_int.cpp, compiled once: integer products are
// rare in models), spread over row blocks of C. Both use the thread pool only when not already
// inside a parallel_for.
#pragma once
#include <cstdint>
#include <type_traits>

#include "keras_cpp/tensor.h"
#include "kernels/parallel.h"
#include "kernels/sgemm.h"

namespace keras_cpp {

// How one 2-D operand sits in memory: row-major (possibly padded), or a transpose of one.
struct MatView {
  bool transposed = false;  // stored as the row-major transpose
  int64_t ld = 0;           // leading dimension of the stored row-major matrix
  int64_t rs() const { return transposed ? 1 : ld; }  // element (i, j) at i*rs() + j*cs()
  int64_t cs() const { return transposed ? ld : 1; }
};

// The view of t's last two axes, if they can be read as a (possibly transposed) matrix.
inline bool mat_view(const Tensor& t, MatView& v) {
  int nd = t.ndim();
  int64_t r = t.shape()[nd - 2], c = t.shape()[nd - 1], sr = t.strides()[nd - 2], sc = t.strides()[nd - 1];
  if ((sc == 1 || c == 1) && (sr >= c || r == 1)) { v.transposed = false; v.ld = r == 1 ? c : sr; return true; }
  if ((sr == 1 || r == 1) && (sc >= r || c == 1)) { v.transposed = true; v.ld = c == 1 ? r : sc; return true; }
  return false;
}

// Integer C (M x N) = A * B (or += when accumulate), wrapping on overflow as TF's int matmul;
// defined for int8/int16/int32/int64/uint8 in gemm_int.cpp.
template <class T>
void int_gemm(const T* a, const MatView& va, const T* b, const MatView& vb, T* c, int64_t M, int64_t K, int64_t N,
              int64_t ldc, bool accumulate);

template <class T>
constexpr bool kBlasType = std::is_same_v<T, float> || std::is_same_v<T, double>;

// C (M x N, row stride ldc) = epilogue(A (M x K) * B (K x N)); for integer types only the
// epilogue's accumulate flag and addend are supported (the addend copied into C first).
template <class T>
void gemm(const T* a, const MatView& va, const T* b, const MatView& vb, T* c, int64_t M, int64_t K, int64_t N, int64_t ldc,
          const blas::Epilogue<T>& ep) {
  if (ldc < 0) ldc = N;
  if constexpr (kBlasType<T>) {
    blas::gemm<T>(M, N, K, a, va.rs(), va.cs(), b, vb.rs(), vb.cs(), c, ldc, ep);
  } else {
    const bool from_d = ep.add && !ep.accumulate;
    if (from_d && ep.add != c)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) c[i * ldc + j] = ep.add[i * ep.ldd + j];
    int_gemm<T>(a, va, b, vb, c, M, K, N, ldc, ep.accumulate || from_d);
  }
}

// C = A * B, or C += A * B when `accumulate`.
template <class T>
void gemm(const T* a, const MatView& va, const T* b, const MatView& vb, T* c, int64_t M, int64_t K, int64_t N,
          int64_t ldc = -1, bool accumulate = false) {
  blas::Epilogue<T> ep;
  ep.accumulate = accumulate;
  gemm<T>(a, va, b, vb, c, M, K, N, ldc, ep);
}

}  // namespace keras_cpp
