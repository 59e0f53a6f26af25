// cpp/ops/conv_primitives.cpp — the convolution primitives on channels_last data: `_conv`
// (grouped, dilated, padded) and the unit-stride input gradient run as an implicit GEMM
// (kernels/conv_igemm.h) with the weights packed once per weight; the strided input gradient
// `_conv_grad_input` (also the transposed convolution) and the kernel gradient
// `_conv_grad_kernel` as GEMMs over im2col tiles; plus `_im2col`/`_col2im` for the
// unshared-weight local convolutions. Keras-level functions live in conv.cpp.
#include "kernels/conv_depthwise.h"
#include "kernels/conv_igemm.h"
#include "kernels/conv_winograd.h"
#include "kernels/gemm.h"
#include "kernels/gemm_cache.h"
#include "ops/conv_helpers.h"
#include "ops/conv_kernels.h"
#include "ops/helpers.h"
#include "ops/weights.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;

// Work is split into tiles of output rows, one contiguous range of tiles per chunk; each tile
// packs its patches into a small buffer and runs single-threaded GEMMs on it. This keeps
// patches in cache and avoids nested GEMM threading, whose spin-waits collapse on deep
// (K = batch*positions) products when cores are shared (measured 10x slower for the kernel grad).
struct TileSplit {
  int64_t total, rows, tiles, grain;  // output rows, rows per tile, tiles, tiles per chunk at least
};

TileSplit tile_split(const ConvGeom& g, int64_t Cout) {
  const int64_t total = g.N * g.P(), T = conv_tile_rows(g), nt = (total + T - 1) / T;
  const int64_t work = T * g.Kg() * std::max<int64_t>(1, Cout / std::max<int64_t>(1, g.G)) * g.G;
  return {total, T, nt, std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(1, work))};
}

template <class F>
void for_tiles(const ConvGeom& g, int64_t Cout, F&& fn) {
  const TileSplit ts = tile_split(g, Cout);
  parallel_for(ts.tiles, ts.grain, [&](int64_t t0, int64_t t1) { fn(t0 * ts.rows, std::min(ts.total, t1 * ts.rows), ts.rows); });
}

// The implicit GEMM wants enough channels per group to fill its k loop; depthwise-like
// convolutions take the im2col path.
bool use_igemm(const ConvGeom& g) { return g.G == 1 || g.Cg >= 8; }

// The packed weights of `w` (a kernel tensor) for g, cached across calls when the node's
// kernel input is a weight. flip: for the input gradient.
template <class T>
std::shared_ptr<const convk::ConvWeights<T>> conv_weights(const KernelCtx& ctx, const Tensor& w, const ConvGeom& g,
                                                          int64_t Cout, bool flip) {
  auto make = [&] { return convk::pack_conv_weights<T>(w.data<T>(), g, Cout, flip); };
  if (!cached_weight_input(ctx, ctx.node, 1)) return make();
  CacheKey key;
  key.tag = flip ? 3 : 2;
  key.data = w.data<T>();
  key.p = {g.KK(), g.Cg, g.G, Cout, static_cast<int64_t>(blas::active_isa()), static_cast<int64_t>(sizeof(T)), 0, 0};
  auto v = cached_value(w, key, [&]() -> std::pair<std::shared_ptr<const void>, size_t> {
    auto cw = make();
    return {cw, cw->bytes()};
  });
  return v ? std::static_pointer_cast<const convk::ConvWeights<T>>(v) : make();
}

// The Winograd weights of w (3, 3, C, Cout), cached like conv_weights.
std::shared_ptr<const convk::WinogradWeights> wino_weights(const KernelCtx& ctx, const Tensor& w, int64_t C, int64_t Cout,
                                                           bool flip) {
  auto make = [&] { return convk::winograd_weights(w.data<float>(), C, Cout, flip); };
  if (!cached_weight_input(ctx, ctx.node, 1)) return make();
  CacheKey key;
  key.tag = flip ? 5 : 4;
  key.data = w.data<float>();
  key.p = {C, Cout, static_cast<int64_t>(blas::active_isa()), 0, 0, 0, 0, 0};
  auto v = cached_value(w, key, [&]() -> std::pair<std::shared_ptr<const void>, size_t> {
    auto ww = make();
    return {ww, ww->bytes()};
  });
  return v ? std::static_pointer_cast<const convk::WinogradWeights>(v) : make();
}

