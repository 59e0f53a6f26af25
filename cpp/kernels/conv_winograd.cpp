// cpp/kernels/conv_winograd.cpp — Winograd F(4x4, 3x3) (Lavin & Gray's matrices): the input
// transform V = B^T d B per tile and channel, 36 products M = V U on the micro-kernels, the output
// transform Y = A^T M A with the epilogue. Transforms run over 8 channels at a time in plain
// loops the compiler vectorises.
#include "kernels/conv_winograd.h"

#include <algorithm>
#include <cstring>

#include "kernels/gemm_kernels.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace convk {
namespace {

// Channels per transform step: one 32-byte vector of the GCC vector extension (a ymm register on
// the AVX2 baseline; wider types there get split through the stack).
constexpr int CV = 8;
typedef float v16 __attribute__((vector_size(32)));

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline v16 load(const float* p, int n) {
  v16 r = {};
  if (n == CV) std::memcpy(&r, p, sizeof(r));  // one unaligned vector load
  else std::memcpy(&r, p, n * sizeof(float));
  return r;
}
inline void store(float* p, v16 v, int n) {
  if (n == CV) std::memcpy(p, &v, sizeof(v));
  else std::memcpy(p, &v, n * sizeof(float));
}

// B^T d for one 6-vector of channel vectors.
inline void bt6(const v16* d, v16* t) {
  t[0] = 4 * d[0] - 5 * d[2] + d[4];
  t[1] = -4 * (d[1] + d[2]) + d[3] + d[4];
  t[2] = 4 * (d[1] - d[2]) - d[3] + d[4];
  t[3] = 2 * (d[3] - d[1]) - d[2] + d[4];
  t[4] = 2 * (d[1] - d[3]) - d[2] + d[4];
  t[5] = 4 * d[1] - 5 * d[3] + d[5];
}

// A^T m for one 6-vector.
inline void at6(const v16* m, v16* o) {
  const v16 s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  o[0] = m[0] + s12 + s34;
  o[1] = d12 + 2 * d34;
  o[2] = s12 + 4 * s34;
  o[3] = d12 + 8 * d34 + m[5];
}

// A applied to one 4-vector (the adjoint of the output transform): 4 -> 6.
inline void a6(const v16* y, v16* m) {
  const v16 s02 = y[0] + y[2], s13 = y[1] + y[3], t02 = y[0] + 4 * y[2], t13 = 2 * y[1] + 8 * y[3];
  m[0] = y[0];
  m[1] = s02 + s13;
  m[2] = s02 - s13;
  m[3] = t02 + t13;
  m[4] = t02 - t13;
  m[5] = y[3];
}

// dM = A dY A^T of output tile (n, th, tw) for channels [k0, k0+cw) of gy into dM[xi*ms].
void transform_grad(const ConvGeom& g, const float* gy, int64_t K, int64_t n, int64_t th, int64_t tw, int64_t k0, int cw,
                    float* dM, int64_t ms) {
  v16 d[4][4], t[6][4];
  const int64_t OH = g.out[1], OW = g.out[2];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const int64_t h = th * 4 + i, w = tw * 4 + j;
      d[i][j] = h >= OH || w >= OW ? v16{} : load(gy + ((n * OH + h) * OW + w) * K + k0, cw);
    }
  for (int j = 0; j < 4; ++j) {
    v16 col[4] = {d[0][j], d[1][j], d[2][j], d[3][j]}, r[6];
    a6(col, r);
    for (int i = 0; i < 6; ++i) t[i][j] = r[i];
  }
  for (int i = 0; i < 6; ++i) {
    v16 r[6];
    a6(t[i], r);
    for (int j = 0; j < 6; ++j) store(dM + (i * 6 + j) * ms, r[j], cw);
  }
}

// Input transform of tile (n, th, tw) for channels [c0, c0+cw) into V[xi*vs] (xi = 0..35).
void transform_input(const ConvGeom& g, const float* x, int64_t n, int64_t th, int64_t tw, int64_t c0, int cw, float* V,
                     int64_t vs) {
  v16 d[6][6], t[6][6];
  const int64_t H = g.in[1], W = g.in[2], C = g.C, h0 = th * 4 - g.pb[1], w0 = tw * 4 - g.pb[2];
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      const int64_t h = h0 + i, w = w0 + j;
      d[i][j] = h < 0 || h >= H || w < 0 || w >= W ? v16{} : load(x + ((n * H + h) * W + w) * C + c0, cw);
    }
  for (int j = 0; j < 6; ++j) {  // along the first index
    v16 col[6] = {d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]}, r[6];
    bt6(col, r);
    for (int i = 0; i < 6; ++i) t[i][j] = r[i];
  }
  for (int i = 0; i < 6; ++i) {  // then along the second
    v16 r[6];
    bt6(t[i], r);
    for (int j = 0; j < 6; ++j) store(V + (i * 6 + j) * vs, r[j], cw);
  }
}

