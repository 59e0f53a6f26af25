// cpp/kernels/conv_depthwise_impl.h — the body of the register-blocked depthwise kernels (see
// conv_depthwise_isa.h). Each per-ISA file includes the system headers, then this file inside an
// anonymous namespace: its vectors follow that file's flags (zmm with __AVX512F__, else ymm, else
// one-lane floats), and each copy has internal linkage.
//
// Vectors run over channels (the contiguous NHWC axis). The forward keeps WB output columns in
// registers: each loaded input vector feeds every kernel column that reads it, so a kernel row
// costs (WB-1)*S+KW loads for WB*KW multiply-adds. The kernel gradient keeps the sums of up to 3
// kernel rows x KW columns in registers over a column strip down several output rows (kernel rows
// outside the input read a row of zeros). The strided input gradient gathers each input column's
// taps the same way as the forward. Border columns (window partly outside) go through a per-pixel
// loop; border rows just have fewer kernel rows.

#if defined(__AVX512F__)
struct DV {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int W = 16, WB = 8, GWB = 8;  // lanes, forward and kernel-gradient column blocks
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void stream(float* p, V v) { _mm512_stream_ps(p, v); }
  static V loadm(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void storem(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static Mask mask(int64_t n) { return static_cast<Mask>((1u << n) - 1); }  // the first n < W lanes
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V relu(V a) { return _mm512_max_ps(_mm512_setzero_ps(), a); }  // NaN stays NaN
};
#elif defined(__AVX2__) && defined(__FMA__)
struct DV {
  using V = __m256;
  using Mask = __m256i;
  static constexpr int W = 8, WB = 8, GWB = 4;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void stream(float* p, V v) { _mm256_stream_ps(p, v); }
  static V loadm(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void storem(float* p, V v, Mask m) { _mm256_maskstore_ps(p, m, v); }
  static Mask mask(int64_t n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V relu(V a) { return _mm256_max_ps(_mm256_setzero_ps(), a); }
};
#else  // no x86 vectors: one lane, never a tail
struct DV {
  using V = float;
  using Mask = bool;
  static constexpr int W = 1, WB = 4, GWB = 4;
  static V zero() { return 0.0f; }
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static void stream(float* p, V v) { *p = v; }
  static V loadm(const float* p, Mask) { return *p; }
  static void storem(float* p, V v, Mask) { *p = v; }
  static Mask mask(int64_t) { return true; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V add(V a, V b) { return a + b; }
  static V relu(V a) { return a < 0.0f ? 0.0f : a; }
};
#endif
using V = DV::V;
using Mask = DV::Mask;

template <bool TAIL>
inline V ld(const float* p, Mask m) {
  if constexpr (TAIL) return DV::loadm(p, m);
  else return DV::load(p);
}
// An input vector that feeds several multiply-adds: loaded once into a register (the compiler
// would otherwise fold the load into each of them, and an unaligned one costs twice).
template <bool TAIL>
inline V ld_reg(const float* p, Mask m) {
  V v = ld<TAIL>(p, m);
#if defined(__GNUC__) && (defined(__AVX2__) || defined(__AVX512F__))
  asm("" : "+v"(v));
#endif
  return v;
}
template <bool TAIL>
inline void st(float* p, V v, Mask m) {
  if constexpr (TAIL) DV::storem(p, v, m);
  else DV::store(p, v);
}

// f(integral_constant<int, i>) for i = 0 .. N-1, unrolled at compile time so that arrays of
// vectors indexed by i stay in registers.
template <int N, class F>
inline __attribute__((always_inline)) void unroll(F&& f) {
  if constexpr (N > 0) {
    unroll<N - 1>(f);
    f(std::integral_constant<int, N - 1>{});
  }
}

// The kernel rows of one output row that fall inside the input: input row pointers (column 0,
// channel 0) and their kernel row index a * k[1] + b.
struct Rows {
  int n = 0;
  const float* x[32];
  int64_t k[32];
};

inline void rows_of(const ConvGeom& g, const float* x, int64_t r, Rows& R) {
  const int64_t o1 = r % g.out[1], o0 = r / g.out[1] % g.out[0], n = r / (g.out[1] * g.out[0]);
  R.n = 0;
  for (int64_t a = 0; a < g.k[0]; ++a) {
    const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0];
    if (i0 < 0 || i0 >= g.in[0]) continue;
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1];
      if (i1 < 0 || i1 >= g.in[1]) continue;
      R.x[R.n] = x + ((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] * g.C;
      R.k[R.n++] = a * g.k[1] + b;
    }
  }
}

// Output columns [lo, hi) of the last dim whose window lies inside the input (dilation 1).
inline void interior_cols(const ConvGeom& g, int64_t& lo, int64_t& hi) {
  lo = (g.pb[2] + g.s[2] - 1) / g.s[2];
  const int64_t last = g.in[2] - g.k[2] + g.pb[2];
  hi = last < 0 ? 0 : std::min(last / g.s[2] + 1, g.out[2]);
  lo = std::min(lo, hi);
}

struct Ep {
  const float* bias;  // at the current channel, or null
  bool accumulate, relu;
};

template <bool TAIL, bool NT = false>
inline void finish(V v, float* dst, const Ep& e, Mask m) {
  if (e.accumulate) v = DV::add(v, ld<TAIL>(dst, m));
  if (e.bias) v = DV::add(v, ld<TAIL>(e.bias, m));
  if (e.relu) v = DV::relu(v);
  if constexpr (NT && !TAIL) DV::stream(dst, v);
  else st<TAIL>(dst, v, m);
}

// WB interior output pixels at yp (first input column i2), channels [c, c + W).
template <int KW, int S, int WB, bool TAIL, bool NT = false>
inline void fwd_block(const Rows& R, const float* w, int64_t C, int64_t c, int64_t i2, float* yp, const Ep& e, Mask m) {
  V acc[WB];
  unroll<WB>([&](auto q) { acc[q] = DV::zero(); });
  for (int r = 0; r < R.n; ++r) {
    const float* wp = w + R.k[r] * KW * C + c;
    V wv[KW];
    unroll<KW>([&](auto kw) { wv[kw] = ld<TAIL>(wp + kw * C, m); });
    const float* xp = R.x[r] + i2 * C + c;
    unroll<(WB - 1) * S + KW>([&](auto t) {
      const V xv = ld_reg<TAIL>(xp + t * C, m);
      unroll<KW>([&](auto kw) {
        constexpr int d = decltype(t)::value - decltype(kw)::value;
        if constexpr (d >= 0 && d % S == 0 && d / S < WB) acc[d / S] = DV::fma(xv, wv[kw], acc[d / S]);
      });
    });
  }
  unroll<WB>([&](auto q) { finish<TAIL, NT>(acc[q], yp + q * C, e, m); });
}

// One output pixel j whose window may leave the input: only the taps inside.
template <bool TAIL>
inline void fwd_edge(const ConvGeom& g, const Rows& R, const float* w, int64_t c, int64_t j, float* yp, const Ep& e, Mask m) {
  const int64_t C = g.C, KW = g.k[2];
  V acc = DV::zero();
  for (int r = 0; r < R.n; ++r)
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int64_t i2 = j * g.s[2] + kw - g.pb[2];
      if (i2 >= 0 && i2 < g.in[2]) acc = DV::fma(ld<TAIL>(R.x[r] + i2 * C + c, m), ld<TAIL>(w + (R.k[r] * KW + kw) * C + c, m), acc);
    }
  finish<TAIL>(acc, yp, e, m);
}

// Rows of output handled together: at stride 1 a column strip runs down RG rows before moving
// right, so the input lines it reads are reused from L1 by the next rows' windows. At stride 2
// the rows' windows share less, and reading row after row streams better from memory.
constexpr int RG = 4;
template <int S>
constexpr int rows_together() { return S == 1 ? RG : 1; }

// Column blocks [j0, j1) of WB pixels (or single edge pixels when EDGE), every channel vector, of
// the nr rows R[0..nr) whose outputs start at yr (row i at yr + i * row).
template <int KW, int S, int WB, bool EDGE, bool NT = false>
inline void fwd_cols(const ConvGeom& g, const Rows* R, int nr, const float* w, const blas::Epilogue<float>& ep, int64_t j0,
                     int64_t j1, float* yr) {
  const int64_t C = g.C, full = C - C % DV::W, row = g.out[2] * C;
  const Mask m = DV::mask(C - full);
  auto e = [&](int64_t c) { return Ep{ep.bias ? ep.bias + c : nullptr, ep.accumulate, ep.act == blas::Act::relu}; };
  for (int64_t j = j0; j + WB <= j1; j += WB) {
    const int64_t i2 = j * S - g.pb[2];
    // Ask for the input columns four blocks ahead now: a strip interleaves several input lines at
    // a large stride, which the hardware prefetcher follows late (perf: the block loop waits on its
    // loads). Only a hint, so running past a row's end (into the next row, or past x) is harmless.
    // The first row of the group asks for all of its kernel rows, the others only for their last.
    if constexpr (!EDGE)
      for (int i = 0; i < nr; ++i)
        for (int r = (i == 0 ? 0 : std::max(R[i].n - 1, 0)); r < R[i].n; ++r) {  // R[i].n may be 0 (all padding)
          // As an integer: a pointer past the end of x would be undefined even if never read.
          const uintptr_t p = reinterpret_cast<uintptr_t>(R[i].x[r]) + static_cast<uintptr_t>((i2 + 4 * WB * S) * C * 4);
          for (int64_t b = 0; b < WB * S * C * 4; b += 64) __builtin_prefetch(reinterpret_cast<const void*>(p + b));
        }
    if constexpr (NT) {
      // Streaming: a row's channel blocks one after another, so that the vectors making up each
      // output line are written back to back and leave the write-combining buffers as whole lines.
      for (int i = 0; i < nr; ++i)
        for (int64_t c = 0; c < full; c += DV::W) fwd_block<KW, S, WB, false, true>(R[i], w, C, c, i2, yr + i * row + j * C + c, e(c), m);
    } else {
      for (int64_t c = 0; c < full; c += DV::W)
        for (int i = 0; i < nr; ++i) {
          float* yp = yr + i * row + j * C + c;
          if constexpr (EDGE) fwd_edge<false>(g, R[i], w, c, j, yp, e(c), m);
          else fwd_block<KW, S, WB, false>(R[i], w, C, c, i2, yp, e(c), m);
        }
    }
    if (full < C)
      for (int i = 0; i < nr; ++i) {
        float* yp = yr + i * row + j * C + full;
        if constexpr (EDGE) fwd_edge<true>(g, R[i], w, full, j, yp, e(full), m);
        else fwd_block<KW, S, WB, true>(R[i], w, C, full, i2, yp, e(full), m);
      }
  }
}

template <int KW, int S, bool NT>
void forward_rows_t(const ConvGeom& g, const float* x, const float* w, float* y, const blas::Epilogue<float>& ep, int64_t r0, int64_t r1) {
  int64_t lo, hi;
  interior_cols(g, lo, hi);
  constexpr int B = DV::WB;
  const int64_t nb = lo + (hi - lo) / B * B;
  // The last partial block again as a full block ending at hi (rewriting a few outputs with the
  // same values), unless the outputs are accumulated into.
  const bool overlap = !ep.accumulate && nb < hi && hi - lo >= B;
  const int64_t n4 = !overlap && B > 4 && nb + 4 <= hi ? nb + 4 : nb;
  Rows R[RG];
  for (int64_t rb = r0; rb < r1; rb += rows_together<S>()) {
    const int nr = static_cast<int>(std::min<int64_t>(rows_together<S>(), r1 - rb));
    for (int i = 0; i < nr; ++i) rows_of(g, x, rb + i, R[i]);
    float* yr = y + (rb - r0) * g.out[2] * g.C;  // y: row r0's output
    fwd_cols<KW, S, 1, true>(g, R, nr, w, ep, 0, lo, yr);
    fwd_cols<KW, S, B, false, NT>(g, R, nr, w, ep, lo, nb, yr);
    if (overlap) {
      fwd_cols<KW, S, B, false>(g, R, nr, w, ep, hi - B, hi, yr);
    } else {
      fwd_cols<KW, S, 4, false, NT>(g, R, nr, w, ep, nb, n4, yr);
      fwd_cols<KW, S, 1, false>(g, R, nr, w, ep, n4, hi, yr);
    }
    fwd_cols<KW, S, 1, true>(g, R, nr, w, ep, hi, g.out[2], yr);
  }
}

// acc[r][kw] += x * gy over WB interior output pixels at gp; xr[r]: kernel row r's input at the
// block's first input column.
template <int KW, int S, int WB, int NR, bool TAIL>
inline void wgrad_block(const float* const* xr, const float* gp, int64_t C, V (&acc)[NR][KW], Mask m) {
  V gv[WB];
  unroll<WB>([&](auto q) { gv[q] = ld<TAIL>(gp + q * C, m); });
  unroll<NR>([&](auto r) {
    unroll<(WB - 1) * S + KW>([&](auto t) {
      const V xv = ld_reg<TAIL>(xr[r] + t * C, m);
      unroll<KW>([&](auto kw) {
        constexpr int d = decltype(t)::value - decltype(kw)::value;
        if constexpr (d >= 0 && d % S == 0 && d / S < WB) acc[r][kw] = DV::fma(xv, gv[d / S], acc[r][kw]);
      });
    });
  });
}

// All kernel rows of one output row, invalid ones pointing at a row of zeros (so that every row
// of a group has the same register layout).
struct KRows {
  const float* x[32];
};

inline void krows_of(const ConvGeom& g, const float* x, const float* zero, int64_t r, KRows& K) {
  const int64_t o1 = r % g.out[1], o0 = r / g.out[1] % g.out[0], n = r / (g.out[1] * g.out[0]);
  for (int64_t a = 0, kr = 0; a < g.k[0]; ++a)
    for (int64_t b = 0; b < g.k[1]; ++b, ++kr) {
      const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0], i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1];
      const bool in = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1];
      K.x[kr] = in ? x + ((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] * g.C : zero;
    }
}