// y = conv(x) (adjoint: gx = the input gradient of conv with x = gy, unit stride) for the
// convolution g with kernel w (k..., Cg, Cout): Winograd for 3x3 float32 with enough channels,
// else the implicit GEMM. False when neither fits (depthwise-like: the caller's im2col path).
bool depthwise(const ConvGeom& g) { return g.G > 1 && g.Cg == 1; }

template <class T>
bool conv_fast(const KernelCtx& ctx, const Tensor& w, const ConvGeom& g, int64_t Cout, const T* x, T* y, bool adjoint) {
  if (depthwise(g)) {  // direct loops (any stride); a channel's M filters are output channels c*M + m
    if (adjoint) convk::depthwise_grad_input<T>(g, Cout / g.G, x, w.data<T>(), y);
    else convk::depthwise_forward<T>(g, Cout / g.G, x, w.data<T>(), y, {});
    return true;
  }
  const ConvGeom gg = adjoint ? convk::adjoint_geom(g, Cout) : g;
  const int64_t out_c = adjoint ? g.C : Cout;
  if (gg.Kg() == 0 || gg.N * gg.P() * out_c == 0 || (adjoint && !g.unit_stride())) return false;
  if constexpr (std::is_same_v<T, float>) {
    if (convk::winograd_fits(gg, out_c)) {
      convk::winograd_forward(gg, x, *wino_weights(ctx, w, g.C, Cout, adjoint), y, {});
      return true;
    }
  }
  if (!use_igemm(gg)) return false;
  convk::conv_forward<T>(gg, x, *conv_weights<T>(ctx, w, g, Cout, adjoint), y, {});
  return true;
}

template <class T>
void conv_fwd(const T* x, const T* w, T* y, const ConvGeom& g, int64_t Cout) {
  const int64_t Og = Cout / g.G, Kg = g.Kg();
  if (Kg == 0) { std::fill(y, y + g.N * g.P() * Cout, T(0)); return; }
  for_tiles(g, Cout, [&](int64_t r0, int64_t r1, int64_t tile) {
    std::vector<T> buf(g.pointwise() ? 0 : static_cast<size_t>(tile * Kg * g.G));
    for (int64_t a = r0; a < r1; a += tile) {
      const int64_t rows = std::min(r1, a + tile) - a;
      const T* A = x + a * g.C;  // pointwise: the input rows are the patches
      if (!g.pointwise()) { im2col(x, buf.data(), g, a, a + rows); A = buf.data(); }
      for (int64_t grp = 0; grp < g.G; ++grp)
        gemm<T>(A + grp * rows * Kg, MatView{false, Kg}, w + grp * Og, MatView{false, Cout}, y + a * Cout + grp * Og, rows, Kg,
                Og, Cout);
    }
  });
}

// gx = adjoint of conv_fwd applied to gy: patches = gy * W^T per group, then col2im. col2im needs
// whole samples, so threads take samples (or, for small batches, Eigen threads each GEMM).
template <class T>
void conv_bwd_input(const T* gy, const T* w, T* gx, const ConvGeom& g, int64_t Cout) {
  const int64_t Og = Cout / g.G, P = g.P(), Kg = g.Kg(), inP = g.inP();
  if (Og == 0 || P == 0) { std::fill(gx, gx + g.N * inP * g.C, T(0)); return; }
  auto samples = [&](int64_t n0, int64_t n1) {
    const int64_t rows = (n1 - n0) * P;
    const T* B = gy + n0 * P * Cout;
    if (g.pointwise()) return gemm<T>(B, MatView{false, Cout}, w, MatView{true, Cout}, gx + n0 * inP * g.C, rows, Cout, g.C);
    std::vector<T> buf(static_cast<size_t>(rows * Kg * g.G));
    for (int64_t grp = 0; grp < g.G; ++grp)
      gemm<T>(B + grp * Og, MatView{false, Cout}, w + grp * Og, MatView{true, Cout}, buf.data() + grp * rows * Kg, rows, Og, Kg);
    col2im(buf.data(), gx, g, n0, n1);
  };
  const int64_t per = P * Kg * g.G * Og;  // GEMM work per sample
  if (g.N >= 2 * num_threads() || per < (int64_t(1) << 20)) {
    parallel_for(g.N, std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(1, per)), [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) samples(n, n + 1);
    });
  } else {
    for (int64_t n = 0; n < g.N; ++n) samples(n, n + 1);
  }
}

