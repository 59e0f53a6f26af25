// cpp/ops/shape_ops.cpp — dtype casts, reshapes and views (permute, expand, squeeze),
// identity/stop_gradient, *_like constructors, the shape tensor, `where`, and the private
// helpers autodiff uses (_sum_to, _broadcast_like, _size_ratio). Indexing is in getitem.cpp.
#include <climits>
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
constexpr int64_t kNone = INT64_MIN;  // a tensor-valued slot inside a reshape target
OpRef kCast, kReshape, kReshapeLike, kPermute, kTranspose, kExpandDims, kSqueeze, kSqueezeAxes, kIdentity,
    kStopGradient, kZerosLike, kOnesLike, kShape, kSumTo, kBroadcastLike, kSizeRatio, kIsFinite, kWhere, kReverseAxes;

TypeInfo same(const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; }

// Resolve a reshape target with at most one -1 against a known element count.
Shape resolve_shape(Shape target, int64_t numel, const std::string& op, const Shape& from) {
  int neg = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (neg >= 0) fail_value(op, "can only specify one unknown dimension (-1) in " + shape_str(target));
      neg = static_cast<int>(i);
    } else if (target[i] < 0) {
      fail_value(op, "invalid dimension " + std::to_string(target[i]) + " in target shape");
    } else {
      known = checked_mul(known, target[i], op.c_str());
    }
  }
  if (neg >= 0) {
    if (known == 0 || numel % known) fail_value(op, "cannot reshape a tensor of shape " + shape_str(from) + " into " + shape_str(target));
    target[neg] = numel / known;
  } else if (known != numel) {
    fail_value(op, "cannot reshape a tensor of shape " + shape_str(from) + " (" + std::to_string(numel) +
                       " elements) into shape " + shape_str(target));
  }
  return target;
}

// Static shape of reshape: a -1 resolves when the input's size is known.
TypeInfo reshape_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  Shape t = a.ints("shape");
  for (int64_t& d : t)
    if (d == kNone) d = kUnknownDim;  // tensor-valued entry: known at run time
  int64_t n = in[0].rank_known ? shape_numel(in[0].shape) : -1;  // unknown rank: size unknown
  bool has_tensor_slot = false;
  for (int64_t d : a.ints("shape")) has_tensor_slot |= d == kNone;
  if (n >= 0 && !has_tensor_slot && in.size() == 1) return TypeInfo{resolve_shape(t, n, "reshape", in[0].shape), in[0].dtype, true};
  int negs = 0;
  for (int64_t d : a.ints("shape")) negs += d == -1;
  if (negs > 1) fail_value("reshape", "can only specify one unknown dimension (-1)");
  if (in.size() == 2 && a.ints("shape").empty()) {  // 1-D shape tensor: rank from its length
    int64_t r = in[1].shape.empty() ? 0 : in[1].shape[0];
    return TypeInfo{Shape(std::max<int64_t>(r, 0), kUnknownDim), in[0].dtype, r >= 0};
  }
  return TypeInfo{t, in[0].dtype, true};
}

Tensor reshape_forward(KernelCtx& ctx) {
  const Tensor& x = ctx.in[0];
  Shape t = ctx.attrs().ints("shape");
  if (ctx.in.size() > 1 && t.empty()) {  // shape given as a 1-D tensor
    Tensor s = ctx.in[1];
    for (int64_t i = 0; i < s.numel(); ++i) t.push_back(static_cast<int64_t>(s.item(i)));
  } else {
    size_t k = 1;
    for (int64_t& d : t)
      if (d == kNone) d = static_cast<int64_t>(ctx.in[k++].item());
  }
  return x.reshape(resolve_shape(t, x.numel(), "reshape", x.shape()));
}

Expr make_reshape(const Expr& x, std::vector<int64_t> target, std::vector<Expr> slots) {
  Attrs at;
  at.set("shape", Value(std::move(target)));
  std::vector<Expr> ins{x};
  ins.insert(ins.end(), slots.begin(), slots.end());
  return make_node(kReshape, std::move(ins), std::move(at));
}