// Output transform of tile (n, th, tw) for output channels [k0, k0+cw) from M[xi*ms], with the
// epilogue, clipped to the output.
void transform_output(const ConvGeom& g, const float* M, int64_t ms, int64_t n, int64_t th, int64_t tw, int64_t k0, int cw,
                      int64_t K, float* y, const blas::Epilogue<float>& ep) {
  v16 t[4][6], o[4][4];
  for (int j = 0; j < 6; ++j) {
    v16 col[6], r[4];
    for (int i = 0; i < 6; ++i) col[i] = load(M + (i * 6 + j) * ms, cw);
    at6(col, r);
    for (int i = 0; i < 4; ++i) t[i][j] = r[i];
  }
  for (int i = 0; i < 4; ++i) at6(t[i], o[i]);
  const v16 bias = ep.bias ? load(ep.bias + k0, cw) : v16{}, zero = {};
  const int64_t OH = g.out[1], OW = g.out[2];
  for (int i = 0; i < 4 && th * 4 + i < OH; ++i)
    for (int j = 0; j < 4 && tw * 4 + j < OW; ++j) {
      float* dst = y + ((n * OH + th * 4 + i) * OW + tw * 4 + j) * K + k0;
      v16 r = o[i][j] + bias;
      if (ep.accumulate) r += load(dst, cw);
      if (ep.act == blas::Act::relu) r = r < zero ? zero : r;  // NaN stays NaN
      store(dst, r, cw);
    }
}

// The xi-th matrix of a block starts xi * stride(...) floats in: a multiple of 4 KB would put the
// 36 entries a transform reads or writes for one tile into the same L1 set.
int64_t stride(int64_t nt, int64_t ch) { return nt * ch + (nt * ch % 1024 == 0 ? 16 : 0) + 16; }

// The 36 products of one block of nt tiles: M[xi] (nt x K) = V[xi] (nt x C) * U[xi].
void products(const WinogradWeights& w, const float* V, float* M, int64_t nt) {
  const auto& ks = blas::detail::kernels_for<float>(w.isa);
  const int MR = ks.mr, NR = ks.nr;
  blas::detail::UkArgs<float> u{};
  u.kc = w.C;
  u.a_rs = w.C;
  u.a_ks = 1;
  u.b_ks = NR;
  u.ldc = w.K;
  for (int xi = 0; xi < 36; ++xi) {
    const float* Vx = V + xi * stride(nt, w.C);
    float* Mx = M + xi * stride(nt, w.K);
    const int64_t nb = ceil_div(nt, MR);
    for (int64_t b = 0, i0 = 0; b < nb; ++b) {
      const int mr = static_cast<int>((nt - i0) / (nb - b));
      for (int64_t jr = 0; jr < w.K; jr += NR) {
        u.nr = static_cast<int>(std::min<int64_t>(NR, w.K - jr));
        u.a = Vx + i0 * w.C;
        u.b = w.u[xi]->panel(0, jr);
        u.c = Mx + i0 * w.K + jr;
        ks.row[2 * u.nr <= NR][mr - 1](u);
      }
      i0 += mr;
    }
  }
}

// Start fetching the next tile's pixels (its 6x6 input window; with `write` 1 its 4x4 output
// pixels for writing, 2 for reading), every 64-byte line of their ch channels.
void prefetch_tile(const ConvGeom& g, const float* base, int64_t tt, int64_t per, int64_t TW, int64_t ch, int write) {
  const int64_t n = tt / per, th = (tt % per) / TW, tw = tt % TW;
  const int64_t H = write ? g.out[1] : g.in[1], W = write ? g.out[2] : g.in[2], size = write ? 4 : 6;
  const int64_t h0 = th * 4 - (write ? 0 : g.pb[1]), w0 = tw * 4 - (write ? 0 : g.pb[2]);
  for (int64_t i = std::max<int64_t>(0, h0); i < std::min(H, h0 + size); ++i) {
    const int64_t wa = std::max<int64_t>(0, w0), wb = std::min(W, w0 + size);
    const char* p = reinterpret_cast<const char*>(base + ((n * H + i) * W + wa) * ch);
    for (int64_t off = 0; off < (wb - wa) * ch * int64_t(sizeof(float)); off += 64)
      write == 1 ? __builtin_prefetch(p + off, 1) : __builtin_prefetch(p + off, 0);
  }
}