// gw (KK*Cg x Cout) = sum over rows of patches^T * gy, per group: each thread accumulates its
// rows into a private gw (parallel_for_scratch), then the partial sums are added.
template <class T>
void conv_bwd_kernel(const T* x, const T* gy, T* gw, const ConvGeom& g, int64_t Cout) {
  const int64_t Og = Cout / g.G, Kg = g.Kg(), size = Kg * Cout;
  std::fill(gw, gw + size, T(0));
  if (Kg == 0 || g.P() == 0) return;
  const TileSplit ts = tile_split(g, Cout);
  auto parts = parallel_for_scratch(ts.tiles, ts.grain, [&] { return std::vector<T>(static_cast<size_t>(size), T(0)); },
                                    [&](std::vector<T>& acc, int64_t t0, int64_t t1) {
    const int64_t r0 = t0 * ts.rows, r1 = std::min(ts.total, t1 * ts.rows), tile = ts.rows;
    std::vector<T> buf(g.pointwise() ? 0 : static_cast<size_t>(tile * Kg * g.G));
    for (int64_t a = r0; a < r1; a += tile) {
      const int64_t rows = std::min(r1, a + tile) - a;
      const T* A = x + a * g.C;
      if (!g.pointwise()) { im2col(x, buf.data(), g, a, a + rows); A = buf.data(); }
      for (int64_t grp = 0; grp < g.G; ++grp)
        gemm<T>(A + grp * rows * Kg, MatView{true, Kg}, gy + a * Cout + grp * Og, MatView{false, Cout}, acc.data() + grp * Og, Kg,
                rows, Og, Cout, true);
    }
  });
  for (auto& p : parts)
    for (int64_t i = 0; i < size; ++i) gw[i] += p[i];
}

std::vector<int64_t> kernel_spatial(const Shape& w) { return std::vector<int64_t>(w.begin(), w.end() - 2); }

// Run fn<T> on contiguous copies of the inputs in float32/float64; float16 is computed in float32.
template <class F>
Tensor run_float(KernelCtx& ctx, int n_in, const char* op, F&& fn) {
  DType od = ctx.in[0].dtype();
  std::vector<Tensor> t;
  for (int i = 0; i < n_in; ++i) {
    Tensor v = ctx.in[i];
    if (v.dtype() == DType::float16) v = v.astype(DType::float32);
    t.push_back(v.contiguous());
  }
  Tensor out = dispatch_float(t[0].dtype(), op, [&](auto tag) { return fn(tag, t); });
  return out.astype(od);
}

TypeInfo conv_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const TypeInfo &x = in[0], &w = in[1];
  const int nsp = static_cast<int>(a.ints("strides").size());
  check_conv_inputs(conv_op_name(a, "_conv"), x, w, nsp, a.i("groups"));
  Shape s{x.shape[0]};
  for (int i = 0; i < nsp; ++i) s.push_back(conv_out_len(conv_op_name(a, "_conv"), x.shape[1 + i], w.shape[i], a, i));
  s.push_back(w.shape.back());
  return TypeInfo{s, x.dtype, true};
}

Tensor conv_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  check_conv_run(conv_op_name(a, "_conv"), ctx.in[0].shape(), ctx.in[1].shape(), a.i("groups"), a);
  return run_float(ctx, 2, "conv", [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = make_geom(t[0].shape(), kernel_spatial(t[1].shape()), a, a.i("groups"));
    const int64_t Cout = t[1].shape().back();
    Shape s{g.N};
    for (int i = 3 - static_cast<int>(a.ints("strides").size()); i < 3; ++i) s.push_back(g.out[i]);
    s.push_back(Cout);
    Tensor y = ctx.alloc_tensor(s, t[0].dtype());
    if (!conv_fast<T>(ctx, t[1], g, Cout, t[0].data<T>(), y.data<T>(), false))
      conv_fwd<T>(t[0].data<T>(), t[1].data<T>(), y.data<T>(), g, Cout);
    return y;
  });
}