// Kernel rows [k0, k0 + NR), channels [c, c + W), over the nr gy rows at gr (row i: K[i]): one
// column strip of WB pixels at a time summed in registers down all nr rows; edge pixels straight
// into out.
template <int KW, int S, int NR, bool TAIL>
void wgrad_group(const ConvGeom& g, const KRows* K, int nr, int k0, const float* gr, int64_t c, int64_t lo, int64_t hi, float* out,
                 Mask m) {
  const int64_t C = g.C, row = g.out[2] * C;
  auto edge = [&](int i, int64_t j) {
    const V gv = ld<TAIL>(gr + i * row + j * C + c, m);
    for (int r = 0; r < NR; ++r)
      for (int64_t kw = 0; kw < KW; ++kw) {
        const int64_t i2 = j * S + kw - g.pb[2];
        if (i2 < 0 || i2 >= g.in[2]) continue;
        float* op = out + ((k0 + r) * KW + kw) * C + c;
        st<TAIL>(op, DV::fma(ld<TAIL>(K[i].x[k0 + r] + i2 * C + c, m), gv, ld<TAIL>(op, m)), m);
      }
  };
  for (int i = 0; i < nr; ++i) {
    for (int64_t j = 0; j < lo; ++j) edge(i, j);
    for (int64_t j = hi; j < g.out[2]; ++j) edge(i, j);
  }
  V acc[NR][KW];
  unroll<NR>([&](auto r) { unroll<KW>([&](auto kw) { acc[r][kw] = DV::zero(); }); });
  auto strips = [&](auto wb, int64_t j0, int64_t j1) {
    constexpr int WB = decltype(wb)::value;
    for (int64_t j = j0; j + WB <= j1; j += WB)
      for (int i = 0; i < nr; ++i) {
        const float* xr[NR];
        for (int r = 0; r < NR; ++r) xr[r] = K[i].x[k0 + r] + (j * S - g.pb[2]) * C + c;
        wgrad_block<KW, S, WB, NR, TAIL>(xr, gr + i * row + j * C + c, C, acc, m);
      }
  };
  const int64_t nb = lo + (hi - lo) / DV::GWB * DV::GWB;
  strips(std::integral_constant<int, DV::GWB>{}, lo, nb);
  strips(std::integral_constant<int, 1>{}, nb, hi);
  unroll<NR>([&](auto r) {
    unroll<KW>([&](auto kw) {
      float* op = out + ((k0 + r) * KW + kw) * C + c;
      st<TAIL>(op, DV::add(ld<TAIL>(op, m), acc[r][kw]), m);
    });
  });
}