// Keras shape arguments: ints, a list mixing ints and scalar tensors, or a 1-D int tensor.
Expr reshape_build(const OpDef&, std::vector<Value>& a) {
  Expr x(a[0].t);
  const Value& s = a[1];
  if (s.kind == Value::Ints) {
    for (int64_t d : s.ints)  // kNone marks a tensor entry: a literal -2**63 must not read as one
      if (d == kNone) fail_value("reshape", "invalid dimension " + std::to_string(d) + " in target shape");
    return make_reshape(x, s.ints, {});
  }
  if (s.kind == Value::Int) return make_reshape(x, {s.i}, {});
  if (s.kind == Value::Tensor) return make_reshape(x, {}, {Expr(s.t)});
  if (s.kind == Value::List) return reshape_to(x, s.list);
  fail_type("reshape", "shape must be a tuple of ints/scalar tensors or a 1-D int tensor, got " + s.repr());
}

G reshape_grad(const Expr& y, const Expr& g) { return G{reshape_like(g, Expr(y->inputs[0]))}; }

TypeInfo reshape_like_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  return TypeInfo{in[1].shape, in[0].dtype, in[1].rank_known};
}
Tensor reshape_like_forward(KernelCtx& ctx) { return ctx.in[0].reshape(ctx.in[1].shape()); }
G reshape_like_grad(const Expr& y, const Expr& g) { return G{reshape_like(g, Expr(y->inputs[0])), Expr()}; }

TypeInfo cast_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  return TypeInfo{in[0].shape, a.dtype("dtype"), in[0].rank_known};
}

Tensor cast_forward(KernelCtx& ctx) {
  DType t = ctx.attrs().dtype("dtype");
  if (ctx.in[0].dtype() == t) return ctx.in[0];
  Tensor out = ctx.alloc_tensor(ctx.in[0].shape(), t);
  copy_into(ctx.in[0], out);
  return out;
}

G cast_grad(const Expr& y, const Expr& g) {
  Expr x(y->inputs[0]);
  return G{is_floating(x.dtype()) && is_floating(y.dtype()) ? cast(g, x.dtype()) : Expr()};
}

TypeInfo permute_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const auto& pat = a.ints("pattern");
  // Unknown rank: the pattern gives it (checked against the real rank when the node runs).
  if (!in[0].rank_known) return TypeInfo{Shape(pat.size(), kUnknownDim), in[0].dtype, true};
  int nd = in[0].ndim();
  if (static_cast<int>(pat.size()) != nd)
    fail_value("permute_dimensions", "pattern " + Value(pat).repr() + " has " + std::to_string(pat.size()) +
                                         " entries for a tensor of rank " + std::to_string(nd));
  std::vector<bool> seen(nd, false);
  Shape s;
  for (int64_t k : pat) {
    int ax = normalize_axis(k, nd, "permute_dimensions", "pattern entry");
    if (seen[ax]) fail_value("permute_dimensions", "pattern " + Value(pat).repr() + " repeats axis " + std::to_string(ax));
    seen[ax] = true;
    s.push_back(in[0].shape[ax]);
  }
  return TypeInfo{s, in[0].dtype, true};
}

Tensor permute_forward(KernelCtx& ctx) {
  std::vector<int> ax;
  for (int64_t k : ctx.attrs().ints("pattern")) ax.push_back(static_cast<int>(k < 0 ? k + ctx.in[0].ndim() : k));
  return ctx.in[0].permute(ax);
}

G permute_grad(const Expr& y, const Expr& g) {
  const auto& pat = y->attrs.ints("pattern");
  int nd = static_cast<int>(pat.size());
  std::vector<int64_t> inv(nd);
  for (int i = 0; i < nd; ++i) inv[pat[i] < 0 ? pat[i] + nd : pat[i]] = i;
  return G{permute_dimensions(g, inv)};
}

Expr transpose_build(const OpDef&, std::vector<Value>& a) { return transpose(Expr(a[0].t)); }

// transpose of a tensor whose rank is known only at run time.
Tensor reverse_axes_forward(KernelCtx& ctx) {
  std::vector<int> ax;
  for (int i = ctx.in[0].ndim() - 1; i >= 0; --i) ax.push_back(i);
  return ctx.in[0].permute(ax);
}
G reverse_axes_grad(const Expr&, const Expr& g) { return G{make_node(kReverseAxes, {g})}; }

