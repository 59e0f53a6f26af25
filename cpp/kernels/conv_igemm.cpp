// cpp/kernels/conv_igemm.cpp — the implicit-GEMM convolution driver (see conv_igemm.h): weight
// packing, the split into interior runs (read in place through k segments) and border pixels
// (gathered), and bands of output rows as the units of parallel work.
#include "kernels/conv_igemm.h"

#include <algorithm>
#include <cstring>

#include "kernels/gemm_kernels.h"
#include "kernels/gemm_pack.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace convk {
namespace {

using blas::detail::KernelSet;
using blas::detail::UkArgs;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Cut [0, n) into ceil(n / MR) near-equal blocks (54 pixels: 11,11,11,11,10 rather than a tail
// of 6): a micro-kernel with fewer rows than MR is less efficient.
template <class F>
void blocks(int64_t n, int MR, F&& f) {
  const int64_t nb = ceil_div(n, MR);
  for (int64_t b = 0, start = 0; b < nb; ++b) {
    const int64_t len = (n - start) / (nb - b);
    f(start, static_cast<int>(len));
    start += len;
  }
}

// Output indices [lo, hi) of one dim whose window lies inside the input (no padding read).
void interior(const ConvGeom& g, int i, int64_t& lo, int64_t& hi) {
  lo = ceil_div(g.pb[i], g.s[i]);
  const int64_t last = g.in[i] - 1 - (g.k[i] - 1) * g.d[i] + g.pb[i];  // o*s <= last
  hi = last < 0 ? 0 : last / g.s[i] + 1;
  hi = std::min(hi, g.out[i]);
  lo = std::min(lo, hi);
}

// The patch of output pixel (n, o0, o1, o2) for group grp: Kg values, zeros where it reads padding.
template <class T>
void gather_patch(const T* x, const ConvGeom& g, int64_t n, int64_t o0, int64_t o1, int64_t o2, int64_t grp, T* dst) {
  for (int64_t a = 0; a < g.k[0]; ++a) {
    const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0];
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1];
      for (int64_t c = 0; c < g.k[2]; ++c, dst += g.Cg) {
        const int64_t i2 = o2 * g.s[2] + c * g.d[2] - g.pb[2];
        if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) {
          std::fill(dst, dst + g.Cg, T(0));
        } else {
          const T* src = x + (((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.C + grp * g.Cg;
          std::copy(src, src + g.Cg, dst);
        }
      }
    }
  }
}

template <class T>
struct Plan {
  const ConvGeom& g;
  const T* x;
  const ConvWeights<T>& w;
  T* y;
  const blas::Epilogue<T>& ep;
  const KernelSet<T>& ks;
  int64_t Cout;
  int64_t lo[3], hi[3];
  std::vector<int64_t> a_off, b_off;  // k segments of an interior run
  std::vector<int64_t> seg_a, seg_b;  // each segment's kernel indices along dims 0 and 1
  int64_t seg_len;
  bool merged;  // one segment per kernel row (kd, kh), covering all of its kernel columns
};

// The segments of P whose kernel rows read inside the input for output row (o0, oh): offsets
// rebased on the first of them, whose offset from the window origin is returned (0 if none).
// Border rows then skip their padding rather than multiplying gathered zeros.
template <class T>
int64_t row_segments(const Plan<T>& P, int64_t o0, int64_t oh, std::vector<int64_t>& a_off, std::vector<int64_t>& b_off) {
  const ConvGeom& g = P.g;
  a_off.clear();
  b_off.clear();
  for (size_t s = 0; s < P.a_off.size(); ++s) {
    const int64_t i0 = o0 * g.s[0] + P.seg_a[s] * g.d[0] - g.pb[0], i1 = oh * g.s[1] + P.seg_b[s] * g.d[1] - g.pb[1];
    if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1]) continue;
    a_off.push_back(P.a_off[s]);
    b_off.push_back(P.b_off[s]);
  }
  const int64_t first = a_off.empty() ? 0 : a_off[0];
  for (auto& o : a_off) o -= first;
  return first;
}