// Up to 3 kernel rows at a time (2 for wide kernels on 16 registers).
template <int KW, int S, bool TAIL>
void wgrad_kgroups(const ConvGeom& g, const KRows* K, int nr, const float* gr, int64_t c, int64_t lo, int64_t hi, float* out, Mask m) {
  constexpr int NRMAX = DV::W >= 16 || KW <= 3 ? 3 : 2;
  const int nk = static_cast<int>(g.k[0] * g.k[1]);
  int k0 = 0;
  for (; k0 + NRMAX <= nk; k0 += NRMAX) wgrad_group<KW, S, NRMAX, TAIL>(g, K, nr, k0, gr, c, lo, hi, out, m);
  if (nk - k0 == 2) wgrad_group<KW, S, 2, TAIL>(g, K, nr, k0, gr, c, lo, hi, out, m);
  else if (nk - k0 == 1) wgrad_group<KW, S, 1, TAIL>(g, K, nr, k0, gr, c, lo, hi, out, m);
}

template <int KW, int S>
void wgrad_rows_t(const ConvGeom& g, const float* x, const float* gy, float* out, int64_t r0, int64_t r1) {
  const int64_t C = g.C;
  int64_t lo, hi;
  interior_cols(g, lo, hi);
  const std::vector<float> zero(static_cast<size_t>(g.in[2] * C), 0.0f);
  KRows K[RG];
  for (int64_t rb = r0; rb < r1; rb += rows_together<S>()) {
    const int nr = static_cast<int>(std::min<int64_t>(rows_together<S>(), r1 - rb));
    for (int i = 0; i < nr; ++i) krows_of(g, x, zero.data(), rb + i, K[i]);
    const float* gr = gy + rb * g.out[2] * C;
    for (int64_t c = 0; c < C; c += DV::W) {
      if (c + DV::W <= C) wgrad_kgroups<KW, S, false>(g, K, nr, gr, c, lo, hi, out, DV::mask(0));
      else wgrad_kgroups<KW, S, true>(g, K, nr, gr, c, lo, hi, out, DV::mask(C - c));
    }
  }
}