struct Scratch {
  std::vector<float> v, m;
};
thread_local Scratch t_wino;

}  // namespace

bool winograd_fits(const ConvGeom& g, int64_t Cout) {
  return g.in[0] == 1 && g.k[0] == 1 && g.k[1] == 3 && g.k[2] == 3 && g.unit_stride() && g.d[1] == 1 && g.d[2] == 1 &&
         g.G == 1 && g.C >= 16 && Cout >= 16 && g.out[1] >= 4 && g.out[2] >= 4;
}

size_t WinogradWeights::bytes() const {
  size_t b = 0;
  for (auto& p : u) b += p->bytes();
  return b;
}

std::shared_ptr<const WinogradWeights> winograd_weights(const float* w, int64_t C, int64_t Cout, bool flip) {
  auto ww = std::make_shared<WinogradWeights>();
  ww->C = flip ? Cout : C;
  ww->K = flip ? C : Cout;
  ww->isa = blas::active_isa();
  const int64_t Ci = ww->C, Ko = ww->K;
  std::vector<float> U(static_cast<size_t>(36 * Ci * Ko));
  parallel_for(Ci, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, Ko)), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t k = 0; k < Ko; ++k) {
        float gk[3][3], t[6][3];
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b)
            gk[a][b] = flip ? w[(((2 - a) * 3 + (2 - b)) * C + k) * Cout + c] : w[((a * 3 + b) * C + c) * Cout + k];
        for (int b = 0; b < 3; ++b) {  // G g along the first index
          const float g0 = gk[0][b], g1 = gk[1][b], g2 = gk[2][b];
          t[0][b] = g0 / 4; t[1][b] = -(g0 + g1 + g2) / 6; t[2][b] = -(g0 - g1 + g2) / 6;
          t[3][b] = g0 / 24 + g1 / 12 + g2 / 6; t[4][b] = g0 / 24 - g1 / 12 + g2 / 6; t[5][b] = g2;
        }
        for (int i = 0; i < 6; ++i) {  // then G^T along the second
          const float g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];
          const float r[6] = {g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6, g0 / 24 + g1 / 12 + g2 / 6, g0 / 24 - g1 / 12 + g2 / 6, g2};
          for (int j = 0; j < 6; ++j) U[((i * 6 + j) * Ci + c) * Ko + k] = r[j];
        }
      }
  });
  for (int xi = 0; xi < 36; ++xi) ww->u.push_back(blas::pack_b<float>(Ci, Ko, U.data() + xi * Ci * Ko, Ko, 1, Ci));
  return ww;
}