// Run the micro-kernels over all output channels of mr pixels of group grp whose output rows are
// c0 + r*ldc. seg: A read in place through the nseg k segments a_off/b_off (of kc steps, default
// P.seg_len); else A holds gathered patches (row stride Kg).
template <class T>
void run_pixels(const Plan<T>& P, int64_t grp, const T* a, int64_t a_rs, const int64_t* a_off, const int64_t* b_off, int nseg,
                bool seg, int mr, T* c0, int64_t ldc, int64_t kc = -1) {
  const int NR = P.ks.nr;
  UkArgs<T> u{};
  u.a = a;
  u.a_rs = a_rs;
  u.a_ks = 1;
  u.b_ks = NR;
  u.ldc = ldc;
  u.load_c = P.ep.accumulate;
  u.act = P.ep.act;
  u.kc = seg ? (kc >= 0 ? kc : P.seg_len) : P.w.Kg;
  u.nseg = seg ? nseg : 0;
  u.a_off = a_off;
  u.b_off = b_off;
  const blas::PackedB<T>& pb = *P.w.groups[grp];
  for (int64_t jr = 0; jr < P.w.Og; jr += NR) {
    u.nr = static_cast<int>(std::min<int64_t>(NR, P.w.Og - jr));
    u.b = pb.panel(0, jr);
    u.c = c0 + jr;
    u.bias = P.ep.bias ? P.ep.bias + grp * P.w.Og + jr : nullptr;
    const int half = 2 * u.nr <= NR;
    (seg ? P.ks.rowseg : P.ks.row)[half][mr - 1](u);
  }
}

struct RowSegs {
  std::vector<int64_t> a_off, b_off;
};

// One band: output rows [h0, h1) of (n, o0), all columns and groups. Every row's interior
// columns (window inside the input along the last dim) read the input in place through the
// segments of its kernel rows that lie inside; only the border columns are gathered.
template <class T>
void run_band(const Plan<T>& P, int64_t n, int64_t o0, int64_t h0, int64_t h1, T* buf, RowSegs& rs) {
  const ConvGeom& g = P.g;
  const int MR = P.ks.mr;
  const int64_t Kg = P.w.Kg, OW = g.out[2];
  auto out_at = [&](int64_t oh, int64_t ow, int64_t grp) { return P.y + (((n * g.out[0] + o0) * g.out[1] + oh) * OW + ow) * P.Cout + grp * P.w.Og; };
  for (int64_t grp = 0; grp < g.G; ++grp) {
    if (P.hi[2] > P.lo[2])
      for (int64_t oh = h0; oh < h1; ++oh) {
        const int64_t first = row_segments(P, o0, oh, rs.a_off, rs.b_off);
        // The window origin (possibly outside the input) plus the first inside segment, as an
        // integer offset so that no pointer leaves x.
        const int64_t base = (((n * g.in[0] + o0 * g.s[0] - g.pb[0]) * g.in[1] + oh * g.s[1] - g.pb[1]) * g.in[2]) * g.C + grp * g.Cg + first;
        const int nseg = static_cast<int>(rs.a_off.size());
        blocks(P.hi[2] - P.lo[2], P.ks.seg_mr, [&](int64_t b0, int mr) {
          const int64_t ow = P.lo[2] + b0;
          const T* a = nseg ? P.x + base + (ow * g.s[2] - g.pb[2]) * g.C : P.x;  // nseg == 0: all padding, never read
          run_pixels(P, grp, a, g.s[2] * g.C, rs.a_off.data(), rs.b_off.data(), nseg, true, mr, out_at(oh, ow, grp), P.Cout);
        });
      }
    // Border columns: one pixel per row, the rows stacked (stride OW*Cout).
    for (int64_t ow = 0; ow < OW; ++ow) {
      if (ow == P.lo[2]) ow = std::max(ow, P.hi[2]);
      if (ow >= OW) break;
      auto gathered = [&](int64_t r_0, int64_t r_1) {
        blocks(r_1 - r_0, MR, [&](int64_t b0, int mr) {
          const int64_t r0 = r_0 + b0;
          for (int r = 0; r < mr; ++r) gather_patch(P.x, g, n, o0, r0 + r, ow, grp, buf + r * Kg);
          run_pixels(P, grp, buf, Kg, nullptr, nullptr, 0, false, mr, out_at(r0, ow, grp), OW * P.Cout);
        });
      };
      // The kernel columns [c0, c1) inside the input.
      int64_t c0 = 0, c1 = g.k[2];
      while (c0 < c1 && ow * g.s[2] + c0 * g.d[2] - g.pb[2] < 0) ++c0;
      while (c1 > c0 && ow * g.s[2] + (c1 - 1) * g.d[2] - g.pb[2] >= g.in[2]) --c1;
      const int64_t i_lo = std::min(std::max(h0, P.lo[1]), h1), i_hi = std::max(i_lo, std::min(h1, P.hi[1]));
      if (!P.merged || c0 >= c1 || i_lo >= i_hi) {
        gathered(h0, h1);
        continue;
      }
      // Rows whose windows lie inside along dim 1 share their segments: read in place, each
      // segment cut to the inside kernel columns; the other rows gathered.
      gathered(h0, i_lo);
      gathered(i_hi, h1);
      const int64_t first = row_segments(P, o0, i_lo, rs.a_off, rs.b_off);
      const int nseg = static_cast<int>(rs.a_off.size());
      for (auto& b : rs.b_off) b += c0 * g.Cg * P.ks.nr;
      const int64_t col = ow * g.s[2] + c0 * g.d[2] - g.pb[2];
      const int64_t base = (((n * g.in[0] + o0 * g.s[0] - g.pb[0]) * g.in[1] + i_lo * g.s[1] - g.pb[1]) * g.in[2] + col) * g.C + first;
      blocks(i_hi - i_lo, P.ks.seg_mr, [&](int64_t b0, int mr) {
        const T* a = nseg ? P.x + base + b0 * g.s[1] * g.in[2] * g.C : P.x;
        run_pixels(P, grp, a, g.s[1] * g.in[2] * g.C, rs.a_off.data(), rs.b_off.data(), nseg, true, mr, out_at(i_lo + b0, ow, grp),
                   OW * P.Cout, (c1 - c0) * g.Cg);
      });
    }
  }
}

