// cpp/kernels/gemm_pack.h — packing of GEMM operands into the micro-kernels' panel layouts
// (internal to gemm.cpp): strided reads turned into the unit-stride streams the kernels load.
// Transposing packs use 8x8 (float) / 4x4 (double) register transposes where AVX2 is there.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace keras_cpp {
namespace blas {

#if defined(__AVX2__)
// v[i] (8 floats of stream i) -> v[j] = element j of every stream, in stream order.
inline void transpose8(__m256 v[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) { t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]); t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]); }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44); s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44); s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) { v[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20); v[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31); }
}
inline void transpose4(__m256d v[4]) {
  __m256d t0 = _mm256_unpacklo_pd(v[0], v[1]), t1 = _mm256_unpackhi_pd(v[0], v[1]);
  __m256d t2 = _mm256_unpacklo_pd(v[2], v[3]), t3 = _mm256_unpackhi_pd(v[2], v[3]);
  v[0] = _mm256_permute2f128_pd(t0, t2, 0x20); v[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  v[2] = _mm256_permute2f128_pd(t0, t2, 0x31); v[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}
#endif

// dst[p*W + r] = src[r*stride + p] for r < w, p < kc, zeros for w <= r < W: w contiguous streams
// interleaved. Packs a row-major A and a transposed B.
template <class T>
void interleave(const T* src, int64_t stride, int w, int W, int64_t kc, T* dst) {
  int r0 = 0;
#if defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>) {
    for (; r0 + 8 <= w; r0 += 8) {
      int64_t p = 0;
      for (; p + 8 <= kc; p += 8) {
        __m256 v[8];
        for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(src + (r0 + i) * stride + p);
        transpose8(v);
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (p + i) * W + r0, v[i]);
      }
      for (; p < kc; ++p)
        for (int i = 0; i < 8; ++i) dst[p * W + r0 + i] = src[(r0 + i) * stride + p];
    }
    for (; r0 + 4 <= w; r0 += 4) {  // 4 streams: 4x4 transposes
      int64_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        __m128 v0 = _mm_loadu_ps(src + r0 * stride + p), v1 = _mm_loadu_ps(src + (r0 + 1) * stride + p);
        __m128 v2 = _mm_loadu_ps(src + (r0 + 2) * stride + p), v3 = _mm_loadu_ps(src + (r0 + 3) * stride + p);
        _MM_TRANSPOSE4_PS(v0, v1, v2, v3);
        _mm_storeu_ps(dst + p * W + r0, v0);
        _mm_storeu_ps(dst + (p + 1) * W + r0, v1);
        _mm_storeu_ps(dst + (p + 2) * W + r0, v2);
        _mm_storeu_ps(dst + (p + 3) * W + r0, v3);
      }
      for (; p < kc; ++p)
        for (int i = 0; i < 4; ++i) dst[p * W + r0 + i] = src[(r0 + i) * stride + p];
    }
  } else {
    for (; r0 + 4 <= w; r0 += 4) {
      int64_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        __m256d v[4];
        for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_pd(src + (r0 + i) * stride + p);
        transpose4(v);
        for (int i = 0; i < 4; ++i) _mm256_storeu_pd(dst + (p + i) * W + r0, v[i]);
      }
      for (; p < kc; ++p)
        for (int i = 0; i < 4; ++i) dst[p * W + r0 + i] = src[(r0 + i) * stride + p];
    }
  }
#endif
  for (; r0 < w; ++r0)
    for (int64_t p = 0; p < kc; ++p) dst[p * W + r0] = src[r0 * stride + p];
  for (int r = w; r < W; ++r)
    for (int64_t p = 0; p < kc; ++p) dst[p * W + r] = T(0);
}

