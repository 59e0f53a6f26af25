// cpp/kernels/gemm_kernels.h — the GEMM micro-kernels and GEMV bodies as templates over a small
// SIMD traits type, so one source serves AVX2 (gemm_avx2.cpp, the build's baseline) and AVX-512
// (gemm_avx512.cpp, compiled with AVX-512 flags). Internal to the kernels; the driver is gemm.cpp.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "kernels/sgemm.h"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace keras_cpp {
namespace blas {
namespace detail {

// Everything one micro-kernel call needs: C[mr x nr] (row stride ldc) = (load_c ? C : 0) + A*B,
// then + bias[j] and the activation when given (the epilogue of the last k slice). With d set,
// load_c reads the addend from d (row stride ldd) instead of C: the first k slice of C = D + A*B.
// A(r, p) = a[r*a_rs + p*a_ks] (packed: a_rs = 1, a_ks = MR); B(p, j) = b[p*b_ks + j] (packed:
// b_ks = NR; a row-major B read in place: its row stride). B rows may be read past nr up to NR.
// With nseg > 0 the k range is nseg segments of kc steps, segment s reading A from a + a_off[s]
// and B from b + b_off[s] (an implicit-GEMM convolution: one segment per kernel row).
template <class T>
struct UkArgs {
  int64_t kc;
  const T* a;
  int64_t a_rs, a_ks;
  const T* b;
  int64_t b_ks;
  T* c;
  int64_t ldc;
  int nr;
  bool load_c;
  const T* bias;
  Act act;
  int nseg;
  const int64_t* a_off;
  const int64_t* b_off;
  const T* d;
  int64_t ldd;
};

// The micro-kernels of one ISA and type: col[w][m-1] reads A with unit row stride (packed
// panels, or a transposed A in place), row[w][m-1] with unit k stride (a row-major A in place),
// m = 1..mr; w = 0 computes nr columns, w = 1 only nr/2 (for a ragged last panel).
template <class T>
struct KernelSet {
  int mr = 0, nr = 0;
  // rowseg also has kernels for mr < m <= seg_mr (seg_mr >= mr): an implicit-GEMM convolution's
  // interior runs read A in place, so they need no MR-row packing and can use every register
  // (26 interior pixels: 2 blocks of 13 rather than 3 of 8-9).
  int seg_mr = 0;
  void (*col[2][16])(const UkArgs<T>&) = {};
  void (*row[2][16])(const UkArgs<T>&) = {};
  void (*rowseg[2][16])(const UkArgs<T>&) = {};  // row / col mode over k segments (UkArgs::nseg)
  void (*colseg[2][16])(const UkArgs<T>&) = {};
  // C[mr x nr] for nr <= 4 with A read in place row-major and B's columns packed as rows.
  void (*dot_tail)(const UkArgs<T>& g, int mr) = nullptr;
  // y[j] (j < n, stride incy) = (load ? y : 0) + sum_p x[p] * B(p, j) with B rows contiguous
  // (axpy form: b[p*ldb + j]) or columns contiguous (dot form: b[j*ldb + p]); x contiguous.
  void (*gemv_axpy)(int64_t k, int64_t n, const T* x, const T* b, int64_t ldb, T* y, bool load) = nullptr;
  void (*gemv_dot)(int64_t k, int64_t n, const T* x, const T* b, int64_t ldb, T* y, int64_t incy, bool load) = nullptr;
};

// The kernels of an ISA (built once).
template <class T>
const KernelSet<T>& kernels_for(Isa isa);

// FMA throughput of this core: float32 GFLOP/s of independent FMA chains over ~`seconds` of
// wall time (the best of short rounds, so a busy machine's descheduling mostly drops out).
double fma_peak_avx2(double seconds);
double fma_peak_avx512(double seconds);

KernelSet<float> avx2_kernels_f32();
KernelSet<double> avx2_kernels_f64();
KernelSet<float> avx512_kernels_f32();   // mr == 0 when not compiled
KernelSet<double> avx512_kernels_f64();
bool avx512_compiled();

// ---------------------------------------------------------------- SIMD traits
#if defined(__AVX512F__)
struct V512f {
  using T = float;
  using R = __m512;
  static constexpr int L = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_load_ps(p); }
  static R loadu(const T* p) { return _mm512_loadu_ps(p); }
  static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R relu(R x) { return _mm512_max_ps(zero(), x); }  // NaN stays NaN (max returns x)
  static void storeu(T* p, R v) { _mm512_storeu_ps(p, v); }
  static R load_n(const T* p, int n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
  static void store_n(T* p, R v, int n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v); }
  static T hsum(R v) { return _mm512_reduce_add_ps(v); }
  static void hsum4(const R* v, T* out) {  // out[i] = hsum(v[i]), i < 4: halves folded, then hadds
    __m256 h[4];
    for (int i = 0; i < 4; ++i) h[i] = _mm256_add_ps(_mm512_castps512_ps256(v[i]), _mm512_extractf32x8_ps(v[i], 1));
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1)));
  }
};
struct V512d {
  using T = double;
  using R = __m512d;
  static constexpr int L = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_load_pd(p); }
  static R loadu(const T* p) { return _mm512_loadu_pd(p); }
  static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static R relu(R x) { return _mm512_max_pd(zero(), x); }
  static void storeu(T* p, R v) { _mm512_storeu_pd(p, v); }
  static R load_n(const T* p, int n) { return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p); }
  static void store_n(T* p, R v, int n) { _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v); }
  static T hsum(R v) { return _mm512_reduce_add_pd(v); }
  static void hsum4(const R* v, T* out) { for (int i = 0; i < 4; ++i) out[i] = hsum(v[i]); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
// Lane masks for partial loads/stores: 8 - n leading -1s read from the middle of this table.
alignas(64) inline constexpr int32_t kMask32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
struct V256f {
  using T = float;
  using R = __m256;
  static constexpr int L = 8;
  static __m256i mask(int n) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask32 + 8 - n)); }
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const T* p) { return _mm256_load_ps(p); }
  static R loadu(const T* p) { return _mm256_loadu_ps(p); }
  static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R relu(R x) { return _mm256_max_ps(zero(), x); }
  static void storeu(T* p, R v) { _mm256_storeu_ps(p, v); }
  static R load_n(const T* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store_n(T* p, R v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static T hsum(R v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static void hsum4(const R* v, T* out) {  // out[i] = hsum(v[i]), i < 4
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1)));
  }
};
struct V256d {
  using T = double;
  using R = __m256d;
  static constexpr int L = 4;
  static __m256i mask(int n) {  // each double lane takes two -1 ints
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask32 + 8 - 2 * n));
  }
  static R zero() { return _mm256_setzero_pd(); }
  static R load(const T* p) { return _mm256_load_pd(p); }
  static R loadu(const T* p) { return _mm256_loadu_pd(p); }
  static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
  static R relu(R x) { return _mm256_max_pd(zero(), x); }
  static void storeu(T* p, R v) { _mm256_storeu_pd(p, v); }
  static R load_n(const T* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  static void store_n(T* p, R v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  static T hsum(R v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  static void hsum4(const R* v, T* out) { for (int i = 0; i < 4; ++i) out[i] = hsum(v[i]); }
};
#endif

// Portable traits (builds without AVX2): 8 lanes in a plain array the compiler may vectorise.
template <class TT>
struct VGen {
  using T = TT;
  struct R { T v[8]; };
  static constexpr int L = 8;
  static R zero() { return R{}; }
  static R load(const T* p) { R r; for (int i = 0; i < L; ++i) r.v[i] = p[i]; return r; }
  static R loadu(const T* p) { return load(p); }
  static R bcast(const T* p) { R r; for (int i = 0; i < L; ++i) r.v[i] = *p; return r; }
  static R fma(R a, R b, R c) { for (int i = 0; i < L; ++i) c.v[i] += a.v[i] * b.v[i]; return c; }
  static R add(R a, R b) { for (int i = 0; i < L; ++i) a.v[i] += b.v[i]; return a; }
  static R relu(R x) { for (int i = 0; i < L; ++i) x.v[i] = x.v[i] < T(0) ? T(0) : x.v[i]; return x; }
  static void storeu(T* p, R v) { for (int i = 0; i < L; ++i) p[i] = v.v[i]; }
  static R load_n(const T* p, int n) { R r{}; for (int i = 0; i < n; ++i) r.v[i] = p[i]; return r; }
  static void store_n(T* p, R v, int n) { for (int i = 0; i < n; ++i) p[i] = v.v[i]; }
  static T hsum(R v) { T s = 0; for (int i = 0; i < L; ++i) s += v.v[i]; return s; }
  static void hsum4(const R* v, T* out) { for (int i = 0; i < 4; ++i) out[i] = hsum(v[i]); }
};

// ---------------------------------------------------------------- micro-kernel
// Epilogue of one block row: C row cr (nr columns) = (load_c ? row lr : 0) + acc, + bias, activation.
template <class S, int NV>
inline void store_row(const UkArgs<typename S::T>& g, typename S::T* cr, const typename S::T* lr, typename S::R* acc) {
  using R = typename S::R;
  constexpr int L = S::L;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int n = g.nr - v * L;
    if (n <= 0) break;
    R x = acc[v];
    if (n >= L) {
      if (g.load_c) x = S::add(x, S::loadu(lr + v * L));
      if (g.bias) x = S::add(x, S::loadu(g.bias + v * L));
      if (g.act == Act::relu) x = S::relu(x);
      S::storeu(cr + v * L, x);
    } else {
      if (g.load_c) x = S::add(x, S::load_n(lr + v * L, n));
      if (g.bias) x = S::add(x, S::load_n(g.bias + v * L, n));
      if (g.act == Act::relu) x = S::relu(x);
      S::store_n(cr + v * L, x, n);
    }
  }
}

// acc += A (MR x kc) * B (kc x NV*L): MR broadcasts of A and NV vector loads of B per k.
// ROW: A read in place from a row-major matrix (unit k stride); else unit row stride.
template <class S, int MR, int NV, bool ROW>
__attribute__((always_inline)) inline void k_loop(typename S::R (&acc)[MR][NV], const typename S::T* a, int64_t rs,
                                                  int64_t ks, const typename S::T* b, int64_t bs, int64_t kc) {
  using R = typename S::R;
  constexpr int L = S::L;
  if constexpr (ROW) {
    // Row r is read at ap[r / 3] + (r % 3) * rs: base + index * scale addressing needs only
    // ceil(MR / 3) row pointers and rs in registers; with one pointer per row the 12-row kernel
    // ran out of general registers and reloaded row offsets from the stack inside the k loop.
    constexpr int NP = (MR + 2) / 3;
    const typename S::T* ap[NP];
#pragma GCC unroll 8
    for (int i = 0; i < NP; ++i) ap[i] = a + 3 * i * rs;
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p, b += bs) {
      R bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = S::loadu(b + v * L);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const R av = S::bcast(ap[r / 3] + (r % 3) * rs);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = S::fma(av, bv[v], acc[r][v]);
      }
#pragma GCC unroll 8
      for (int i = 0; i < NP; ++i) ++ap[i];
    }
  } else {
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p, b += bs, a += ks) {
      __builtin_prefetch(b + 8 * bs);
      R bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = S::loadu(b + v * L);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const R av = S::bcast(a + r);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = S::fma(av, bv[v], acc[r][v]);
      }
    }
  }
}