// ---- input gradient at stride S > 1: gx[i] = sum of gy[o] * w[k] over o*S + k - pb = i.
// The gy rows (and kernel rows) that reach input row r (n, i0, i1).
inline void gy_rows_of(const ConvGeom& g, const float* gy, int64_t r, Rows& R) {
  const int64_t i1 = r % g.in[1], i0 = r / g.in[1] % g.in[0], n = r / (g.in[1] * g.in[0]);
  R.n = 0;
  for (int64_t a = 0; a < g.k[0]; ++a) {
    const int64_t t0 = i0 + g.pb[0] - a * g.d[0];
    if (t0 < 0 || t0 % g.s[0] || t0 / g.s[0] >= g.out[0]) continue;
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t t1 = i1 + g.pb[1] - b * g.d[1];
      if (t1 < 0 || t1 % g.s[1] || t1 / g.s[1] >= g.out[1]) continue;
      R.x[R.n] = gy + ((n * g.out[0] + t0 / g.s[0]) * g.out[1] + t1 / g.s[1]) * g.out[2] * g.C;
      R.k[R.n++] = a * g.k[1] + b;
    }
  }
}

// WB input columns from i2 (with (i2 + pb) % S == 0, so lane q takes the taps kw with
// (q - kw) % S == 0, from gy column o + (q - kw) / S, o = (i2 + pb) / S); gp: gy column o + T0.
template <int KW, int S, int WB, bool TAIL>
inline void dgrad_block(const Rows& R, const float* w, int64_t C, int64_t c, int64_t o, float* gxp, Mask m) {
  constexpr int T0 = -((KW - 1) / S), T1 = (WB - 1) / S;
  V acc[WB];
  unroll<WB>([&](auto q) { acc[q] = DV::zero(); });
  for (int r = 0; r < R.n; ++r) {
    const float* wp = w + R.k[r] * KW * C + c;
    V wv[KW];
    unroll<KW>([&](auto kw) { wv[kw] = ld<TAIL>(wp + kw * C, m); });
    const float* gp = R.x[r] + (o + T0) * C + c;
    unroll<T1 - T0 + 1>([&](auto ti) {
      const V gv = ld_reg<TAIL>(gp + ti * C, m);
      unroll<KW>([&](auto kw) {
        constexpr int q = (decltype(ti)::value + T0) * S + decltype(kw)::value;
        if constexpr (q >= 0 && q < WB) acc[q] = DV::fma(gv, wv[kw], acc[q]);
      });
    });
  }
  unroll<WB>([&](auto q) { st<TAIL>(gxp + q * C, acc[q], m); });
}

