// cpp/ops/pool.cpp — max/avg pooling: the channels_last primitive `_pool` (N-d), its gradient
// `_pool_grad`, and Keras's pool2d/pool3d. Padding never takes part: max only compares real
// elements and avg divides by the count of real elements in each window (TF SAME semantics).
#include <cctype>
#include <cstring>
#include <optional>
#include <type_traits>

#include "keras_cpp/config.h"
#include "ops/conv_helpers.h"
#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
using Ints = std::vector<int64_t>;

// Flat in-sample positions covered by window p, padding excluded (never empty for valid/same).
void window(const ConvGeom& g, int64_t p, std::vector<int64_t>& pos) {
  pos.clear();
  const int64_t o2 = p % g.out[2], o1 = (p / g.out[2]) % g.out[1], o0 = p / (g.out[2] * g.out[1]);
  for (int64_t a = 0; a < g.k[0]; ++a) {
    const int64_t i0 = o0 * g.s[0] + a - g.pb[0];
    if (i0 < 0 || i0 >= g.in[0]) continue;
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t i1 = o1 * g.s[1] + b - g.pb[1];
      if (i1 < 0 || i1 >= g.in[1]) continue;
      for (int64_t c = 0; c < g.k[2]; ++c) {
        const int64_t i2 = o2 * g.s[2] + c - g.pb[2];
        if (i2 >= 0 && i2 < g.in[2]) pos.push_back((i0 * g.in[1] + i1) * g.in[2] + i2);
      }
    }
  }
}

// best[c] = the first position (scan order) holding the window max of channel c; ties are thus
// deterministic.
template <class T>
void argmax_window(const T* xs, const std::vector<int64_t>& pos, int64_t C, int64_t c0, int64_t c1, int64_t* best) {
  for (int64_t c = c0; c < c1; ++c) best[c - c0] = pos[0];
  for (size_t q = 1; q < pos.size(); ++q)
    for (int64_t c = c0; c < c1; ++c)
      if (xs[pos[q] * C + c] > xs[best[c - c0] * C + c]) best[c - c0] = pos[q];
}

// mode max/avg: y = pool(x); mode gather: y = h at the max position of x (second-order grad of max).
template <class T>
void pool_fwd(const T* x, const T* h, T* y, const ConvGeom& g, const std::string& mode) {
  const int64_t P = g.P(), C = g.C, inP = g.inP();
  const int m = mode == "max" ? 0 : mode == "avg" ? 1 : 2;
  parallel_for(g.N * P, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.KK() * C)), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> pos, best(static_cast<size_t>(C));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / P;
      const T* xs = x + n * inP * C;
      T* o = y + r * C;
      window(g, r % P, pos);
      if (m == 2) {
        argmax_window(xs, pos, C, 0, C, best.data());
        for (int64_t c = 0; c < C; ++c) o[c] = h[(n * inP + best[c]) * C + c];
        continue;
      }
      std::copy(xs + pos[0] * C, xs + pos[0] * C + C, o);
      for (size_t q = 1; q < pos.size(); ++q) {
        const T* v = xs + pos[q] * C;
        if (m == 0) for (int64_t c = 0; c < C; ++c) o[c] = v[c] > o[c] ? v[c] : o[c];
        else for (int64_t c = 0; c < C; ++c) o[c] += v[c];
      }
      if (m == 1) for (int64_t c = 0; c < C; ++c) o[c] /= static_cast<T>(pos.size());
    }
  });
}

// The windows of all output positions of a sample as one table: window p is
// pos[start[p] .. start[p+1]) (flat in-sample positions, padding excluded).
struct Windows {
  std::vector<int64_t> pos, start;
};
Windows window_table(const ConvGeom& g) {
  Windows t;
  std::vector<int64_t> w;
  t.start.push_back(0);
  for (int64_t p = 0; p < g.P(); ++p) {
    window(g, p, w);
    t.pos.insert(t.pos.end(), w.begin(), w.end());
    t.start.push_back(static_cast<int64_t>(t.pos.size()));
  }
  return t;
}

// In-sample positions no window covers, or nullopt when some position is in two windows.
std::optional<std::vector<int64_t>> uncovered_if_disjoint(const Windows& tab, int64_t inP) {
  std::vector<uint8_t> hits(static_cast<size_t>(inP), 0);
  for (int64_t q : tab.pos)
    if (hits[static_cast<size_t>(q)]++) return std::nullopt;
  std::vector<int64_t> out;
  for (int64_t q = 0; q < inP; ++q)
    if (!hits[static_cast<size_t>(q)]) out.push_back(q);
  return out;
}