TypeInfo expand_dims_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  int ax = normalize_axis(a.i("axis"), in[0].ndim() + 1, "expand_dims");
  Shape s = in[0].shape;
  s.insert(s.begin() + ax, 1);
  return TypeInfo{s, in[0].dtype, true};
}

Tensor expand_dims_forward(KernelCtx& ctx) {
  const Tensor& x = ctx.in[0];
  int ax = normalize_axis(ctx.attrs().i("axis"), x.ndim() + 1, "expand_dims");
  Shape s = x.shape(), st = x.strides();
  s.insert(s.begin() + ax, 1);
  st.insert(st.begin() + ax, 0);
  return Tensor(x.storage(), s, st, x.offset(), x.dtype());
}

TypeInfo squeeze_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (!in[0].rank_known) return TypeInfo{{}, in[0].dtype, false};  // checked when it runs
  if (in[0].ndim() == 0) fail_value("squeeze", "cannot squeeze a scalar (rank-0 tensor)");
  int ax = normalize_axis(a.i("axis"), in[0].ndim(), "squeeze");
  if (in[0].shape[ax] > 1)
    fail_value("squeeze", "cannot squeeze axis " + std::to_string(a.i("axis")) + " of shape " + shape_str(in[0].shape) +
                              ": its length is not 1");
  Shape s = in[0].shape;
  s.erase(s.begin() + ax);
  return TypeInfo{s, in[0].dtype, true};
}

Tensor squeeze_forward(KernelCtx& ctx) {
  const Tensor& x = ctx.in[0];
  if (x.ndim() == 0) fail_value("squeeze", "cannot squeeze a scalar (rank-0 tensor)");
  int ax = normalize_axis(ctx.attrs().i("axis"), x.ndim(), "squeeze");
  if (x.shape()[ax] != 1) fail_value("squeeze", "cannot squeeze axis of length " + std::to_string(x.shape()[ax]));
  Shape s = x.shape(), st = x.strides();
  s.erase(s.begin() + ax);
  st.erase(st.begin() + ax);
  return Tensor(x.storage(), s, st, x.offset(), x.dtype());
}

Expr squeeze_axes_build(const OpDef&, std::vector<Value>& a) {
  return squeeze_axes(Expr(a[0].t), a[1].is_none() ? Axes() : Axes(a[1].ints));
}

Tensor pass_forward(KernelCtx& ctx) { return ctx.in[0]; }
G identity_grad(const Expr&, const Expr& g) { return G{g}; }

TypeInfo fill_like_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  return TypeInfo{in[0].shape, a.dtype("dtype"), in[0].rank_known};
}

template <int V>
Tensor fill_like_forward(KernelCtx& ctx) {
  if (!V) return ctx.alloc_zeros(ctx.in[0].shape(), ctx.attrs().dtype("dtype"));
  Tensor o = ctx.alloc_tensor(ctx.in[0].shape(), ctx.attrs().dtype("dtype"));
  copy_into(Tensor::full({}, o.dtype(), V).broadcast_to(o.shape()), o);
  return o;
}

TypeInfo shape_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  return TypeInfo{{in[0].rank_known ? in[0].ndim() : kUnknownDim}, DType::int32, true};
}

Tensor shape_forward(KernelCtx& ctx) {
  Tensor o = Tensor::empty({ctx.in[0].ndim()}, DType::int32);
  for (int i = 0; i < ctx.in[0].ndim(); ++i) o.data<int32_t>()[i] = static_cast<int32_t>(ctx.in[0].shape()[i]);
  return o;
}

// Sum g over the axes where `like` (run-time shape) was broadcast.
Tensor sum_to_kernel(const Tensor& g, const Shape& target) {
  if (g.shape() == target) return g;
  int nd = g.ndim(), k = static_cast<int>(target.size());
  std::vector<int> axes;
  for (int i = 0; i < nd; ++i) {
    int j = i - (nd - k);
    if (j < 0 || (target[j] == 1 && g.shape()[i] != 1)) axes.push_back(i);
  }
  DType dt = g.dtype() == DType::float16 ? DType::float32 : g.dtype();
  Tensor cur = reduce_tensor(ew::ReduceOp::sum, g.astype(dt), axes);
  return cur.reshape(target).astype(g.dtype());
}