// One C[MR x NV*L] block: the k loop (or, SEG, its segments), then the epilogue.
template <class S, int MR, int NV, bool ROW, bool SEG = false>
void ukernel(const UkArgs<typename S::T>& g) {
  using R = typename S::R;
  constexpr int NR = NV * S::L;
  R acc[MR][NV];
  // Where load_c reads: C itself, or the addend D (fetched now, read after the k loop).
  const typename S::T* ld_base = g.d ? g.d : g.c;
  const int64_t ld_rs = g.d ? g.ldd : g.ldc;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = S::zero();
    __builtin_prefetch(g.c + r * g.ldc, 1);
    __builtin_prefetch(g.c + r * g.ldc + NR - 1, 1);
    if (g.d) {
      __builtin_prefetch(g.d + r * g.ldd, 0);
      __builtin_prefetch(g.d + r * g.ldd + NR - 1, 0);
    }
  }
  if constexpr (SEG) {
    for (int s = 0; s < g.nseg; ++s) k_loop<S, MR, NV, ROW>(acc, g.a + g.a_off[s], g.a_rs, g.a_ks, g.b + g.b_off[s], g.b_ks, g.kc);
  } else {
    k_loop<S, MR, NV, ROW>(acc, g.a, g.a_rs, g.a_ks, g.b, g.b_ks, g.kc);
  }
  // A full-width block with no bias or activation (every k slice but the last, and plain
  // products) stores without store_row's per-vector tests: ~200 instructions a call, which
  // cost ~10% when kc is small (tall-skinny and batched products with K = 64).
  if (g.nr == NR && !g.bias && g.act == Act::none) {
    if (g.load_c) {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) S::storeu(g.c + r * g.ldc + v * S::L, S::add(acc[r][v], S::loadu(ld_base + r * ld_rs + v * S::L)));
    } else {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) S::storeu(g.c + r * g.ldc + v * S::L, acc[r][v]);
    }
    return;
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) store_row<S, NV>(g, g.c + r * g.ldc, ld_base + r * ld_rs, acc[r]);
}

