// cpp/ops/reduce.cpp — reductions over an axis, a list of axes or all axes (keepdims, negative
// axes), argmax/argmin, cumsum/cumprod. Kernels see the input as (A, R, B): R reduced, so the
// common cases (last axis, leading axis) need no copy; other axis sets are permuted first.
#include <cmath>
#include <limits>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;

std::vector<int> red_axes(const Attrs& a, int ndim, const std::string& op) {
  const Value& v = a.get("axis");
  if (v.is_none()) {
    std::vector<int> all(ndim);
    for (int i = 0; i < ndim; ++i) all[i] = i;
    return all;
  }
  return normalize_axes(v.ints, ndim, op.c_str());
}

Shape reduced_shape(const Shape& s, const std::vector<int>& axes, bool keepdims) {
  Shape r;
  for (int i = 0; i < static_cast<int>(s.size()); ++i) {
    bool red = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!red) r.push_back(s[i]);
    else if (keepdims) r.push_back(1);
  }
  return r;
}

struct Layout {
  Tensor x;  // contiguous, viewed as (A, R, B)
  int64_t A = 1, R = 1, B = 1;
};

Layout layout(const Tensor& t, const std::vector<int>& axes) {
  Layout L;
  int nd = t.ndim();
  bool block = true;
  for (size_t k = 1; k < axes.size(); ++k) block = block && axes[k] == axes[k - 1] + 1;
  if (block) {
    L.x = t.contiguous();
    int lo = axes.empty() ? nd : axes.front(), hi = axes.empty() ? nd - 1 : axes.back();
    for (int i = 0; i < nd; ++i) (i < lo ? L.A : i <= hi ? L.R : L.B) *= t.shape()[i];
    return L;
  }
  std::vector<int> perm;
  for (int i = 0; i < nd; ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) { perm.push_back(i); L.A *= t.shape()[i]; }
  for (int a : axes) { perm.push_back(a); L.R *= t.shape()[a]; }
  L.x = t.permute(perm).contiguous();
  return L;
}

enum class Red { Sum, Prod, Max, Min, Any, All };

ew::ReduceOp ew_op(Red k) {
  switch (k) {
    case Red::Sum: return ew::ReduceOp::sum;
    case Red::Prod: return ew::ReduceOp::prod;
    case Red::Max: return ew::ReduceOp::max;
    case Red::Min: return ew::ReduceOp::min;
    case Red::Any: return ew::ReduceOp::any;
    default: return ew::ReduceOp::all;
  }
}

// Pieces a long reduced run of R values is cut into (each reduced alone, the partial results then
// reduced again), from the sizes only: every thread count gives the same pieces, so the same
// result, and work worth threads gives 2 threads many chunks each (a descheduled worker holding
// one costs the caller that chunk, not half the work).
constexpr int64_t kGrain = 32768;  // elements read per thread chunk, at least
constexpr int64_t kMaxPieces = 16;
int64_t row_pieces(int64_t run, int64_t R, int64_t min_rows) {
  return std::clamp<int64_t>(std::min(run / kGrain, R / min_rows), 1, kMaxPieces);
}

// out (A x B) = reduce over R of x viewed as (A, R, B), B == 1: rows along contiguous memory.
// Threads split rows; a few long rows (a full reduction) are cut into pieces first.
void reduce_rows_kernel(ew::ReduceRowsFn rows, DType t, const char* x, char* o, int64_t A, int64_t R) {
  const int64_t es = static_cast<int64_t>(dtype_size(t));
  const int64_t pieces = A >= 4 * kMaxPieces ? 1 : row_pieces(R, R, kGrain);
  if (pieces < 2) {
    parallel_for(A, std::max<int64_t>(1, kGrain / R), [&](int64_t a0, int64_t a1) { rows(x + a0 * R * es, o + a0 * es, a1 - a0, R); });
    return;
  }
  const int64_t span = (R + pieces - 1) / pieces;
  Tensor part = Tensor::empty({A, pieces}, t);
  char* p = static_cast<char*>(part.raw());
  parallel_for(A * pieces, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / pieces, b0 = (i % pieces) * span, n = std::max<int64_t>(0, std::min(span, R - b0));
      rows(x + (a * R + b0) * es, p + i * es, 1, n);
    }
  });
  rows(p, o, A, pieces);
}