// One input column whose taps may leave gy.
template <bool TAIL>
inline void dgrad_edge(const ConvGeom& g, const Rows& R, const float* w, int64_t c, int64_t i2, float* gxp, Mask m) {
  const int64_t C = g.C, KW = g.k[2], S = g.s[2];
  V acc = DV::zero();
  for (int r = 0; r < R.n; ++r)
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int64_t t = i2 + g.pb[2] - kw;
      if (t >= 0 && t % S == 0 && t / S < g.out[2])
        acc = DV::fma(ld<TAIL>(R.x[r] + t / S * C + c, m), ld<TAIL>(w + (R.k[r] * KW + kw) * C + c, m), acc);
    }
  st<TAIL>(gxp, acc, m);
}

template <int KW, int S, bool TAIL>
void dgrad_row(const ConvGeom& g, const Rows& R, const float* w, int64_t c, float* gr, Mask m) {
  constexpr int WB = DV::WB / S * S, T0 = -((KW - 1) / S), T1 = (WB - 1) / S;
  const int64_t C = g.C, pb = g.pb[2];
  // The first block start: (i2 + pb) % S == 0 and its first gy column o + T0 >= 0.
  int64_t lo = std::max<int64_t>(0, (-T0) * S - pb);
  lo += ((S - (lo + pb) % S) % S);
  int64_t i2 = 0;
  for (; i2 < std::min(lo, g.in[2]); ++i2) dgrad_edge<TAIL>(g, R, w, c, i2, gr + i2 * C + c, m);
  for (; i2 + WB <= g.in[2] && (i2 + pb) / S + T1 < g.out[2]; i2 += WB)
    dgrad_block<KW, S, WB, TAIL>(R, w, C, c, (i2 + pb) / S, gr + i2 * C + c, m);
  for (; i2 < g.in[2]; ++i2) dgrad_edge<TAIL>(g, R, w, c, i2, gr + i2 * C + c, m);
}