void winograd_kernel_grad(const ConvGeom& g, const float* x, const float* gy, int64_t K, float* gw) {
  const int64_t C = g.C, TH = ceil_div(g.out[1], 4), TW = ceil_div(g.out[2], 4), per = TH * TW, total = g.N * per;
  const int64_t tb = 48;  // tiles per block: V and dM (36 x tiles x (C + K)) stay in L2
  const int64_t nblocks = ceil_div(total, tb);
  // Per thread: dU[xi] (C x K) = sum over tiles of V[xi]^T dM[xi], then gw = G^T dU G.
  auto parts = parallel_for_scratch(nblocks, 1, [&] { return std::vector<float>(static_cast<size_t>(36 * C * K), 0.f); },
                                    [&](std::vector<float>& dU, int64_t b0, int64_t b1) {
    Scratch& s = t_wino;
    s.v.resize(static_cast<size_t>(36 * stride(tb, C)));
    s.m.resize(static_cast<size_t>(36 * stride(tb, K)));
    blas::Epilogue<float> acc;
    acc.accumulate = true;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t0 = b * tb, nt = std::min(tb, total - t0);
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t tt = t0 + t, n = tt / per, th = (tt % per) / TW, tw = tt % TW;
        if (tt + 1 < total) {
          prefetch_tile(g, x, tt + 1, per, TW, C, 0);
          prefetch_tile(g, gy, tt + 1, per, TW, K, 2);
        }
        for (int64_t c0 = 0; c0 < C; c0 += CV)
          transform_input(g, x, n, th, tw, c0, static_cast<int>(std::min<int64_t>(CV, C - c0)), s.v.data() + t * C + c0, stride(nt, C));
        for (int64_t k0 = 0; k0 < K; k0 += CV)
          transform_grad(g, gy, K, n, th, tw, k0, static_cast<int>(std::min<int64_t>(CV, K - k0)), s.m.data() + t * K + k0, stride(nt, K));
      }
      for (int xi = 0; xi < 36; ++xi)
        blas::gemm<float>(C, K, nt, s.v.data() + xi * stride(nt, C), 1, C, s.m.data() + xi * stride(nt, K), K, 1,
                          dU.data() + xi * C * K, K, acc);
    }
  });
  std::vector<float> dU(static_cast<size_t>(36 * C * K), 0.f);
  for (auto& p : parts)
    for (size_t i = 0; i < dU.size(); ++i) dU[i] += p[i];
  // gw[kh, kw, c, k] = (G^T dU[., ., c, k] G)[kh][kw]
  auto gt = [](const float* u, int64_t st, float* r) {  // G^T u: 6 -> 3
    r[0] = u[0] / 4 - (u[st] + u[2 * st]) / 6 + (u[3 * st] + u[4 * st]) / 24;
    r[1] = (u[2 * st] - u[st]) / 6 + (u[3 * st] - u[4 * st]) / 12;
    r[2] = (u[3 * st] + u[4 * st] - u[st] - u[2 * st]) / 6 + u[5 * st];
  };
  for (int64_t ck = 0; ck < C * K; ++ck) {
    float t[3][6], r[3];
    for (int j = 0; j < 6; ++j) {
      float col[6];
      for (int i = 0; i < 6; ++i) col[i] = dU[(i * 6 + j) * C * K + ck];
      gt(col, 1, r);
      for (int a = 0; a < 3; ++a) t[a][j] = r[a];
    }
    for (int a = 0; a < 3; ++a) {
      gt(t[a], 1, r);
      for (int b = 0; b < 3; ++b) gw[(a * 3 + b) * C * K + ck] = r[b];
    }
  }
}

void winograd_forward(const ConvGeom& g, const float* x, const WinogradWeights& w, float* y, const blas::Epilogue<float>& ep) {
  const int64_t C = w.C, K = w.K, TH = ceil_div(g.out[1], 4), TW = ceil_div(g.out[2], 4), per = TH * TW, total = g.N * per;
  // Tiles per block: the transformed inputs and products (36 x tiles x (C + K) floats) in ~1 MB.
  const int64_t mr = blas::detail::kernels_for<float>(w.isa).mr;
  const int64_t tb = std::max<int64_t>(mr, std::min<int64_t>(8 * mr, (int64_t(1) << 18) / (36 * (C + K)) / mr * mr));
  const int64_t nblocks = ceil_div(total, tb);
  parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
    Scratch& s = t_wino;
    s.v.resize(static_cast<size_t>(36 * stride(tb, C)));
    s.m.resize(static_cast<size_t>(36 * stride(tb, K)));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t0 = b * tb, nt = std::min(tb, total - t0);
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t tt = t0 + t, n = tt / per, th = (tt % per) / TW, tw = tt % TW;
        if (t + 1 < total - t0) prefetch_tile(g, x, tt + 1, per, TW, C, 0);
        for (int64_t c0 = 0; c0 < C; c0 += CV)
          transform_input(g, x, n, th, tw, c0, static_cast<int>(std::min<int64_t>(CV, C - c0)), s.v.data() + t * C + c0, stride(nt, C));
      }
      products(w, s.v.data(), s.m.data(), nt);
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t tt = t0 + t, n = tt / per, th = (tt % per) / TW, tw = tt % TW;
        if (t + 1 < total - t0) prefetch_tile(g, y, tt + 1, per, TW, K, 1);
        for (int64_t k0 = 0; k0 < K; k0 += CV)
          transform_output(g, s.m.data() + t * K + k0, stride(nt, K), n, th, tw, k0, static_cast<int>(std::min<int64_t>(CV, K - k0)), K, y, ep);
      }
    }
  });
}

}  // namespace convk
}  // namespace keras_cpp