// B > 1: column blocks of at most 1024 (the kernel's accumulator row, in L1) stream down R. With
// few blocks (a reduction over the leading axis) R is cut into row pieces as well: each piece
// reads whole rows, one contiguous run, into its own partial row, and the (A, pieces, B) partials
// are reduced down their columns once more. Otherwise blocks narrow (down to 16) until work
// worth threads gives every thread a block.
void reduce_cols_kernel(ew::ReduceColsFn cols, DType t, const char* x, char* o, int64_t A, int64_t R, int64_t B) {
  const int64_t es = static_cast<int64_t>(dtype_size(t));
  const int64_t wide = (B + 1023) / 1024;
  const int64_t pieces = A * wide >= 4 * kMaxPieces ? 1 : row_pieces(R * std::min<int64_t>(B, 1024), R, 16);
  if (pieces >= 2) {
    const int64_t span = (R + pieces - 1) / pieces, kCols = (B + wide - 1) / wide;
    Tensor part = Tensor::empty({A, pieces, B}, t);
    char* p = static_cast<char*>(part.raw());
    parallel_for(A * wide * pieces, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t a = i / (wide * pieces), blk = i / pieces % wide, k = i % pieces;
        const int64_t b0 = blk * kCols, n = std::min(kCols, B - b0), r0 = k * span, nr = std::max<int64_t>(0, std::min(span, R - r0));
        cols(x + ((a * R + r0) * B + b0) * es, p + ((a * pieces + k) * B + b0) * es, nr, n, B);
      }
    });
    parallel_for(A * wide, std::max<int64_t>(1, kGrain / (pieces * kCols)), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t a = c / wide, b0 = (c % wide) * kCols, n = std::min(kCols, B - b0);
        cols(p + (a * pieces * B + b0) * es, o + (a * B + b0) * es, pieces, n, B);
      }
    });
    return;
  }
  const int64_t want = std::max<int64_t>(1, std::min<int64_t>(A * B * R / kGrain, num_threads()));
  const int64_t per_a = (want + A - 1) / A;
  const int64_t kCols = std::min<int64_t>(1024, std::max<int64_t>(16, ((B + per_a - 1) / per_a + 15) / 16 * 16));
  const int64_t nb = (B + kCols - 1) / kCols;
  parallel_for(A * nb, std::max<int64_t>(1, kGrain / (R * std::min(B, kCols))), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t a = c / nb, b0 = (c % nb) * kCols, n = std::min(kCols, B - b0);
      cols(x + (a * R * B + b0) * es, o + (a * B + b0) * es, R, n, B);
    }
  });
}

void reduce_kernel(Red k, const Layout& L, Tensor& out) {
  const DType t = L.x.dtype();
  ew::ReduceRowsFn rows = ew::reduce_rows(ew_op(k), t);
  ew::ReduceColsFn cols = ew::reduce_cols(ew_op(k), t);
  if (!rows || !cols) throw TypeError(std::string("[reduce] no kernel for dtype ") + dtype_name(t));
  const char* x = static_cast<const char*>(L.x.raw());
  char* o = static_cast<char*>(out.raw());
  if (L.R == 0 || L.A * L.B == 0) {  // identities (or nothing to do)
    rows(x, o, L.A * L.B, 0);
    return;
  }
  if (L.B == 1) reduce_rows_kernel(rows, t, x, o, L.A, L.R);
  else reduce_cols_kernel(cols, t, x, o, L.A, L.R, L.B);
}

DType reduce_dtype(Red k, DType in, bool mean) {
  if (k == Red::Any || k == Red::All) return DType::bool_;
  if (mean) return is_floating(in) ? in : config::floatx();  // Keras: mean of bool/int -> floatx
  if ((k == Red::Sum || k == Red::Prod) && (in == DType::bool_ || in == DType::uint8 || in == DType::int8 || in == DType::int16))
    return in == DType::bool_ ? DType::int64 : DType::int32;
  return in;
}

