// cpp/kernels/conv_depthwise.cpp — depthwise convolution kernels (see conv_depthwise.h). float
// with multiplier 1 and the shapes of dwk::fits go to the register-blocked per-ISA kernels
// (conv_depthwise_isa.h). Otherwise each output (or input, for its gradient) pixel lists the
// window taps that fall inside the other tensor, then runs over channels in blocks of CB whose
// accumulators stay in registers across the taps. Rows of pixels are the units of parallel work.
#include "kernels/conv_depthwise.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/conv_depthwise_isa.h"
#include "kernels/ew.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace convk {
namespace {

struct Tap {
  int64_t x, w, y;  // element offsets (pixel * channels) into x, w and y (or gy)
};

// Taps of output pixel (n, o0, o1, o2): the inside window positions (forward, kernel gradient).
int out_taps(const ConvGeom& g, int64_t O, int64_t n, int64_t o0, int64_t o1, int64_t o2, Tap* taps) {
  int nt = 0;
  const int64_t yoff = (((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2) * O;
  for (int64_t a = 0, kp = 0; a < g.k[0]; ++a) {
    const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0];
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1];
      for (int64_t c = 0; c < g.k[2]; ++c, ++kp) {
        const int64_t i2 = o2 * g.s[2] + c * g.d[2] - g.pb[2];
        if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
        taps[nt++] = Tap{(((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.C, kp * O, yoff};
      }
    }
  }
  return nt;
}

// Taps of input pixel (n, i0, i1, i2): the output pixels whose windows read it (input gradient).
int in_taps(const ConvGeom& g, int64_t O, int64_t n, int64_t i0, int64_t i1, int64_t i2, Tap* taps) {
  auto hit = [&](int dim, int64_t i, int64_t kk) {
    const int64_t t = i + g.pb[dim] - kk * g.d[dim];
    if (t < 0 || t % g.s[dim]) return int64_t(-1);
    return t / g.s[dim] < g.out[dim] ? t / g.s[dim] : int64_t(-1);
  };
  int nt = 0;
  for (int64_t a = 0, kp = 0; a < g.k[0]; ++a) {
    const int64_t o0 = hit(0, i0, a);
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t o1 = o0 < 0 ? -1 : hit(1, i1, b);
      for (int64_t c = 0; c < g.k[2]; ++c, ++kp) {
        const int64_t o2 = o1 < 0 ? -1 : hit(2, i2, c);
        if (o2 < 0) continue;
        taps[nt++] = Tap{(((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.C, kp * O, (((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2) * O};
      }
    }
  }
  return nt;
}

typedef float v8 __attribute__((vector_size(32)));  // one ymm register on the AVX2 baseline
inline v8 ld(const float* p) { v8 v; __builtin_memcpy(&v, p, sizeof(v)); return v; }
inline void st(float* p, v8 v) { __builtin_memcpy(p, &v, sizeof(v)); }

// out[o] = sum over taps of a[tap.a + o / M] * w[tap.w + o] for o in [0, O), where `a` is x
// (forward) or gy (input gradient, M == 1 there), then the epilogue.
template <class T, bool FROM_X>
void sum_taps(const T* a, const T* w, const Tap* taps, int nt, int64_t O, int64_t M, T* out, const blas::Epilogue<T>& ep) {
  constexpr int CB = 32;
  auto off = [&](const Tap& t) { return FROM_X ? t.x : t.y; };
  int64_t o0 = 0;
  if constexpr (std::is_same_v<T, float>) {
    if (M == 1) {  // 16 channels at a time in two vector registers
      const v8 zero = {};
      for (; o0 + 16 <= O; o0 += 16) {
        v8 a0 = {}, a1 = {};
        for (int t = 0; t < nt; ++t) {
          const float* ap = a + off(taps[t]) + o0;
          const float* wp = w + taps[t].w + o0;
          a0 += ld(ap) * ld(wp);
          a1 += ld(ap + 8) * ld(wp + 8);
        }
        if (ep.accumulate) { a0 += ld(out + o0); a1 += ld(out + o0 + 8); }
        if (ep.bias) { a0 += ld(ep.bias + o0); a1 += ld(ep.bias + o0 + 8); }
        if (ep.act == blas::Act::relu) { a0 = a0 < zero ? zero : a0; a1 = a1 < zero ? zero : a1; }
        st(out + o0, a0);
        st(out + o0 + 8, a1);
      }
    }
  }
  if (M == 1) {
    for (; o0 + CB <= O; o0 += CB) {
      T acc[CB] = {};
      for (int t = 0; t < nt; ++t) {
        const T* ap = a + off(taps[t]) + o0;
        const T* wp = w + taps[t].w + o0;
#pragma GCC unroll 32
        for (int c = 0; c < CB; ++c) acc[c] += ap[c] * wp[c];
      }
      for (int c = 0; c < CB; ++c) {
        T v = acc[c] + (ep.accumulate ? out[o0 + c] : T(0)) + (ep.bias ? ep.bias[o0 + c] : T(0));
        out[o0 + c] = ep.act == blas::Act::relu && v < T(0) ? T(0) : v;
      }
    }
  }
  for (int64_t o = o0; o < O; ++o) {  // channel tail, or any depth multiplier
    T acc = 0;
    for (int t = 0; t < nt; ++t) acc += a[off(taps[t]) + o / M] * w[taps[t].w + o];
    T v = acc + (ep.accumulate ? out[o] : T(0)) + (ep.bias ? ep.bias[o] : T(0));
    out[o] = ep.act == blas::Act::relu && v < T(0) ? T(0) : v;
  }
}

// Output indices [lo, hi) of one dim whose window lies inside the input.
void interior(const ConvGeom& g, int i, int64_t& lo, int64_t& hi) {
  lo = (g.pb[i] + g.s[i] - 1) / g.s[i];
  const int64_t last = g.in[i] - 1 - (g.k[i] - 1) * g.d[i] + g.pb[i];
  hi = last < 0 ? 0 : std::min(last / g.s[i] + 1, g.out[i]);
  lo = std::min(lo, hi);
}

// float, M == 1, an interior run of n output pixels starting at x offset xb (window origin, pixel
// stride xs), y at yp: 4 pixels x 16 channels per step in registers, each tap's weights loaded once.
void dw_run(const float* x, int64_t xb, int64_t xs, const int64_t* toff, int nk, const float* w, int64_t C, int64_t n,
            float* yp, const blas::Epilogue<float>& ep) {
  const v8 zero = {};
  auto finish = [&](float* dst, const float* b, v8 v) {
    if (ep.accumulate) v += ld(dst);
    if (b) v += ld(b);
    if (ep.act == blas::Act::relu) v = v < zero ? zero : v;
    st(dst, v);
  };
  int64_t j = 0;
  for (; j + 4 <= n; j += 4)
    for (int64_t c = 0; c + 16 <= C; c += 16) {
      v8 a[4][2] = {};
      for (int k = 0; k < nk; ++k) {
        const v8 w0 = ld(w + k * C + c), w1 = ld(w + k * C + c + 8);
        const float* xp = x + xb + j * xs + toff[k] + c;
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) { a[q][0] += ld(xp + q * xs) * w0; a[q][1] += ld(xp + q * xs + 8) * w1; }
      }
      for (int q = 0; q < 4; ++q) {
        finish(yp + (j + q) * C + c, ep.bias ? ep.bias + c : nullptr, a[q][0]);
        finish(yp + (j + q) * C + c + 8, ep.bias ? ep.bias + c + 8 : nullptr, a[q][1]);
      }
    }
  for (; j < n; ++j)
    for (int64_t c = 0; c + 16 <= C; c += 16) {
      v8 a0 = {}, a1 = {};
      for (int k = 0; k < nk; ++k) {
        const float* xp = x + xb + j * xs + toff[k] + c;
        a0 += ld(xp) * ld(w + k * C + c);
        a1 += ld(xp + 8) * ld(w + k * C + c + 8);
      }
      finish(yp + j * C + c, ep.bias ? ep.bias + c : nullptr, a0);
      finish(yp + j * C + c + 8, ep.bias ? ep.bias + c + 8 : nullptr, a1);
    }
}

int64_t row_grain(const ConvGeom& g, int64_t O, int64_t width) {
  return std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, width * g.KK() * O));
}

// The register-blocked kernels (conv_depthwise_isa.h) take float, multiplier 1 and the shapes of dwk::fits.
template <class T>
bool blocked(const ConvGeom& g, int64_t M) {
  return std::is_same_v<T, float> && M == 1 && dwk::fits(g);
}
bool use_avx512() { return blas::active_isa() == Isa::avx512; }

}  // namespace

template <class T>
void depthwise_forward(const ConvGeom& g, int64_t M, const T* x, const T* w, T* y, const blas::Epilogue<T>& ep) {
  const int64_t O = g.C * M, rows = g.N * g.out[0] * g.out[1];
  if constexpr (std::is_same_v<T, float>) {
    if (blocked<T>(g, M)) {
      const bool z = use_avx512();
      // A large output goes out with non-temporal stores (ew.h kStreamBytes): plain ones first read
      // each output line, a third of the traffic of this memory-bound loop. Only when every output
      // line lies within one pixel's channels (C % 16 == 0, y 64-byte aligned): the streaming
      // blocks then write a line's vectors back to back and it leaves the write-combining buffers
      // whole (AVX2 halves of a line written far apart were 1.25x slower than plain stores).
      const bool stream = !ep.accumulate && g.C % 16 == 0 && reinterpret_cast<uintptr_t>(y) % 64 == 0 &&
                          rows * g.out[2] * O * int64_t(sizeof(float)) >= ew::kStreamBytes;
      parallel_for(rows, row_grain(g, O, g.out[2]), [&](int64_t r0, int64_t r1) {
        (z ? dwk::forward_rows_avx512 : dwk::forward_rows_avx2)(g, x, w, y + r0 * g.out[2] * O, ep, r0, r1, stream);
        if (stream) ew::stream_fence();
      });
      return;
    }
  }
  int64_t lo[3], hi[3];
  for (int i = 0; i < 3; ++i) interior(g, i, lo[i], hi[i]);
  std::vector<int64_t> toff;  // tap offsets from a window's origin pixel
  for (int64_t a = 0; a < g.k[0]; ++a)
    for (int64_t b = 0; b < g.k[1]; ++b)
      for (int64_t c = 0; c < g.k[2]; ++c) toff.push_back(((a * g.d[0] * g.in[1] + b * g.d[1]) * g.in[2] + c * g.d[2]) * g.C);
  const bool fast = std::is_same_v<T, float> && M == 1 && g.C % 16 == 0;
  parallel_for(rows, row_grain(g, O, g.out[2]), [&](int64_t r0, int64_t r1) {
    std::vector<Tap> taps(static_cast<size_t>(g.KK()));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o1 = r % g.out[1], o0 = r / g.out[1] % g.out[0], n = r / (g.out[1] * g.out[0]);
      const bool row_in = o0 >= lo[0] && o0 < hi[0] && o1 >= lo[1] && o1 < hi[1];
      if constexpr (std::is_same_v<T, float>) {
        if (fast && row_in && hi[2] > lo[2]) {
          const int64_t xb = (((n * g.in[0] + o0 * g.s[0] - g.pb[0]) * g.in[1] + o1 * g.s[1] - g.pb[1]) * g.in[2] + lo[2] * g.s[2] - g.pb[2]) * g.C;
          dw_run(x, xb, g.s[2] * g.C, toff.data(), static_cast<int>(toff.size()), w, g.C, hi[2] - lo[2],
                 y + (((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + lo[2]) * O, ep);
        }
      }
      for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
        if (fast && row_in && o2 == lo[2]) o2 = std::max(o2, hi[2]);
        if (o2 >= g.out[2]) break;
        const int nt = out_taps(g, O, n, o0, o1, o2, taps.data());
        sum_taps<T, true>(x, w, taps.data(), nt, O, M, y + (((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2) * O, ep);
      }
    }
  });
}

template <class T>
void depthwise_grad_input(const ConvGeom& g, int64_t M, const T* gy, const T* w, T* gx) {
  const int64_t O = g.C * M, rows = g.N * g.in[0] * g.in[1];
  if (M == 1 && g.unit_stride()) {
    // The adjoint of a unit-stride depthwise convolution is one over gy with the taps reversed.
    ConvGeom a = g;
    for (int i = 0; i < 3; ++i) {
      a.in[i] = g.out[i];
      a.out[i] = g.in[i];
      a.pb[i] = (g.k[i] - 1) * g.d[i] - g.pb[i];
      a.pa[i] = (g.k[i] - 1) * g.d[i] - g.pa[i];
    }
    const int64_t KK = g.KK();
    std::vector<T> wf(static_cast<size_t>(KK * g.C));
    for (int64_t kp = 0; kp < KK; ++kp) std::copy_n(w + (KK - 1 - kp) * g.C, g.C, wf.data() + kp * g.C);
    return depthwise_forward<T>(a, 1, gy, wf.data(), gx, {});
  }
  if constexpr (std::is_same_v<T, float>) {
    if (blocked<T>(g, M)) {  // strided: each input column gathers its taps in registers
      const bool z = use_avx512();
      parallel_for(rows, row_grain(g, O, g.in[2]), [&](int64_t r0, int64_t r1) {
        (z ? dwk::dgrad_rows_avx512 : dwk::dgrad_rows_avx2)(g, gy, w, gx, r0, r1);
      });
      return;
    }
  }
  parallel_for(rows, row_grain(g, O, g.in[2]), [&](int64_t r0, int64_t r1) {
    std::vector<Tap> taps(static_cast<size_t>(g.KK()));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t i1 = r % g.in[1], i0 = r / g.in[1] % g.in[0], n = r / (g.in[1] * g.in[0]);
      for (int64_t i2 = 0; i2 < g.in[2]; ++i2) {
        const int nt = in_taps(g, O, n, i0, i1, i2, taps.data());
        T* gp = gx + (((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.C;
        if (M == 1) {
          sum_taps<T, false>(gy, w, taps.data(), nt, g.C, 1, gp, {});
          continue;
        }
        for (int64_t c = 0; c < g.C; ++c) {  // gx[c] = sum over taps and m of gy[c*M + m] * w[c*M + m]
          T acc = 0;
          for (int t = 0; t < nt; ++t)
            for (int64_t m = 0; m < M; ++m) acc += gy[taps[t].y + c * M + m] * w[taps[t].w + c * M + m];
          gp[c] = acc;
        }
      }
    }
  });
}

// float, M == 1, the kernel gradient of an interior run of n output pixels (x window origins at
// xb + j*xs, gy at gp): acc[k*C + c] += sum_j x * gy, 8 channels at a time with the up-to-9 tap
// sums in registers.
void dw_grad_run(const float* x, int64_t xb, int64_t xs, const int64_t* toff, int nk, const float* gp, int64_t C, int64_t n,
                 float* acc) {
  for (int64_t c = 0; c + 8 <= C; c += 8) {
    v8 a[9] = {};
    for (int64_t j = 0; j < n; ++j) {
      const v8 gv = ld(gp + j * C + c);
      const float* xp = x + xb + j * xs + c;
#pragma GCC unroll 9
      for (int k = 0; k < 9; ++k)
        if (k < nk) a[k] += ld(xp + toff[k]) * gv;
    }
    for (int k = 0; k < nk; ++k) st(acc + k * C + c, ld(acc + k * C + c) + a[k]);
  }
}

template <class T>
void depthwise_grad_kernel(const ConvGeom& g, int64_t M, const T* x, const T* gy, T* gw) {
  const int64_t O = g.C * M, size = g.KK() * O, rows = g.N * g.out[0] * g.out[1];
  std::fill(gw, gw + size, T(0));
  if constexpr (std::is_same_v<T, float>) {
    if (blocked<T>(g, M)) {
      const bool z = use_avx512();
      auto parts = parallel_for_scratch(rows, row_grain(g, O, g.out[2]), [&] { return std::vector<float>(static_cast<size_t>(size), 0.0f); },
                                        [&](std::vector<float>& acc, int64_t r0, int64_t r1) {
                                          (z ? dwk::wgrad_rows_avx512 : dwk::wgrad_rows_avx2)(g, x, gy, acc.data(), r0, r1);
                                        });
      for (auto& p : parts)
        for (int64_t i = 0; i < size; ++i) gw[i] += p[i];
      return;
    }
  }
  int64_t lo[3], hi[3];
  for (int i = 0; i < 3; ++i) interior(g, i, lo[i], hi[i]);
  std::vector<int64_t> toff;
  for (int64_t a = 0; a < g.k[0]; ++a)
    for (int64_t b = 0; b < g.k[1]; ++b)
      for (int64_t c = 0; c < g.k[2]; ++c) toff.push_back(((a * g.d[0] * g.in[1] + b * g.d[1]) * g.in[2] + c * g.d[2]) * g.C);
  const bool fast = std::is_same_v<T, float> && M == 1 && g.C % 8 == 0 && g.KK() <= 9;
  auto parts = parallel_for_scratch(rows, row_grain(g, O, g.out[2]), [&] { return std::vector<T>(static_cast<size_t>(size), T(0)); },
                                    [&](std::vector<T>& acc, int64_t r0, int64_t r1) {
    std::vector<Tap> taps(static_cast<size_t>(g.KK()));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o1 = r % g.out[1], o0 = r / g.out[1] % g.out[0], n = r / (g.out[1] * g.out[0]);
      const bool row_in = fast && o0 >= lo[0] && o0 < hi[0] && o1 >= lo[1] && o1 < hi[1] && hi[2] > lo[2];
      if constexpr (std::is_same_v<T, float>) {
        if (row_in) {
          const int64_t xb = (((n * g.in[0] + o0 * g.s[0] - g.pb[0]) * g.in[1] + o1 * g.s[1] - g.pb[1]) * g.in[2] + lo[2] * g.s[2] - g.pb[2]) * g.C;
          dw_grad_run(x, xb, g.s[2] * g.C, toff.data(), static_cast<int>(toff.size()),
                      gy + (((n * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + lo[2]) * O, g.C, hi[2] - lo[2], acc.data());
        }
      }
      for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
        if (row_in && o2 == lo[2]) o2 = hi[2];
        if (o2 >= g.out[2]) break;
        const int nt = out_taps(g, O, n, o0, o1, o2, taps.data());
        for (int t = 0; t < nt; ++t) {
          const T* xp = x + taps[t].x;
          const T* gp = gy + taps[t].y;
          T* ap = acc.data() + taps[t].w;
          if (M == 1) {
            for (int64_t c = 0; c < O; ++c) ap[c] += xp[c] * gp[c];
          } else {
            for (int64_t o = 0; o < O; ++o) ap[o] += xp[o / M] * gp[o];
          }
        }
      }
    }
  });
  for (auto& p : parts)
    for (int64_t i = 0; i < size; ++i) gw[i] += p[i];
}

bool separable_fits(const ConvGeom& g) { return dwk::fits(g) && g.C > 0 && g.out[2] > 0; }

void separable_forward(const ConvGeom& g, const float* x, const float* dw, const blas::PackedB<float>& pw, int64_t O, float* y) {
  const int64_t rows = g.N * g.out[0] * g.out[1], W = g.out[2], C = g.C;
  // Rows per GEMM: ~256 pixels (64 KiB at C = 64) stay in L2 between the depthwise pass that
  // writes them and the GEMM that reads them; a multiple of 4 keeps the depthwise row groups whole.
  const int64_t rb = std::max<int64_t>(1, (256 / std::max<int64_t>(1, W) + 3) / 4 * 4);
  const bool z = use_avx512();
  const int64_t grain = std::max<int64_t>(rb, (int64_t(1) << 18) / std::max<int64_t>(1, W * C * (O + 9)));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> buf;
    buf.resize(static_cast<size_t>(rb * W * C));
    for (int64_t r = r0; r < r1; r += rb) {
      const int64_t re = std::min(r1, r + rb);
      (z ? dwk::forward_rows_avx512 : dwk::forward_rows_avx2)(g, x, dw, buf.data(), {}, r, re, false);
      blas::gemm<float>((re - r) * W, O, C, buf.data(), C, 1, pw, y + r * W * O, O, {});
    }
  });
}

#define KERAS_CPP_DW(T)                                                                                        \
  template void depthwise_forward<T>(const ConvGeom&, int64_t, const T*, const T*, T*, const blas::Epilogue<T>&); \
  template void depthwise_grad_input<T>(const ConvGeom&, int64_t, const T*, const T*, T*);                     \
  template void depthwise_grad_kernel<T>(const ConvGeom&, int64_t, const T*, const T*, T*);
KERAS_CPP_DW(float)
KERAS_CPP_DW(double)

}  // namespace convk
}  // namespace keras_cpp