// Max pooling's gradient when windows do not overlap (stride >= pool size, the usual case): every
// input element is written exactly once (gy at its window's first max, else 0), with no zero fill
// and no scatter, so windows can be split freely across threads; uncovered positions get 0.
template <class T>
void max_pool_bwd_disjoint(const T* x, const T* gy, T* gx, const ConvGeom& g, const Windows& tab,
                           const std::vector<int64_t>& uncovered) {
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;  // lane-width window index
  // 32-byte vectors (GCC/Clang vector extensions): the selects stay branch-free in registers.
  typedef T V __attribute__((vector_size(32)));
  typedef I VI __attribute__((vector_size(32)));
  constexpr int64_t L = 32 / sizeof(T);
  const auto ld = [](const T* p) { V v; std::memcpy(&v, p, sizeof v); return v; };
  const int64_t P = g.P(), C = g.C, inP = g.inP();
  parallel_for(g.N * P, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.KK() * C)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / P, p = r % P;
      const T* xs = x + n * inP * C;
      T* gs = gx + n * inP * C;
      const T* go = gy + r * C;
      const int64_t* ps = tab.pos.data() + tab.start[p];
      const int64_t np = tab.start[p + 1] - tab.start[p];
      int64_t c = 0;
      for (; c + L <= C; c += L) {
        V b = ld(xs + ps[0] * C + c);
        VI k = VI{} ;
        for (int64_t q = 1; q < np; ++q) {
          const V v = ld(xs + ps[q] * C + c);
          const VI gt = v > b;  // NaN compares false: the earlier element stays
          b = (V)(((VI)v & gt) | ((VI)b & ~gt));
          k = ((VI{} + I(q)) & gt) | (k & ~gt);
        }
        const VI gv = (VI)ld(go + c);
        for (int64_t q = 0; q < np; ++q) {
          const V o = (V)(gv & (k == I(q)));
          std::memcpy(gs + ps[q] * C + c, &o, sizeof o);
        }
      }
      for (; c < C; ++c) {
        int64_t best = 0;
        for (int64_t q = 1; q < np; ++q)
          if (xs[ps[q] * C + c] > xs[ps[best] * C + c]) best = q;
        for (int64_t q = 0; q < np; ++q) gs[ps[q] * C + c] = q == best ? go[c] : T(0);
      }
    }
  });
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t q : uncovered) std::fill(gx + (n * inP + q) * C, gx + (n * inP + q + 1) * C, T(0));
}

// gx: each window's gradient to its first max position (max) or spread over its real elements
// (avg). Tasks own (sample, channel block) pairs, so the scatter has no write conflicts; the max
// search runs over a block of channels at once (vectorisable selects) instead of channel by channel.
// gx need not be zeroed beforehand.
template <class T>
void pool_bwd(const T* x, const T* gy, T* gx, const ConvGeom& g, const std::string& mode) {
  const int64_t P = g.P(), C = g.C, inP = g.inP();
  if (mode == "max") {
    const Windows tab = window_table(g);
    if (auto unc = uncovered_if_disjoint(tab, inP)) return max_pool_bwd_disjoint(x, gy, gx, g, tab, *unc);
  }
  const int nt = num_threads();
  const int64_t splits = g.N >= 2 * nt ? 1 : (2 * nt + g.N - 1) / g.N;  // channel blocks per sample
  const int64_t CB = std::min<int64_t>(C, std::max<int64_t>(16, ((C + splits - 1) / splits + 15) / 16 * 16));
  const int64_t nb = (C + CB - 1) / CB;
  const bool mx = mode == "max";
  const Windows tab = window_table(g);
  parallel_for(g.N * nb, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, P * g.KK() * CB)), [&](int64_t t0, int64_t t1) {
    std::vector<T> bv(static_cast<size_t>(CB));
    std::vector<int64_t> bi(static_cast<size_t>(CB));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / nb, c0 = (t % nb) * CB, w = std::min(C, c0 + CB) - c0;
      const T* xs = x + n * inP * C + c0;
      T* gs = gx + n * inP * C + c0;
      for (int64_t q = 0; q < inP; ++q) std::fill(gs + q * C, gs + q * C + w, T(0));
      for (int64_t p = 0; p < P; ++p) {
        const T* go = gy + (n * P + p) * C + c0;
        const int64_t* ps = tab.pos.data() + tab.start[p];
        const int64_t np = tab.start[p + 1] - tab.start[p];
        if (!mx) {
          const T inv = T(1) / static_cast<T>(np);
          for (int64_t k = 0; k < np; ++k)
            for (int64_t c = 0; c < w; ++c) gs[ps[k] * C + c] += go[c] * inv;
          continue;
        }
        for (int64_t c = 0; c < w; ++c) { bv[c] = xs[ps[0] * C + c]; bi[c] = ps[0]; }
        for (int64_t k = 1; k < np; ++k) {
          const T* xv = xs + ps[k] * C;
          const int64_t q = ps[k];
          for (int64_t c = 0; c < w; ++c) {
            const bool gt = xv[c] > bv[c];
            bv[c] = gt ? xv[c] : bv[c];
            bi[c] = gt ? q : bi[c];
          }
        }
        for (int64_t c = 0; c < w; ++c) gs[bi[c] * C + c] += go[c];
      }
    }
  });
}