// The op name of a reduction (for errors raised at build time, before a node exists).
constexpr const char* reduce_name(Red k, bool mean) {
  return mean ? "mean" : k == Red::Sum ? "sum" : k == Red::Max ? "max" : k == Red::Min ? "min" : k == Red::Prod ? "prod"
                                                   : k == Red::Any ? "any" : "all";
}

template <Red K, bool Mean>
TypeInfo reduce_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (!in[0].rank_known) return TypeInfo{{}, reduce_dtype(K, in[0].dtype, Mean), a.get("axis").is_none() && !a.b("keepdims")};
  auto axes = red_axes(a, in[0].ndim(), reduce_name(K, Mean));
  return TypeInfo{reduced_shape(in[0].shape, axes, a.b("keepdims")), reduce_dtype(K, in[0].dtype, Mean), true};
}

template <Red K, bool Mean>
Tensor reduce_forward(KernelCtx& ctx) {
  const std::string name = reduce_name(K, Mean);
  const Tensor& x0 = ctx.in[0];
  DType od = reduce_dtype(K, x0.dtype(), Mean);
  DType cd = (K == Red::Any || K == Red::All) ? DType::bool_ : (od == DType::float16 ? DType::float32 : od);
  auto axes = red_axes(ctx.attrs(), x0.ndim(), name);
  Layout L = layout(x0.astype(cd), axes);
  Tensor out = ctx.alloc_tensor(reduced_shape(x0.shape(), axes, ctx.attrs().b("keepdims")), cd);
  reduce_kernel(K, L, out);
  if constexpr (Mean) {
    dispatch_float(cd, name.c_str(), [&](auto tag) {  // numpy divides the sum by the count
      using T = decltype(tag);
      T* o = out.data<T>();
      const T n = L.R ? static_cast<T>(L.R) : std::numeric_limits<T>::quiet_NaN();
      for (int64_t i = 0; i < out.numel(); ++i) o[i] = L.R ? o[i] / n : n;
    });
  }
  return out.astype(od);
}

template <Red K, bool Mean = false>
Op reduce_op(const char* sig, const char* doc, GradFn grad) {
  return Op(sig, doc).infer(reduce_infer<K, Mean>).forward(reduce_forward<K, Mean>).grad(grad).flags(kShapeFromShapes | (grad ? 0u : kNonDiff));
}

// Reinsert the reduced axes of `out`'s node into g (when keepdims was False) and broadcast to x.
Expr spread(const Expr& y, const Expr& g) {
  Expr x(y->inputs[0]);
  const Attrs& a = y->attrs;
  Expr ge = g;
  if (!a.b("keepdims")) {
    auto axes = red_axes(a, x.ndim(), y->op->name);
    for (int ax : axes) ge = expand_dims(ge, ax);
  }
  return broadcast_like(ge, x);
}

// A node's axis attr as the C++ API's Axes.
Axes axes_of(const Attrs& a) { return a.get("axis").is_none() ? Axes() : Axes(a.ints("axis")); }

G minmax_grad(const Expr& y, const Expr& g) {
  Expr x(y->inputs[0]);
  Expr mask = cast(equal(x, spread(y, y)), g.dtype());
  Expr count = sum(mask, axes_of(y->attrs), true);
  return G{mask * spread(y, g) / broadcast_like(count, x)};
}

// argmax / argmin: first occurrence, int64, axis removed.
template <bool IsMax>
TypeInfo arg_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const char* name = IsMax ? "argmax" : "argmin";
  int ax = normalize_axis(a.i("axis"), in[0].ndim(), name);
  if (in[0].ndim() == 0) fail_value(name, "needs a tensor of rank >= 1");
  return TypeInfo{reduced_shape(in[0].shape, {ax}, false), DType::int64, true};
}