// The run-time input shape of `_conv_grad_input`: batch from g, spatial from in_shape and the
// scalar inputs in its slots, channels from the kernel.
Shape grad_input_shape(const KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  const Tensor &g = ctx.in[0], &w = ctx.in[1];
  Shape s{g.shape()[0]};
  size_t slot = 2;
  const auto& is = a.ints("in_shape");
  for (size_t i = 1; i + 1 < is.size(); ++i) s.push_back(is[i] == kSlot ? static_cast<int64_t>(ctx.in[slot++].item()) : is[i]);
  s.push_back(checked_mul(w.shape()[w.ndim() - 2], a.i("groups"), "conv"));
  return s;
}

TypeInfo grad_input_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const TypeInfo &g = in[0], &w = in[1];
  const auto& is = a.ints("in_shape");
  const int nsp = static_cast<int>(a.ints("strides").size());
  TypeInfo xi{Shape{g.shape[0]}, g.dtype, true};
  for (int i = 1; i <= nsp; ++i) xi.shape.push_back(is[i] == kSlot ? kUnknownDim : is[i]);
  xi.shape.push_back(w.ndim() == nsp + 2 && w.shape[nsp] >= 0 ? checked_mul(w.shape[nsp], a.i("groups"), "conv") : kUnknownDim);
  TypeInfo out = conv_infer({xi, w}, a);  // validates ranks, channels and dtypes
  for (int i = 1; i <= nsp; ++i) check_transpose_len("_conv_grad_input", xi.shape[i], g.shape[i], w.shape[i - 1], a, i - 1);
  if (out.shape.back() >= 0 && g.shape.back() >= 0 && out.shape.back() != g.shape.back())
    fail_value("_conv_grad_input", "gradient has " + std::to_string(g.shape.back()) + " channels, kernel gives " + std::to_string(out.shape.back()));
  return xi;
}

Tensor grad_input_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  const std::string op = conv_op_name(a, "_conv_grad_input");
  const int nsp = static_cast<int>(a.ints("strides").size());
  const Shape &gs = ctx.in[0].shape(), &ws = ctx.in[1].shape();
  if (static_cast<int>(gs.size()) != nsp + 2)
    fail_value(op, "x must have rank " + std::to_string(nsp + 2) + ", got a value of shape " + shape_str(gs));
  if (gs.back() != ws.back())
    fail_value(op, "kernel " + shape_str(ws) + " expects " + std::to_string(ws.back()) + " input channels but x " + shape_str(gs) +
                       " has " + std::to_string(gs.back()) + " (channels_last at this point)");
  Shape xs = grad_input_shape(ctx);
  for (int i = 1; i <= nsp; ++i) check_transpose_len(op, xs[i], gs[i], ws[i - 1], a, i - 1);
  return run_float(ctx, 2, "conv_transpose", [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = make_geom(xs, kernel_spatial(t[1].shape()), a, a.i("groups"));
    const int64_t Cout = t[1].shape().back();
    Tensor gx = ctx.alloc_tensor(xs, t[0].dtype());
    if (!conv_fast<T>(ctx, t[1], g, Cout, t[0].data<T>(), gx.data<T>(), true))
      conv_bwd_input<T>(t[0].data<T>(), t[1].data<T>(), gx.data<T>(), g, Cout);
    return gx;
  });
}

Tensor grad_kernel_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  const Shape& ks = a.ints("kshape");
  const std::string op = conv_op_name(a, "_conv_grad_kernel");
  check_conv_run(op, ctx.in[0].shape(), ks, a.i("groups"), a);
  {  // the gradient must have the convolution's output shape
    const ConvGeom g = make_geom(ctx.in[0].shape(), kernel_spatial(ks), a, a.i("groups"));
    Shape want{g.N};
    for (int i = 3 - static_cast<int>(ks.size() - 2); i < 3; ++i) want.push_back(g.out[i]);
    want.push_back(ks.back());
    if (ctx.in[1].shape() != want)
      fail_value(op, "gradient of shape " + shape_str(ctx.in[1].shape()) + " does not match the convolution's output " + shape_str(want));
  }
  return run_float(ctx, 2, "conv", [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = make_geom(t[0].shape(), kernel_spatial(ks), a, a.i("groups"));
    Tensor gw = ctx.alloc_tensor(ks, t[0].dtype());
    bool done = false;
    if constexpr (std::is_same_v<T, float>) {
      if ((done = convk::winograd_fits(g, ks.back())))
        convk::winograd_kernel_grad(g, t[0].data<float>(), t[1].data<float>(), ks.back(), gw.data<float>());
    }
    if (done) {
    } else if (depthwise(g)) convk::depthwise_grad_kernel<T>(g, ks.back() / g.G, t[0].data<T>(), t[1].data<T>(), gw.data<T>());
    else if (use_igemm(g)) convk::conv_kernel_grad<T>(g, t[0].data<T>(), t[1].data<T>(), ks.back(), gw.data<T>());
    else conv_bwd_kernel<T>(t[0].data<T>(), t[1].data<T>(), gw.data<T>(), g, ks.back());
    return gw;
  });
}