template <int KW, int S>
void dgrad_rows_t(const ConvGeom& g, const float* gy, const float* w, float* gx, int64_t r0, int64_t r1) {
  const int64_t C = g.C;
  Rows R;
  for (int64_t r = r0; r < r1; ++r) {
    gy_rows_of(g, gy, r, R);
    float* gr = gx + r * g.in[2] * C;
    for (int64_t c = 0; c < C; c += DV::W) {
      if (c + DV::W <= C) dgrad_row<KW, S, false>(g, R, w, c, gr, DV::mask(0));
      else dgrad_row<KW, S, true>(g, R, w, c, gr, DV::mask(C - c));
    }
  }
}

// The (KW, S) instance for g (dwk::fits(g) holds).
template <template <int, int> class Fn, class... A>
void by_shape(const ConvGeom& g, A&&... a) {
  const bool s1 = g.s[2] == 1;
  if (g.k[2] == 3) s1 ? Fn<3, 1>::run(g, a...) : Fn<3, 2>::run(g, a...);
  else s1 ? Fn<5, 1>::run(g, a...) : Fn<5, 2>::run(g, a...);
}

template <int KW, int S>
struct FwdFn {
  template <class... A>
  static void run(const ConvGeom& g, A... a) { forward_rows_t<KW, S, false>(g, a...); }
};
template <int KW, int S>
struct FwdStreamFn {
  template <class... A>
  static void run(const ConvGeom& g, A... a) { forward_rows_t<KW, S, true>(g, a...); }
};
template <int KW, int S>
struct WgradFn {
  template <class... A>
  static void run(const ConvGeom& g, A... a) { wgrad_rows_t<KW, S>(g, a...); }
};
template <int KW, int S>
struct DgradFn {
  template <class... A>
  static void run(const ConvGeom& g, A... a) { dgrad_rows_t<KW, S>(g, a...); }
};