template <bool IsMax>
Tensor arg_forward(KernelCtx& ctx) {
  const std::string name = IsMax ? "argmax" : "argmin";
  Tensor x0 = ctx.in[0];
  if (x0.dtype() == DType::float16 || x0.dtype() == DType::bool_) x0 = x0.astype(DType::float32);
  int ax = normalize_axis(ctx.attrs().i("axis"), x0.ndim(), name.c_str());
  Layout L = layout(x0, {ax});
  if (L.R == 0) fail_value(name, "attempt to get " + name + " of an empty sequence");
  Tensor out = ctx.alloc_tensor(reduced_shape(x0.shape(), {ax}, false), DType::int64);
  int64_t* o = out.data<int64_t>();
  dispatch(x0.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, half> && !std::is_same_v<T, bool>) {
      const T* p = L.x.data<T>();
      parallel_for(L.A * L.B, std::max<int64_t>(1, 16384 / L.R), [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          int64_t a = i / L.B, b = i % L.B;
          const T* q = p + a * L.R * L.B + b;
          int64_t best = 0;
          T bv = q[0];
          for (int64_t r = 1; r < L.R; ++r) {
            T v = q[r * L.B];
            if (IsMax ? (v > bv || (std::isnan(double(v)) && !std::isnan(double(bv)))) : (v < bv || (std::isnan(double(v)) && !std::isnan(double(bv))))) { bv = v; best = r; }
          }
          o[i] = best;
        }
      });
    }
  });
  return out;
}

template <bool IsMax>
Op arg_op(const char* sig, const char* doc) {
  return Op(sig, doc).infer(arg_infer<IsMax>).forward(arg_forward<IsMax>).flags(kNonDiff);
}

// Inclusive running sum / product along one axis; `reverse` runs from the end (used by grads).
template <bool IsProd>
TypeInfo cum_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const char* pub = IsProd ? "cumprod" : "cumsum";
  if (in[0].rank_known && in[0].ndim() == 0) fail_value(pub, "needs a tensor of rank >= 1 (as TF), got a scalar");
  if (in[0].rank_known) normalize_axis(a.i("axis"), in[0].ndim(), pub);
  return TypeInfo{in[0].shape, reduce_dtype(IsProd ? Red::Prod : Red::Sum, in[0].dtype, false), in[0].rank_known};
}

template <bool IsProd>
Tensor cum_forward(KernelCtx& ctx) {
  const char* name = IsProd ? "_cumprod" : "_cumsum";
  DType od = reduce_dtype(IsProd ? Red::Prod : Red::Sum, ctx.in[0].dtype(), false);
  DType cd = od == DType::float16 ? DType::float32 : od;
  int ax = normalize_axis(ctx.attrs().i("axis"), ctx.in[0].ndim(), name);
  bool rev = ctx.attrs().b("reverse");
  Layout L = layout(ctx.in[0].astype(cd), {ax});
  Tensor out = ctx.alloc_tensor(ctx.in[0].shape(), cd);
  dispatch(cd, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, half> && !std::is_same_v<T, bool>) {
      const T* p = L.x.data<T>();
      T* o = out.data<T>();
      parallel_for(L.A, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, L.R * L.B)), [&](int64_t a0, int64_t a1) {
        for (int64_t a = a0; a < a1; ++a)
          for (int64_t k = 0; k < L.R; ++k) {
            int64_t r = rev ? L.R - 1 - k : k, prev = rev ? r + 1 : r - 1;
            T* cur = o + (a * L.R + r) * L.B;
            const T* src = p + (a * L.R + r) * L.B;
            const T* before = o + (a * L.R + prev) * L.B;
            if (k == 0) std::copy(src, src + L.B, cur);
            else if (IsProd) for (int64_t b = 0; b < L.B; ++b) cur[b] = src[b] * before[b];
            else for (int64_t b = 0; b < L.B; ++b) cur[b] = src[b] + before[b];
          }
      });
    }
  });
  return out.astype(od);
}

template <bool IsProd>
Op cum_op(const char* sig, const char* doc, GradFn grad) {
  return Op(sig, doc).infer(cum_infer<IsProd>).forward(cum_forward<IsProd>).grad(grad);
}

}  // namespace

Tensor reduce_tensor(ew::ReduceOp op, const Tensor& x, const std::vector<int>& axes) {
  Layout L = layout(x, axes);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), axes, true), x.dtype());
  const Red k = op == ew::ReduceOp::sum ? Red::Sum : op == ew::ReduceOp::prod ? Red::Prod : op == ew::ReduceOp::max ? Red::Max
              : op == ew::ReduceOp::min ? Red::Min : op == ew::ReduceOp::any ? Red::Any : Red::All;
  reduce_kernel(k, L, out);
  return out;
}