Attrs with_kshape(const Attrs& a, const Shape& ks) {
  Attrs b = conv_attrs_of(a);
  b.set("kshape", Value(ks));
  return b;
}

Tensor patches_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  return run_float(ctx, 1, "local_conv", [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = make_geom(t[0].shape(), a.ints("ksize"), a, 1);
    Shape s{g.N};
    for (int i = 3 - static_cast<int>(a.ints("ksize").size()); i < 3; ++i) s.push_back(g.out[i]);
    s.push_back(g.Kg());
    Tensor y = ctx.alloc_tensor(s, t[0].dtype());
    im2col<T>(t[0].data<T>(), y.data<T>(), g, 0, g.N * g.P());
    return y;
  });
}

Tensor unpatch_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  Shape xs = ctx.in[1].shape();
  ctx.in.resize(1);
  return run_float(ctx, 1, "local_conv", [&](auto tag, std::vector<Tensor>& t) {
    using T = decltype(tag);
    ConvGeom g = make_geom(xs, a.ints("ksize"), a, 1);
    Tensor x = ctx.alloc_tensor(xs, t[0].dtype());
    col2im<T>(t[0].data<T>(), x.data<T>(), g, 0, g.N);
    return x;
  });
}

OpRef kConv, kConvGradInput, kConvGradKernel, kIm2col, kCol2im;

G conv_grad(const Expr& y, const Expr& g) {
  Expr x(y->inputs[0]), w(y->inputs[1]);
  Attrs kb = with_kshape(y->attrs, w.shape());
  return G{conv_grad_input_node(g, w, spatial_values(x), y->attrs), make_node(kConvGradKernel, {x, g}, kb)};
}

G grad_input_grad(const Expr& y, const Expr& gout) {
  Expr g(y->inputs[0]), w(y->inputs[1]);
  Attrs a = conv_attrs_of(y->attrs);
  G r{conv_node(gout, w, a), make_node(kConvGradKernel, {gout, g}, with_kshape(a, w.shape()))};
  r.resize(y->inputs.size());  // the shape slots get no gradient
  return r;
}

TypeInfo grad_kernel_infer(const std::vector<TypeInfo>& in, const Attrs& a) { return TypeInfo{a.ints("kshape"), in[0].dtype, true}; }

G grad_kernel_grad(const Expr& y, const Expr& gout) {
  Expr x(y->inputs[0]), g(y->inputs[1]);
  Attrs a = conv_attrs_of(y->attrs);
  return G{conv_grad_input_node(g, gout, spatial_values(x), a), conv_node(x, gout, a)};
}

TypeInfo patches_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const auto& ks = a.ints("ksize");
  Shape s{in[0].shape[0]};
  for (size_t i = 0; i < ks.size(); ++i) s.push_back(conv_out_len("_im2col", in[0].shape[1 + i], ks[i], a, static_cast<int>(i)));
  int64_t kk = 1;
  for (int64_t k : ks) kk = checked_mul(kk, k, "_im2col");
  s.push_back(in[0].shape.back() >= 0 ? checked_mul(kk, in[0].shape.back(), "_im2col") : kUnknownDim);
  return TypeInfo{s, in[0].dtype, true};
}

G patches_grad(const Expr& y, const Expr& g) { return G{make_node(kCol2im, {g, Expr(y->inputs[0])}, y->attrs)}; }
TypeInfo unpatch_infer(const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[1].shape, in[0].dtype, true}; }
G unpatch_grad(const Expr& y, const Expr& g) { return G{im2col_node(g, y->attrs), Expr()}; }

}  // namespace