TypeInfo like_infer(const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[1].shape, in[0].dtype, in[1].rank_known}; }
Tensor sum_to_forward(KernelCtx& ctx) { return sum_to_kernel(ctx.in[0], ctx.in[1].shape()); }
G sum_to_grad(const Expr& y, const Expr& g) { return G{broadcast_like(g, Expr(y->inputs[0])), Expr()}; }

TypeInfo broadcast_like_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  return TypeInfo{broadcast_shapes(in[0].shape, in[1].shape, "broadcast"), in[0].dtype, in[1].rank_known};
}
Tensor broadcast_like_forward(KernelCtx& ctx) {
  return ctx.in[0].broadcast_to(broadcast_shapes(ctx.in[0].shape(), ctx.in[1].shape(), "broadcast"));
}
G broadcast_like_grad(const Expr& y, const Expr& g) { return G{sum_to(g, Expr(y->inputs[0])), Expr()}; }

TypeInfo size_ratio_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  return TypeInfo{{}, is_floating(in[1].dtype) ? in[1].dtype : config::floatx(), true};
}
Tensor size_ratio_forward(KernelCtx& ctx) {
  DType t = is_floating(ctx.in[1].dtype()) ? ctx.in[1].dtype() : config::floatx();
  double n = static_cast<double>(ctx.in[1].numel());
  return Tensor::scalar(n ? ctx.in[0].numel() / n : 0.0, t);
}

TypeInfo is_finite_infer(const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[0].shape, DType::bool_, in[0].rank_known}; }
Tensor is_finite_forward(KernelCtx& ctx) {
  DType ft = ctx.in[0].dtype();
  Tensor x = ctx.in[0].astype(is_floating(ft) && ft != DType::float16 ? ft : DType::float64);
  Tensor o = ctx.alloc_tensor(x.shape(), DType::bool_);
  Tensor xc = x.contiguous();
  dispatch_float(xc.dtype(), "_isfinite", [&](auto tag) {
    using T = decltype(tag);
    const T* p = xc.data<T>();
    for (int64_t i = 0; i < xc.numel(); ++i) o.data<bool>()[i] = std::isfinite(p[i]);
  });
  return o;
}

Shape where_shape(const Shape& c, const Shape& a, const Shape& b) {
  return broadcast_shapes(broadcast_shapes(c, a, "where"), b, "where");
}
TypeInfo where_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  return TypeInfo{where_shape(in[0].shape, in[1].shape, in[2].shape), promote_types(in[1].dtype, in[2].dtype), true};
}

Tensor where_forward(KernelCtx& ctx) {
  Shape s = where_shape(ctx.in[0].shape(), ctx.in[1].shape(), ctx.in[2].shape());
  DType dt = promote_types(ctx.in[1].dtype(), ctx.in[2].dtype());
  Tensor c = ctx.in[0].astype(DType::bool_).broadcast_to(s);
  Tensor a = ctx.in[1].astype(dt).broadcast_to(s), b = ctx.in[2].astype(dt).broadcast_to(s);
  Tensor o = ctx.alloc_tensor(s, dt);
  Shape ost = o.strides();
  dispatch(dt, [&](auto tag) {
    using T = decltype(tag);
    const bool* pc = c.data<bool>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = o.data<T>();
    strided_apply<4>(s, {&c.strides(), &a.strides(), &b.strides(), &ost}, [&](int64_t n, const int64_t* off, const int64_t* str) {
      for (int64_t i = 0; i < n; ++i)
        po[off[3] + i * str[3]] = pc[off[0] + i * str[0]] ? pa[off[1] + i * str[1]] : pb[off[2] + i * str[2]];
    });
  });
  return o;
}

G where_grad(const Expr& y, const Expr& g) {
  Expr c(y->inputs[0]);
  Expr z = zeros_like(g, g.dtype());
  return G{Expr(), sum_to(where(c, g, z), Expr(y->inputs[1])), sum_to(where(c, z, g), Expr(y->inputs[2]))};
}

Value dtype_or_floatx(std::optional<DType> dt) { return dtype_value(dt ? *dt : config::floatx()); }

}  // namespace