namespace {

OpRef kSum, kMean, kMax, kMin, kProd, kAny, kAll, kArgmax, kArgmin, kCumsumPrim, kCumprodPrim, kCumsum, kCumprod, kVar, kStd,
    kLogsumexp;

Expr reduce_node(const OpRef& op, const Expr& x, const Axes& axis, bool keepdims) {
  Attrs a;
  a.set("axis", axis ? Value(*axis) : Value());
  a.set("keepdims", Value(keepdims));
  return make_node(op, {x}, a);
}

Expr axis_node(const OpRef& op, const Expr& x, int64_t axis) {
  Attrs a;
  a.set("axis", Value(axis));
  return make_node(op, {x}, a);
}

Expr running(const OpRef& op, const Expr& x, int64_t axis, bool reverse) {
  Attrs a;
  a.set("axis", Value(axis));
  a.set("reverse", Value(reverse));
  return make_node(op, {x}, a);
}

G sum_grad(const Expr& y, const Expr& g) { return G{spread(y, g)}; }
G mean_grad(const Expr& y, const Expr& g) { return G{spread(y, g) * size_ratio(y, Expr(y->inputs[0]))}; }
G prod_grad(const Expr& y, const Expr& g) { return G{spread(y, g) * spread(y, y) / Expr(y->inputs[0])}; }
G cumsum_grad(const Expr& y, const Expr& g) { return G{running(kCumsumPrim, g, y->attrs.i("axis"), !y->attrs.b("reverse"))}; }
G cumprod_grad(const Expr& y, const Expr& g) {
  return G{running(kCumsumPrim, g * y, y->attrs.i("axis"), !y->attrs.b("reverse")) / Expr(y->inputs[0])};
}

// Builds of the composites and of cumsum/cumprod (Keras's signatures have no `reverse`).
Axes axes_arg(const Value& v) { return v.is_none() ? Axes() : Axes(v.ints); }
Expr cumsum_build(const OpDef&, std::vector<Value>& a) { return cumsum(Expr(a[0].t), a[1].i); }
Expr cumprod_build(const OpDef&, std::vector<Value>& a) { return cumprod(Expr(a[0].t), a[1].i); }
Expr var_build(const OpDef&, std::vector<Value>& a) { return var(Expr(a[0].t), axes_arg(a[1]), a[2].b); }
Expr std_build(const OpDef&, std::vector<Value>& a) { return keras_cpp::std(Expr(a[0].t), axes_arg(a[1]), a[2].b); }
Expr logsumexp_build(const OpDef&, std::vector<Value>& a) { return logsumexp(Expr(a[0].t), axes_arg(a[1]), a[2].b); }

}  // namespace

Expr sum(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kSum, x, axis, keepdims); }
Expr mean(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kMean, x, axis, keepdims); }
Expr max(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kMax, x, axis, keepdims); }
Expr min(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kMin, x, axis, keepdims); }
Expr prod(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kProd, x, axis, keepdims); }
Expr any(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kAny, x, axis, keepdims); }
Expr all(const Expr& x, Axes axis, bool keepdims) { return reduce_node(kAll, x, axis, keepdims); }

// Population variance: the mean of squared deviations (divides by N).
Expr var(const Expr& x0, Axes axis, bool keepdims) {
  Expr x = is_floating(x0.dtype()) ? x0 : cast(x0, config::floatx());
  Expr m = mean(x, axis, true);
  return mean(square(x - m), axis, keepdims);
}

Expr std(const Expr& x, Axes axis, bool keepdims) { return sqrt(var(x, axis, keepdims)); }