Expr conv_grad_input_node(const Expr& g, const Expr& w, const std::vector<Value>& spatial, const Attrs& a) {
  Attrs b = conv_attrs_of(a);
  std::vector<int64_t> is{kUnknownDim};
  std::vector<Expr> ins{g, w};
  for (const Value& v : spatial) {
    if (v.kind == Value::Int) is.push_back(v.i);
    else { is.push_back(kSlot); ins.push_back(Expr(v.t)); }
  }
  is.push_back(kUnknownDim);
  b.set("in_shape", Value(is));
  return make_node(kConvGradInput, ins, b);
}

bool separable_fused_forward(KernelCtx& ctx, const Node& dw, const Node& pw, Tensor& out) {
  const Tensor &x = ctx.in[0], &dk = ctx.in[1], &pk = ctx.in[2];
  const Attrs& a = dw.attrs;
  const int64_t nd = static_cast<int64_t>(a.ints("strides").size()) + 2, groups = a.i("groups");
  for (const Tensor* t : {&x, &dk, &pk})
    if (t->dtype() != DType::float32 || t->is_sparse() || t->ndim() != nd) return false;
  const int64_t C = x.shape().back(), O = pk.shape().back();
  if (groups != C || dk.shape()[nd - 2] != 1 || dk.shape()[nd - 1] != C || pk.shape()[nd - 2] != C || O <= 0) return false;
  for (int64_t i = 1; i + 1 < nd; ++i)
    if (x.shape()[i] <= 0 || pk.shape()[i - 1] != 1) return false;
  const ConvGeom g = make_geom(x.shape(), kernel_spatial(dk.shape()), a, groups);
  if (g.N <= 0 || g.P() <= 0 || !convk::separable_fits(g)) return false;
  const Tensor xc = x.contiguous(), dkc = dk.contiguous();
  std::shared_ptr<const blas::PackedB<float>> packed;
  const int64_t rs = pk.strides()[nd - 2], cs = pk.strides()[nd - 1];
  if (cached_weight_input(ctx, pw, 1)) packed = cached_pack_b<float>(pk, pk.data<float>(), C, O, rs, cs);
  if (!packed) packed = blas::pack_b<float>(C, O, pk.data<float>(), rs, cs);
  Shape s{g.N};
  for (int64_t i = 3 - (nd - 2); i < 3; ++i) s.push_back(g.out[i]);
  s.push_back(O);
  out = ctx.alloc_tensor(s, DType::float32);
  convk::separable_forward(g, xc.data<float>(), dkc.data<float>(), *packed, O, out.data<float>());
  return true;
}

Expr conv_node(const Expr& x, const Expr& kernel, const Attrs& a) { return make_node(kConv, {x, kernel}, a); }
Expr im2col_node(const Expr& x, const Attrs& a) { return make_node(kIm2col, {x}, a); }

void register_conv_primitives() {
  register_op(kConv, Op("_conv(x: tensor, kernel: tensor)",
                        "Grouped N-d cross-correlation of channels_last x with kernel (k..., in/groups, out); attrs strides, dilation, "
                        "padding, groups.")
                         .infer(conv_infer).forward(conv_forward).grad(conv_grad).flags(kShapeFromShapes));
  register_op(kConvGradInput, Op("_conv_grad_input(g: tensor, kernel: tensor)",
                                 "Adjoint of _conv in its input (the transposed convolution); attrs as _conv plus in_shape.")
                                  .infer(grad_input_infer).forward(grad_input_forward).grad(grad_input_grad).flags(kDynamicShape));
  register_op(kConvGradKernel, Op("_conv_grad_kernel(x: tensor, g: tensor)", "Gradient of _conv in its kernel: patches(x)^T * g, per group; attr kshape.")
                                   .infer(grad_kernel_infer).forward(grad_kernel_forward).grad(grad_kernel_grad));
  register_op(kIm2col, Op("_im2col(x: tensor)", "Patches of channels_last x: (N, out..., prod(ksize)*C), each ordered (kernel position, channel).")
                           .infer(patches_infer).forward(patches_forward).grad(patches_grad));
  register_op(kCol2im, Op("_col2im(g: tensor, like: tensor)", "Adjoint of _im2col: sums patch entries back onto an input shaped like `like`.")
                           .infer(unpatch_infer).forward(unpatch_forward).grad(unpatch_grad).shape_inputs(2));
}

}  // namespace keras_cpp