// dst[0..n) = src[0..n), zeros up to W: one packed row (W <= 64). Vector moves of 32 and 16
// bytes, then single elements: rows are short (6-32 values), so a memcpy call would dominate.
template <class T>
inline void copy_row(const T* src, int n, int W, T* dst) {
  int j = 0;
#if defined(__AVX2__)
  constexpr int L = 32 / sizeof(T);
  for (; j + L <= n; j += L)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j)));
  if (j + L / 2 <= n) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j)));
    j += L / 2;
  }
#endif
  for (; j < n; ++j) dst[j] = src[j];
  for (; j < W; ++j) dst[j] = T(0);
}

// One A micro-panel: the mr x kc block at `a` (element (i,p) at a[i*rs + p*cs]) as kc groups of
// MR consecutive rows (zero-padded past mr): what the micro-kernel broadcasts from.
template <class T>
void pack_a_panel(const T* a, int64_t rs, int64_t cs, int mr, int MR, int64_t kc, T* dst) {
  if (cs == 1) {
    interleave(a, rs, mr, MR, kc, dst);
  } else if (rs == 1) {  // a transposed view: each k step is mr contiguous values
    for (int64_t p = 0; p < kc; ++p) copy_row(a + p * cs, mr, MR, dst + p * MR);
  } else {
    for (int64_t p = 0; p < kc; ++p)
      for (int r = 0; r < MR; ++r) dst[p * MR + r] = r < mr ? a[r * rs + p * cs] : T(0);
  }
}

// The kc x n block at `b` (element (p,j) at b[p*rs + j*cs]) as ceil(n/NR) panels of kc rows of
// NR values (zero-padded past n): what the micro-kernel loads as vectors.
// pack_b_panels for a row-major B and a panel width W known at compile time: the full panels'
// rows are W-value copies with no tail tests. The generic loop (copy_row with run-time widths)
// took ~49 instructions a 16-float row; packing B was 26% of the instructions of an AVX2
// 32x256 @ 256x1024, where each B element is used by only 32 rows of A.
template <class T, int W>
void pack_b_rows(const T* b, int64_t rs, int64_t kc, int64_t n, T* dst) {
  const int64_t full = n / W * W;
  for (int64_t p = 0; p < kc; ++p) {
    const T* src = b + p * rs;
    T* d = dst + p * W;
    int64_t j0 = 0;
    for (; j0 < full; j0 += W, d += W * kc) {
#if defined(__AVX2__)
      constexpr int L = 32 / sizeof(T);
#pragma GCC unroll 4
      for (int j = 0; j < W; j += L)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j0 + j)));
#else
      std::memcpy(d, src + j0, W * sizeof(T));
#endif
    }
    if (j0 < n) copy_row(src + j0, static_cast<int>(n - j0), W, d);
  }
}

template <class T>
void pack_b_panels(const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t n, int NR, T* dst) {
  if (cs == 1) {  // row by row, so the source is read in order (prefetch- and TLB-friendly)
    constexpr int W64 = 64 / sizeof(T);  // the kernels' widths: 2 or 4 vectors of 32 bytes
    if (NR == W64) return pack_b_rows<T, W64>(b, rs, kc, n, dst);
    if (NR == 2 * W64) return pack_b_rows<T, 2 * W64>(b, rs, kc, n, dst);
    if (NR == W64 / 2) return pack_b_rows<T, W64 / 2>(b, rs, kc, n, dst);
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = b + p * rs;
      T* d = dst + p * NR;
      for (int64_t j0 = 0; j0 < n; j0 += NR, d += NR * kc)
        copy_row(src + j0, static_cast<int>(n - j0 < NR ? n - j0 : NR), NR, d);
    }
    return;
  }
  for (int64_t j0 = 0; j0 < n; j0 += NR, dst += NR * kc) {
    const int nr = static_cast<int>(n - j0 < NR ? n - j0 : NR);
    const T* src = b + j0 * cs;
    if (rs == 1) {  // a transposed view: each column is contiguous in k
      interleave(src, cs, nr, NR, kc, dst);
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = j < nr ? src[p * rs + j * cs] : T(0);
    }
  }
}

}  // namespace blas
}  // namespace keras_cpp