Expr cast(const Expr& x, DType dtype) {
  Attrs a;
  a.set("dtype", dtype_value(dtype));
  return make_node(kCast, {x}, a);
}
Expr reshape(const Expr& x, const Shape& shape) { return make_reshape(x, shape, {}); }
Expr reshape_to(const Expr& x, const std::vector<Value>& dims) {
  std::vector<int64_t> t;
  std::vector<Expr> slots;
  for (auto& v : dims) {
    if (v.kind == Value::Int && v.i == kNone) fail_value("reshape", "invalid dimension " + std::to_string(v.i) + " in target shape");
    if (v.kind == Value::Int) t.push_back(v.i);
    else if (v.kind == Value::Tensor) { t.push_back(kNone); slots.push_back(Expr(v.t)); }
    else if (v.kind == Value::None) t.push_back(-1);
    else fail_type("reshape", "shape entries must be ints or scalar tensors, got " + v.repr());
  }
  return make_reshape(x, std::move(t), std::move(slots));
}
Expr reshape_like(const Expr& x, const Expr& like) { return make_node(kReshapeLike, {x, like}); }
Expr permute_dimensions(const Expr& x, const std::vector<int64_t>& p) {
  Attrs a;
  a.set("pattern", Value(p));
  return make_node(kPermute, {x}, a);
}
Expr transpose(const Expr& x) {
  if (!x.rank_known()) return make_node(kReverseAxes, {x});
  std::vector<int64_t> pat;
  for (int i = x.ndim() - 1; i >= 0; --i) pat.push_back(i);
  return permute_dimensions(x, pat);
}
Expr expand_dims(const Expr& x, int64_t axis) {
  Attrs a;
  a.set("axis", Value(axis));
  return make_node(kExpandDims, {x}, a);
}
Expr squeeze(const Expr& x, int64_t axis) {
  Attrs a;
  a.set("axis", Value(axis));
  return make_node(kSqueeze, {x}, a);
}
Expr squeeze_axes(const Expr& x, const Axes& axis) {
  if (!x.rank_known()) fail_value("squeeze", "needs a tensor of known rank to drop axes " + (axis ? Value(*axis) : Value()).repr());
  std::vector<int> axes;
  if (!axis) for (int i = 0; i < x.ndim(); ++i) axes.push_back(i);
  else axes = normalize_axes(*axis, x.ndim(), "squeeze");
  Expr r = x;
  for (int k = static_cast<int>(axes.size()) - 1; k >= 0; --k) r = squeeze(r, axes[k]);
  return r;
}
Expr identity(const Expr& x) { return make_node(kIdentity, {x}); }
Expr stop_gradient(const Expr& x) { return make_node(kStopGradient, {x}); }
Expr zeros_like(const Expr& x, std::optional<DType> dt) {
  Attrs a;
  a.set("dtype", dtype_or_floatx(dt));
  return make_node(kZerosLike, {x}, a);
}
Expr ones_like(const Expr& x, std::optional<DType> dt) {
  Attrs a;
  a.set("dtype", dtype_or_floatx(dt));
  return make_node(kOnesLike, {x}, a);
}
Expr shape(const Expr& x) { return make_node(kShape, {x}); }
Expr where(const Expr& c, const Expr& a, const Expr& b) { return make_node(kWhere, {c, a, b}); }
Expr sum_to(const Expr& g, const Expr& like) {
  if (g.rank_known() && like.rank_known() && g.shape() == like.shape() && shape_known(g.shape())) return g;
  return make_node(kSumTo, {g, like});
}
Expr broadcast_like(const Expr& x, const Expr& like) {
  if (x.rank_known() && like.rank_known() && x.shape() == like.shape() && shape_known(x.shape())) return x;
  return make_node(kBroadcastLike, {x, like});
}
Expr size_ratio(const Expr& y, const Expr& x) { return make_node(kSizeRatio, {y, x}); }
Expr is_finite(const Expr& x) { return make_node(kIsFinite, {x}); }