struct Scratch {
  std::vector<char> mem;
  template <class T>
  T* get(size_t n) {
    if (mem.size() < n * sizeof(T)) mem.resize(n * sizeof(T));
    return reinterpret_cast<T*>(mem.data());
  }
};
thread_local Scratch t_patch;

}  // namespace

template <class T>
size_t ConvWeights<T>::bytes() const {
  size_t b = 0;
  for (auto& p : groups) b += p->bytes();
  return b;
}

template <class T>
std::shared_ptr<const ConvWeights<T>> pack_conv_weights(const T* w, const ConvGeom& g, int64_t Cout, bool flip) {
  auto cw = std::make_shared<ConvWeights<T>>();
  const int64_t KK = g.KK(), Cg = g.Cg, Og = Cout / g.G;
  cw->G = g.G;
  cw->isa = blas::active_isa();
  cw->Kg = flip ? KK * Og : KK * Cg;
  cw->Og = flip ? Cg : Og;
  std::vector<T> tmp;
  for (int64_t grp = 0; grp < g.G; ++grp) {
    if (!flip) {
      cw->groups.push_back(blas::pack_b<T>(cw->Kg, Og, w + grp * Og, Cout, 1, cw->Kg));
      continue;
    }
    // W'[(kpos', co), ci] = w[(KK-1-kpos', ci), grp*Og + co]: reversing the flat kernel position
    // reverses every spatial index at once.
    tmp.assign(static_cast<size_t>(KK * Og * Cg), T(0));
    for (int64_t kp = 0; kp < KK; ++kp)
      for (int64_t co = 0; co < Og; ++co)
        for (int64_t ci = 0; ci < Cg; ++ci)
          tmp[(kp * Og + co) * Cg + ci] = w[((KK - 1 - kp) * Cg + ci) * Cout + grp * Og + co];
    cw->groups.push_back(blas::pack_b<T>(KK * Og, Cg, tmp.data(), Cg, 1, KK * Og));
  }
  return cw;
}

template <class T>
void conv_forward(const ConvGeom& g, const T* x, const ConvWeights<T>& w, T* y, const blas::Epilogue<T>& ep) {
  const KernelSet<T>& ks = blas::detail::kernels_for<T>(w.isa);
  Plan<T> P{g, x, w, y, ep, ks, g.G * w.Og, {}, {}, {}, {}, {}, {}, 0, false};
  for (int i = 0; i < 3; ++i) interior(g, i, P.lo[i], P.hi[i]);
  // k segments of an interior run: one per kernel row (kd, kh), or per (kd, kh, kw) when the
  // kernel columns are not adjacent pixels' channels (dilation or groups).
  const bool merged = g.d[2] == 1 && g.G == 1;
  P.seg_len = merged ? g.k[2] * g.Cg : g.Cg;
  P.merged = merged;
  for (int64_t a = 0; a < g.k[0]; ++a)
    for (int64_t b = 0; b < g.k[1]; ++b)
      for (int64_t c = 0; c < (merged ? 1 : g.k[2]); ++c) {
        P.b_off.push_back(static_cast<int64_t>(P.a_off.size()) * P.seg_len * ks.nr);
        P.a_off.push_back(((a * g.d[0] * g.in[1] + b * g.d[1]) * g.in[2] + c * g.d[2]) * g.C);
        P.seg_a.push_back(a);
        P.seg_b.push_back(b);
      }
  const int64_t bands = ceil_div(g.out[1], ks.mr), tasks = g.N * g.out[0] * bands;
  const double per_task = 2.0 * ks.mr * g.out[2] * w.Kg * P.Cout;
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>((1 << 21) / std::max(1.0, per_task)));
  parallel_for(tasks, grain, [&](int64_t t0, int64_t t1) {
    T* buf = t_patch.get<T>(static_cast<size_t>(ks.mr * w.Kg));
    RowSegs rs;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t band = t % bands, no = t / bands;
      run_band(P, no / g.out[0], no % g.out[0], band * ks.mr, std::min(g.out[1], (band + 1) * ks.mr), buf, rs);
    }
  });
}