// Padding never takes part in a pooling window, so a window wider than the input is trimmed to
// the part any output can reach (same windows over the real elements, loops O(input) long).
ConvGeom pool_geom(const Shape& x, const Attrs& a) {
  ConvGeom g = make_geom(x, a.ints("ksize"), a, 1);
  for (int j = 0; j < 3 && g.P() > 0; ++j) {
    const int64_t last = (g.out[j] - 1) * g.s[j];  // start of the last window, before padding
    const int64_t left = std::max<int64_t>(0, g.pb[j] - last);  // positions left of every window's data
    g.pb[j] -= left;
    g.k[j] -= left;
    g.k[j] -= std::max<int64_t>(0, g.k[j] - g.pb[j] - g.in[j]);  // positions right of the input for all
  }
  return g;
}

TypeInfo pool_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const auto& ks = a.ints("ksize");
  const TypeInfo& x = in[0];
  if (!is_floating(x.dtype)) fail_type("_pool", std::string("expected a float tensor, got ") + dtype_name(x.dtype));
  Shape s{x.shape[0]};
  for (size_t i = 0; i < ks.size(); ++i) s.push_back(conv_out_len("_pool", x.shape[1 + i], ks[i], a, static_cast<int>(i)));
  s.push_back(x.shape.back());
  return TypeInfo{s, x.dtype, true};
}

// Inputs as contiguous float32/float64 copies (float16 computed in float32), result in x's dtype.
template <class F>
Tensor pool_run(KernelCtx& ctx, size_t n_in, F&& fn) {
  DType od = ctx.in[0].dtype();
  std::vector<Tensor> t;
  for (size_t i = 0; i < n_in; ++i) {
    Tensor v = ctx.in[i];
    if (v.dtype() == DType::float16) v = v.astype(DType::float32);
    t.push_back(v.contiguous());
  }
  return dispatch_float(t[0].dtype(), "pool", [&](auto tag) { return fn(tag, t); }).astype(od);
}

Tensor pool_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  return pool_run(ctx, ctx.in.size(), [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = pool_geom(t[0].shape(), a);
    Shape s{g.N};
    for (int i = 3 - static_cast<int>(a.ints("ksize").size()); i < 3; ++i) s.push_back(g.out[i]);
    s.push_back(g.C);
    Tensor y = ctx.alloc_tensor(s, t[0].dtype());
    if (shape_numel(s) > 0) pool_fwd<T>(t[0].data<T>(), t.size() > 1 ? t[1].data<T>() : nullptr, y.data<T>(), g, a.s("mode"));
    return y;
  });
}

Tensor pool_grad_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  return pool_run(ctx, 2, [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = pool_geom(t[0].shape(), a);
    Tensor gx = ctx.alloc_tensor(t[0].shape(), t[0].dtype());
    if (g.P() == 0) std::fill(gx.data<T>(), gx.data<T>() + gx.numel(), T(0));  // no window: no gradient
    else if (gx.numel() > 0) pool_bwd<T>(t[0].data<T>(), t[1].data<T>(), gx.data<T>(), g, a.s("mode"));
    return gx;
  });
}

OpRef kPool, kPoolGrad, kPool2d, kPool3d;