void register_shape_ops() {
  register_op(kCast, Op("cast(x: tensor, dtype: dtype)", "Convert x to dtype (float -> int truncates toward zero).")
                         .infer(cast_infer).forward(cast_forward).grad(cast_grad).ew(OpDef::EwForm::cast));
  register_op(kReshape, Op("reshape(x: tensor, shape: shape)", "Row-major reshape; one -1 entry is inferred; shape may mix ints and scalar tensors.")
                            .build(reshape_build).infer(reshape_infer).forward(reshape_forward).grad(reshape_grad)
                            .flags(kView | kDynamicShape));
  register_op(kReshapeLike, Op("_reshape_like(x: tensor, like: tensor)", "Reshape x to the run-time shape of like.")
                                .infer(reshape_like_infer).forward(reshape_like_forward).grad(reshape_like_grad).flags(kView).shape_inputs(2));
  register_op(kPermute, Op("permute_dimensions(x: tensor, pattern: ints)", "Permute axes: output axis i is input axis pattern[i].")
                            .infer(permute_infer).forward(permute_forward).grad(permute_grad).flags(kView));
  register_op(kTranspose, Op("transpose(x: tensor)", "Reverse all axes (matrix transpose for 2-D).").build(transpose_build));
  register_op(kReverseAxes, Op("_reverse_axes(x: tensor)", "transpose of a tensor whose rank is known only at run time.")
                                .infer(same).forward(reverse_axes_forward).grad(reverse_axes_grad).flags(kView));
  register_op(kExpandDims, Op("expand_dims(x: tensor, axis: int = -1)", "Insert a length-1 axis at axis (-1 appends).")
                               .infer(expand_dims_infer).forward(expand_dims_forward).grad(reshape_grad).flags(kView));
  register_op(kSqueeze, Op("squeeze(x: tensor, axis: int)", "Remove axis, which must have length 1.")
                            .infer(squeeze_infer).forward(squeeze_forward).grad(reshape_grad).flags(kView));
  register_op(kSqueezeAxes, Op("_squeeze_axes(x: tensor, axis: axes = None)", "Remove the given length-1 axes (all if None).")
                                .build(squeeze_axes_build));
  register_op(kIdentity, Op("identity(x: tensor, name: str? = None)", "A new tensor with the same value.")
                             .infer(same).forward(pass_forward).grad(identity_grad).flags(kView));
  register_op(kStopGradient, Op("stop_gradient(x: tensor)", "Same value; no gradient flows through.")
                                 .infer(same).forward(pass_forward).flags(kView | kNonDiff));
  register_op(kZerosLike, Op("zeros_like(x: tensor, dtype: dtype = None, name: str? = None)",
                             "Zeros with x's run-time shape; dtype None means floatx (Keras quirk).")
                              .infer(fill_like_infer).forward(fill_like_forward<0>).flags(kNonDiff).shape_inputs(1));
  register_op(kOnesLike, Op("ones_like(x: tensor, dtype: dtype = None, name: str? = None)",
                            "Ones with x's run-time shape; dtype None means floatx (Keras quirk).")
                             .infer(fill_like_infer).forward(fill_like_forward<1>).flags(kNonDiff).shape_inputs(1));
  register_op(kShape, Op("shape(x: tensor)", "The run-time shape of x as a 1-D int32 tensor.")
                          .infer(shape_infer).forward(shape_forward).flags(kNonDiff | kSparse).shape_inputs(1));  // reads only the (dense) shape
  register_op(kSumTo, Op("_sum_to(g: tensor, like: tensor)", "Sum g over the axes broadcast against like's run-time shape.")
                          .infer(like_infer).forward(sum_to_forward).grad(sum_to_grad).shape_inputs(2));
  register_op(kBroadcastLike, Op("_broadcast_like(x: tensor, like: tensor)", "Broadcast x to like's run-time shape (a view).")
                                  .infer(broadcast_like_infer).forward(broadcast_like_forward).grad(broadcast_like_grad).flags(kView).shape_inputs(2));
  register_op(kSizeRatio, Op("_size_ratio(y: tensor, x: tensor)", "numel(y) / numel(x) at run time, as a scalar of x's dtype.")
                              .infer(size_ratio_infer).forward(size_ratio_forward).flags(kNonDiff).shape_inputs(3));
  register_op(kIsFinite, Op("_isfinite(x: tensor)", "Elementwise isfinite (bool).")
                             .infer(is_finite_infer).forward(is_finite_forward).flags(kNonDiff | kElementwise));
  register_op(kWhere, Op("_where(condition: tensor, x: tensor, y: tensor)", "Elementwise select with broadcasting: x where condition, else y.")
                          .infer(where_infer).forward(where_forward).grad(where_grad).ew(OpDef::EwForm::select));
}

}  // namespace keras_cpp