namespace {

// Kernel segments of an interior run (shared by the forward and the kernel gradient): one per
// kernel row (kd, kh), or per (kd, kh, kw) when kernel columns are not adjacent pixels' channels.
void kernel_segments(const ConvGeom& g, std::vector<int64_t>& off, int64_t& seg_len) {
  const bool merged = g.d[2] == 1 && g.G == 1;
  seg_len = merged ? g.k[2] * g.Cg : g.Cg;
  off.clear();
  for (int64_t a = 0; a < g.k[0]; ++a)
    for (int64_t b = 0; b < g.k[1]; ++b)
      for (int64_t c = 0; c < (merged ? 1 : g.k[2]); ++c) off.push_back(((a * g.d[0] * g.in[1] + b * g.d[1]) * g.in[2] + c * g.d[2]) * g.C);
}

template <class T>
struct GradScratch {
  std::vector<T> acc, patch, gyb, bpack;
  std::vector<int64_t> a_row, b_row;
};

// acc (KK*Cg x Cout) += patches^T * gy over the np gathered pixels of group grp.
template <class T>
void flush_gathered(const ConvGeom& g, int64_t Cout, int64_t grp, GradScratch<T>& s, int64_t np) {
  if (np == 0) return;
  const int64_t Kg = g.Kg(), Og = Cout / g.G;
  blas::Epilogue<T> ep;
  ep.accumulate = true;
  blas::gemm<T>(Kg, Og, np, s.patch.data(), 1, Kg, s.gyb.data(), Og, 1, s.acc.data() + grp * Og, Cout, ep);
}

// One band of the kernel gradient: output rows [h0, h1) of (n, o0), every group.
template <class T>
void grad_band(const ConvGeom& g, const KernelSet<T>& ks, const T* x, const T* gy, int64_t Cout, const int64_t* lo,
               const int64_t* hi, const std::vector<int64_t>& koff, int64_t seg_len, int64_t n, int64_t o0, int64_t h0,
               int64_t h1, GradScratch<T>& s) {
  const int MR = ks.mr, NR = ks.nr;
  const int64_t Kg = g.Kg(), Og = Cout / g.G, OW = g.out[2], ogp = ceil_div(Og, NR) * NR;
  const bool d_in = o0 >= lo[0] && o0 < hi[0];
  const int64_t r_lo = d_in ? std::max(h0, lo[1]) : h1, r_hi = d_in ? std::max(r_lo, std::min(h1, hi[1])) : h1;
  const int64_t wdt = hi[2] - lo[2], rows = r_hi - r_lo;
  for (int64_t grp = 0; grp < g.G; ++grp) {
    if (rows > 0 && wdt > 0) {  // interior: A = x read transposed in place, one k segment per output row
      s.a_row.clear();
      s.b_row.clear();
      s.bpack.resize(static_cast<size_t>(rows * wdt * ogp));
      for (int64_t q = 0; q < rows; ++q) {
        const int64_t oh = r_lo + q;
        s.a_row.push_back((((n * g.in[0] + o0 * g.s[0] - g.pb[0]) * g.in[1] + oh * g.s[1] - g.pb[1]) * g.in[2] + lo[2] * g.s[2] - g.pb[2]) * g.C);
        s.b_row.push_back(q * wdt * ogp);
        const T* src = gy + (((n * g.out[0] + o0) * g.out[1] + oh) * OW + lo[2]) * Cout + grp * Og;
        blas::pack_b_panels(src, Cout, 1, wdt, Og, NR, s.bpack.data() + q * wdt * ogp);
      }
      UkArgs<T> u{};
      u.kc = wdt;
      u.a_rs = 1;
      u.a_ks = g.s[2] * g.C;
      u.b_ks = NR;
      u.ldc = Cout;
      u.load_c = true;
      u.nseg = static_cast<int>(rows);
      u.a_off = s.a_row.data();
      u.b_off = s.b_row.data();
      for (size_t sg = 0; sg < koff.size(); ++sg)
        blocks(seg_len, MR, [&](int64_t i0, int mr) {
          for (int64_t jr = 0; jr < Og; jr += NR) {
            u.nr = static_cast<int>(std::min<int64_t>(NR, Og - jr));
            u.a = x + grp * g.Cg + koff[sg] + i0;
            u.b = s.bpack.data() + jr * wdt;
            u.c = s.acc.data() + (static_cast<int64_t>(sg) * seg_len + i0) * Cout + grp * Og + jr;
            ks.colseg[2 * u.nr <= NR][mr - 1](u);
          }
        });
    }
    // Border pixels: gathered in batches of up to 64.
    int64_t np = 0;
    for (int64_t oh = h0; oh < h1; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        if (oh >= r_lo && oh < r_hi && ow >= lo[2] && ow < hi[2]) continue;
        gather_patch(x, g, n, o0, oh, ow, grp, s.patch.data() + np * Kg);
        std::copy_n(gy + (((n * g.out[0] + o0) * g.out[1] + oh) * OW + ow) * Cout + grp * Og, Og, s.gyb.data() + np * Og);
        if (++np == 64) { flush_gathered(g, Cout, grp, s, np); np = 0; }
      }
    flush_gathered(g, Cout, grp, s, np);
  }
}

}  // namespace