Expr logsumexp(const Expr& x0, Axes axis, bool keepdims) {
  Expr x = is_floating(x0.dtype()) ? x0 : cast(x0, config::floatx());  // integers would wrap in exp/sum
  const bool f3264 = x.dtype() == DType::float32 || x.dtype() == DType::float64;
  if (f3264 && x.rank_known() && x.ndim() >= 1 && axis && axis->size() == 1 &&
      normalize_axis((*axis)[0], x.ndim(), "logsumexp") == x.ndim() - 1) {  // one fused pass per row
    Expr r = logsumexp_last(x);
    return keepdims ? r : squeeze_axes(r, axis);
  }
  Expr m = stop_gradient(max(x, axis, true));
  Expr finite_m = where(is_finite(m), m, zeros_like(m, m.dtype()));
  Expr r = log(sum(exp(x - finite_m), axis, true)) + finite_m;
  return keepdims ? r : squeeze_axes(r, axis);  // drop the kept axes
}

Expr argmax(const Expr& x, int64_t axis) { return axis_node(kArgmax, x, axis); }
Expr argmin(const Expr& x, int64_t axis) { return axis_node(kArgmin, x, axis); }
Expr cumsum(const Expr& x, int64_t axis) { return running(kCumsumPrim, x, axis, false); }
Expr cumprod(const Expr& x, int64_t axis) { return running(kCumprodPrim, x, axis, false); }

void register_reduce() {
  register_op(kSum, reduce_op<Red::Sum>("sum(x: tensor, axis: axes = None, keepdims: bool = False)",
                                        "Sum of the values over the given axes.", sum_grad));
  register_op(kMean, reduce_op<Red::Sum, true>("mean(x: tensor, axis: axes = None, keepdims: bool = False)",
                                               "Mean over the given axes; bool/int inputs give floatx.", mean_grad));
  register_op(kMax, reduce_op<Red::Max>("max(x: tensor, axis: axes = None, keepdims: bool = False)",
                                        "Maximum over the given axes (ties share the gradient).", minmax_grad));
  register_op(kMin, reduce_op<Red::Min>("min(x: tensor, axis: axes = None, keepdims: bool = False)",
                                        "Minimum over the given axes (ties share the gradient).", minmax_grad));
  register_op(kProd, reduce_op<Red::Prod>("prod(x: tensor, axis: axes = None, keepdims: bool = False)",
                                          "Product over the given axes.", prod_grad));
  register_op(kAny, reduce_op<Red::Any>("any(x: tensor, axis: axes = None, keepdims: bool = False)",
                                        "Logical or over the given axes (bool result).", nullptr));
  register_op(kAll, reduce_op<Red::All>("all(x: tensor, axis: axes = None, keepdims: bool = False)",
                                        "Logical and over the given axes (bool result).", nullptr));
  register_op(kArgmax, arg_op<true>("argmax(x: tensor, axis: int = -1)", "Index of the first maximum along axis (int64)."));
  register_op(kArgmin, arg_op<false>("argmin(x: tensor, axis: int = -1)", "Index of the first minimum along axis (int64)."));
  register_op(kCumsumPrim, cum_op<false>("_cumsum(x: tensor, axis: int = 0, reverse: bool = False)",
                                         "Inclusive running sum along axis.", cumsum_grad));
  register_op(kCumprodPrim, cum_op<true>("_cumprod(x: tensor, axis: int = 0, reverse: bool = False)",
                                         "Inclusive running product along axis.", cumprod_grad));
  register_op(kCumsum, Op("cumsum(x: tensor, axis: int = 0)", "Inclusive running sum along axis (default 0).").build(cumsum_build));
  register_op(kCumprod, Op("cumprod(x: tensor, axis: int = 0)", "Inclusive running product along axis (default 0).").build(cumprod_build));
  // Composites: gradients come from their parts.
  register_op(kVar, Op("var(x: tensor, axis: axes = None, keepdims: bool = False)",
                       "Population variance (divides by N) over the given axes; bool/int inputs give floatx.")
                        .build(var_build));
  register_op(kStd, Op("std(x: tensor, axis: axes = None, keepdims: bool = False)",
                       "Population standard deviation over the given axes.")
                        .build(std_build));
  register_op(kLogsumexp, Op("logsumexp(x: tensor, axis: axes = None, keepdims: bool = False)",
                             "log(sum(exp(x))) over the given axes, computed stably (the max is subtracted first); integer and bool "
                             "inputs give floatx.")
                              .build(logsumexp_build));
}

}  // namespace keras_cpp