// ---------------------------------------------------------------- narrow column tail
// C[mr x nr], nr <= 4, by dot products along k: A rows read in place (A(r, p) = a[r*a_rs + p]),
// B's nr columns packed as rows (B(p, j) = b[j*b_ks + p], 4 rows, unused ones never read).
// All vector lanes do useful work, where the broadcast kernel would fill 4 of its lanes and be
// bound by its one broadcast per row and k step. RG rows at a time: RG x 4 accumulators.
template <class S, int RG>
void dot_rows(const UkArgs<typename S::T>& g, int r0) {
  using T = typename S::T;
  using R = typename S::R;
  constexpr int L = S::L;
  R acc[RG][4];
  for (int i = 0; i < RG; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = S::zero();
  const T* a = g.a + r0 * g.a_rs;
  const int nj = g.nr;
  int64_t p = 0;
  for (; p + L <= g.kc; p += L) {
    R bv[4];
    for (int j = 0; j < 4; ++j) bv[j] = j < nj ? S::loadu(g.b + j * g.b_ks + p) : S::zero();
    for (int i = 0; i < RG; ++i) {
      const R av = S::loadu(a + i * g.a_rs + p);
      for (int j = 0; j < 4; ++j) acc[i][j] = S::fma(av, bv[j], acc[i][j]);
    }
  }
  if (p < g.kc) {
    const int w = static_cast<int>(g.kc - p);
    R bv[4];
    for (int j = 0; j < 4; ++j) bv[j] = j < nj ? S::load_n(g.b + j * g.b_ks + p, w) : S::zero();
    for (int i = 0; i < RG; ++i) {
      const R av = S::load_n(a + i * g.a_rs + p, w);
      for (int j = 0; j < 4; ++j) acc[i][j] = S::fma(av, bv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < RG; ++i) {
    T sum[4];
    S::hsum4(acc[i], sum);
    T* cr = g.c + (r0 + i) * g.ldc;
    const T* lr = g.d ? g.d + (r0 + i) * g.ldd : cr;
    for (int j = 0; j < nj; ++j) {
      T v = (g.load_c ? lr[j] : T(0)) + sum[j] + (g.bias ? g.bias[j] : T(0));
      cr[j] = g.act == Act::relu && v < T(0) ? T(0) : v;  // NaN stays NaN
    }
  }
}

template <class S>
void dot_tail(const UkArgs<typename S::T>& g, int mr) {
  int r = 0;
  for (; r + 4 <= mr; r += 4) dot_rows<S, 4>(g, r);
  switch (mr - r) {
    case 3: dot_rows<S, 3>(g, r); break;
    case 2: dot_rows<S, 2>(g, r); break;
    case 1: dot_rows<S, 1>(g, r); break;
    default: break;
  }
}

// ---------------------------------------------------------------- GEMV
// Axpy form: y (in L1, chunks of 1024 values) += x[p] * row p of B, four rows per pass, so B is
// read row by row in memory order (what the prefetchers and the TLB like) at any width.
template <class S>
void gemv_axpy(int64_t k, int64_t n, const typename S::T* x, const typename S::T* b, int64_t ldb, typename S::T* y,
               bool load) {
  using T = typename S::T;
  using R = typename S::R;
  constexpr int L = S::L;
  constexpr int64_t JC = 1024;
  for (int64_t j0 = 0; j0 < n; j0 += JC) {
    const int64_t jn = n - j0 < JC ? n - j0 : JC, full = jn / L * L;
    const int tail = static_cast<int>(jn - full);
    T* yc = y + j0;
    if (!load)
      for (int64_t j = 0; j < jn; ++j) yc[j] = T(0);
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const T* b0 = b + p * ldb + j0;
      const T *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
      const R x0 = S::bcast(x + p), x1 = S::bcast(x + p + 1), x2 = S::bcast(x + p + 2), x3 = S::bcast(x + p + 3);
      for (int64_t j = 0; j < full; j += L) {
        R acc = S::fma(x0, S::loadu(b0 + j), S::loadu(yc + j));
        acc = S::fma(x1, S::loadu(b1 + j), acc);
        acc = S::fma(x2, S::loadu(b2 + j), acc);
        S::storeu(yc + j, S::fma(x3, S::loadu(b3 + j), acc));
      }
      if (tail) {
        R acc = S::fma(x0, S::load_n(b0 + full, tail), S::load_n(yc + full, tail));
        acc = S::fma(x1, S::load_n(b1 + full, tail), acc);
        acc = S::fma(x2, S::load_n(b2 + full, tail), acc);
        S::store_n(yc + full, S::fma(x3, S::load_n(b3 + full, tail), acc), tail);
      }
    }
    for (; p < k; ++p) {
      const T* b0 = b + p * ldb + j0;
      const R x0 = S::bcast(x + p);
      for (int64_t j = 0; j < full; j += L) S::storeu(yc + j, S::fma(x0, S::loadu(b0 + j), S::loadu(yc + j)));
      if (tail) S::store_n(yc + full, S::fma(x0, S::load_n(b0 + full, tail), S::load_n(yc + full, tail)), tail);
    }
  }
}

// Dot form: 4 columns of B (each contiguous in k) at a time, two accumulators each.
template <class S>
void gemv_dot(int64_t k, int64_t n, const typename S::T* x, const typename S::T* b, int64_t ldb, typename S::T* y,
              int64_t incy, bool load) {
  using T = typename S::T;
  using R = typename S::R;
  constexpr int L = S::L;
  int64_t j = 0;
  auto finish = [&](int64_t jj, T v) { y[jj * incy] = (load ? y[jj * incy] : T(0)) + v; };
  for (; j + 4 <= n; j += 4) {
    const T *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
    R s0 = S::zero(), s1 = S::zero(), s2 = S::zero(), s3 = S::zero();
    int64_t p = 0;
    for (; p + L <= k; p += L) {
      const R xv = S::loadu(x + p);
      s0 = S::fma(xv, S::loadu(b0 + p), s0);
      s1 = S::fma(xv, S::loadu(b1 + p), s1);
      s2 = S::fma(xv, S::loadu(b2 + p), s2);
      s3 = S::fma(xv, S::loadu(b3 + p), s3);
    }
    if (p < k) {
      const int w = static_cast<int>(k - p);
      const R xv = S::load_n(x + p, w);
      s0 = S::fma(xv, S::load_n(b0 + p, w), s0);
      s1 = S::fma(xv, S::load_n(b1 + p, w), s1);
      s2 = S::fma(xv, S::load_n(b2 + p, w), s2);
      s3 = S::fma(xv, S::load_n(b3 + p, w), s3);
    }
    finish(j, S::hsum(s0));
    finish(j + 1, S::hsum(s1));
    finish(j + 2, S::hsum(s2));
    finish(j + 3, S::hsum(s3));
  }
  for (; j < n; ++j) {
    const T* bj = b + j * ldb;
    R s = S::zero();
    int64_t p = 0;
    for (; p + L <= k; p += L) s = S::fma(S::loadu(x + p), S::loadu(bj + p), s);
    if (p < k) s = S::fma(S::load_n(x + p, static_cast<int>(k - p)), S::load_n(bj + p, static_cast<int>(k - p)), s);
    finish(j, S::hsum(s));
  }
}

// FMA chains: NCH independent accumulators (enough to cover FMA latency times ports), rounds of
// `iters` steps timed separately; returns the best rate in GFLOP/s.
template <class S, int NCH>
double fma_probe(double seconds) {
  using R = typename S::R;
  using T = typename S::T;
  T one = T(1), tiny = T(1e-7);
  const R b = S::bcast(&one), c = S::bcast(&tiny);
  R acc[NCH];
  for (int i = 0; i < NCH; ++i) acc[i] = S::zero();
  const int64_t iters = 1 << 16;
  double best = 0, spent = 0;
  while (spent < seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 16
      for (int i = 0; i < NCH; ++i) acc[i] = S::fma(acc[i], b, c);
    }
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spent += dt;
    best = std::max(best, 2.0 * S::L * NCH * iters / dt / 1e9);
  }
  T sink = 0;
  for (int i = 0; i < NCH; ++i) sink += S::hsum(acc[i]);
  return sink == T(-1) ? 0.0 : best;  // sink keeps the work observable
}

// The table of one ISA: micro-kernels for every row count 1..MR, and the GEMV bodies.
template <class S, int MR, int NV, int... I>
KernelSet<typename S::T> make_set(std::integer_sequence<int, I...>) {
  static_assert(NV % 2 == 0, "the half-width kernels need an even vector count");
  KernelSet<typename S::T> k;
  k.mr = MR;
  k.nr = NV * S::L;
  ((k.col[0][I] = &ukernel<S, I + 1, NV, false>), ...);
  ((k.row[0][I] = &ukernel<S, I + 1, NV, true>), ...);
  ((k.col[1][I] = &ukernel<S, I + 1, NV / 2, false>), ...);
  ((k.row[1][I] = &ukernel<S, I + 1, NV / 2, true>), ...);
  ((k.rowseg[0][I] = &ukernel<S, I + 1, NV, true, true>), ...);
  ((k.rowseg[1][I] = &ukernel<S, I + 1, NV / 2, true, true>), ...);
  ((k.colseg[0][I] = &ukernel<S, I + 1, NV, false, true>), ...);
  ((k.colseg[1][I] = &ukernel<S, I + 1, NV / 2, false, true>), ...);
  k.seg_mr = MR;
  k.dot_tail = &dot_tail<S>;
  k.gemv_axpy = &gemv_axpy<S>;
  k.gemv_dot = &gemv_dot<S>;
  return k;
}
template <class S, int MR, int NV>
KernelSet<typename S::T> make_set() {
  return make_set<S, MR, NV>(std::make_integer_sequence<int, MR>{});
}

// Add rowseg kernels for MR < m <= SEG_MR rows (SEG_MR * NV accumulators + NV B vectors + one
// broadcast must fit the vector registers).
template <class S, int MR, int NV, int SEG_MR, int... I>
void add_wide_seg(KernelSet<typename S::T>& k, std::integer_sequence<int, I...>) {
  static_assert(SEG_MR <= 16 && SEG_MR > MR, "wide segment kernels extend the table");
  ((k.rowseg[0][MR + I] = &ukernel<S, MR + I + 1, NV, true, true>), ...);
  ((k.rowseg[1][MR + I] = &ukernel<S, MR + I + 1, NV / 2, true, true>), ...);
  k.seg_mr = SEG_MR;
}
template <class S, int MR, int NV, int SEG_MR>
KernelSet<typename S::T> make_set_wide_seg() {
  KernelSet<typename S::T> k = make_set<S, MR, NV>();
  add_wide_seg<S, MR, NV, SEG_MR>(k, std::make_integer_sequence<int, SEG_MR - MR>{});
  return k;
}

}  // namespace detail
}  // namespace blas
}  // namespace keras_cpp