// ks/st: the registry's ints[n]; fmt normalised (the data_format kind or data_format_arg).
Expr pool_nd(const std::string& op, int nsp, const Expr& x, const Ints& ks, const Ints& st, const std::string& pad, const std::string& fmt,
             const std::string& mode) {
  for (auto* v : {&ks, &st})
    for (int64_t e : *v)
      if (e < 1) fail_value(op, std::string("'") + (v == &ks ? "pool_size" : "strides") + "' entries must be >= 1, got " + Value(*v).repr());
  if (pad != "valid" && pad != "same") fail_value(op, "Invalid padding: '" + pad + "' (expected 'valid' or 'same')");
  if (mode != "max" && mode != "avg") fail_value(op, "Invalid pool_mode: '" + mode + "' (expected 'max' or 'avg')");
  if (x.ndim() != nsp + 2) fail_value(op, "x must have rank " + std::to_string(nsp + 2) + ", got shape " + shape_str(x.shape()));
  Attrs at;
  at.set("ksize", Value(ks));
  at.set("strides", Value(st));
  at.set("padding", Value(pad));
  at.set("mode", Value(mode));
  Ints to{0}, from{0, nsp + 1};
  for (int i = 0; i < nsp; ++i) { to.push_back(i + 2); from.push_back(i + 1); }
  to.push_back(1);
  bool cf = fmt == "channels_first";
  Expr y = make_node(kPool, {cf ? permute_dimensions(x, to) : x}, at);
  return cf ? permute_dimensions(y, from) : y;
}

// pool2d/pool3d(x, pool_size, strides, padding, data_format, pool_mode).
template <int N>
Expr pool_build(const OpDef& op, std::vector<Value>& a) {
  return pool_nd(op.name, N, Expr(a[0].t), a[1].ints, a[2].ints, a[3].s, a[4].s, a[5].s);
}

G pool_grad(const Expr& y, const Expr& g) {
  Expr x(y->inputs[0]);
  if (y->attrs.s("mode") == "gather") {  // linear in h; x only picks positions
    Attrs a = y->attrs;
    a.set("mode", Value(std::string("max")));
    return G{Expr(), make_node(kPoolGrad, {x, g}, a)};
  }
  return G{make_node(kPoolGrad, {x, g}, y->attrs)};
}

TypeInfo pool_grad_infer(const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; }

G pool_grad_grad(const Expr& y, const Expr& gg) {
  Expr x(y->inputs[0]);
  Attrs a = y->attrs;
  if (a.s("mode") == "avg") return G{Expr(), make_node(kPool, {gg}, a)};
  a.set("mode", Value(std::string("gather")));  // linear in g: read gg at the max positions
  return G{Expr(), make_node(kPool, {x, gg}, a)};
}

}  // namespace

Expr pool2d(const Expr& x, const std::vector<int64_t>& pool_size, const std::vector<int64_t>& strides,
            const std::string& padding, const std::string& data_format, const std::string& pool_mode) {
  for (auto* v : {&pool_size, &strides})
    if (v->size() != 2)
      fail_value("pool2d", std::string("'") + (v == &pool_size ? "pool_size" : "strides") + "' must have 2 entries, got " + Value(*v).repr());
  return pool_nd("pool2d", 2, x, pool_size, strides, padding, data_format_arg("pool2d", data_format), pool_mode);
}

void register_pool() {
  register_op(kPool, Op("_pool(x: tensor)",
                        "N-d pooling of channels_last x; attrs ksize, strides, padding, mode (max, avg, or gather: x's max positions "
                        "read from input 1).")
                         .infer(pool_infer).forward(pool_forward).grad(pool_grad).flags(kShapeFromShapes));
  register_op(kPoolGrad, Op("_pool_grad(x: tensor, g: tensor)",
                            "Gradient of _pool: g to each window's first max position (max) or spread over its real elements (avg).")
                             .infer(pool_grad_infer).forward(pool_grad_forward).grad(pool_grad_grad));
  register_op(kPool2d, Op("pool2d(x: tensor, pool_size: ints[2], strides: ints[2] = (1, 1), padding: str = 'valid', "
                          "data_format: data_format = None, pool_mode: str = 'max')",
                          "2-D max/avg pooling; SAME windows ignore padding (max never picks it, avg divides by the real count).")
                           .build(pool_build<2>));
  register_op(kPool3d, Op("pool3d(x: tensor, pool_size: ints[3], strides: ints[3] = (1, 1, 1), padding: str = 'valid', "
                          "data_format: data_format = None, pool_mode: str = 'max')",
                          "3-D max/avg pooling, rules as pool2d.")
                           .build(pool_build<3>));
}

}  // namespace keras_cpp