template <class T>
void conv_kernel_grad(const ConvGeom& g, const T* x, const T* gy, int64_t Cout, T* gw) {
  const KernelSet<T>& ks = blas::detail::kernels_for<T>(blas::active_isa());
  const int64_t size = g.Kg() * Cout;
  std::fill(gw, gw + size, T(0));
  if (size == 0 || g.N * g.P() == 0) return;
  int64_t lo[3], hi[3], seg_len;
  for (int i = 0; i < 3; ++i) interior(g, i, lo[i], hi[i]);
  std::vector<int64_t> koff;
  kernel_segments(g, koff, seg_len);
  constexpr int64_t BR = 16;  // output rows per band: long k segments, enough bands to share
  const int64_t bands = ceil_div(g.out[1], BR), tasks = g.N * g.out[0] * bands;
  const double per_task = 2.0 * BR * g.out[2] * g.Kg() * Cout;
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>((1 << 21) / std::max(1.0, per_task)));
  auto parts = parallel_for_scratch(tasks, grain, [&] {
    GradScratch<T> s;
    s.acc.assign(static_cast<size_t>(size), T(0));
    s.patch.resize(static_cast<size_t>(64 * g.Kg()));
    s.gyb.resize(static_cast<size_t>(64 * Cout));
    return s;
  }, [&](GradScratch<T>& s, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t band = t % bands, no = t / bands;
      grad_band(g, ks, x, gy, Cout, lo, hi, koff, seg_len, no / g.out[0], no % g.out[0], band * BR,
                std::min(g.out[1], (band + 1) * BR), s);
    }
  });
  for (auto& p : parts)
    for (int64_t i = 0; i < size; ++i) gw[i] += p.acc[i];
}

ConvGeom adjoint_geom(const ConvGeom& g, int64_t Cout) {
  ConvGeom a = g;
  a.C = Cout;
  a.Cg = Cout / g.G;
  for (int i = 0; i < 3; ++i) {
    a.in[i] = g.out[i];
    a.out[i] = g.in[i];
    a.s[i] = 1;
    a.pb[i] = (g.k[i] - 1) * g.d[i] - g.pb[i];
    a.pa[i] = (g.k[i] - 1) * g.d[i] - g.pa[i];
  }
  return a;
}

template struct ConvWeights<float>;
template struct ConvWeights<double>;
template std::shared_ptr<const ConvWeights<float>> pack_conv_weights<float>(const float*, const ConvGeom&, int64_t, bool);
template std::shared_ptr<const ConvWeights<double>> pack_conv_weights<double>(const double*, const ConvGeom&, int64_t, bool);
template void conv_kernel_grad<float>(const ConvGeom&, const float*, const float*, int64_t, float*);
template void conv_kernel_grad<double>(const ConvGeom&, const double*, const double*, int64_t, double*);
template void conv_forward<float>(const ConvGeom&, const float*, const ConvWeights<float>&, float*, const blas::Epilogue<float>&);
template void conv_forward<double>(const ConvGeom&, const double*, const ConvWeights<double>&, double*,
                                   const blas::Epilogue<double>&);

}  // namespace convk
}  // namespace keras_cpp
