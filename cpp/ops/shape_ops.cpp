// cpp/ops/shape_ops.cpp — dtype casts, reshapes and views (permute, expand, squeeze, indexing),
// identity/stop_gradient, *_like constructors, the shape tensor, `where`, and the private
// helpers autodiff uses (_sum_to, _broadcast_like, _size_ratio).
#include <climits>
#include <cmath>
#include <cstring>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
constexpr int64_t kNone = INT64_MIN;  // "None" inside int lists (slice bounds, shape slots)


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
      known *= target[i];
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

// Parse Keras shape arguments: ints, a list mixing ints and scalar tensors, or a 1-D tensor.
Expr build_reshape(const OpDef& op, std::vector<Value>& a) {
  Expr x(a[0].t);
  Value& s = a[1];
  Attrs at;
  std::vector<Expr> ins{x};
  if (s.kind == Value::Ints) {
    at.set("shape", s);
  } else if (s.kind == Value::Int) {
    at.set("shape", Value(std::vector<int64_t>{s.i}));
  } else if (s.kind == Value::Tensor) {
    at.set("shape", Value(std::vector<int64_t>{}));
    ins.push_back(Expr(s.t));
  } else if (s.kind == Value::List) {
    std::vector<int64_t> t;
    for (auto& v : s.list) {
      if (v.kind == Value::Int) t.push_back(v.i);
      else if (v.kind == Value::Tensor) { t.push_back(kNone); ins.push_back(Expr(v.t)); }
      else if (v.kind == Value::None) t.push_back(-1);
      else fail_type("reshape", "shape entries must be ints or scalar tensors, got " + v.repr());
    }
    at.set("shape", Value(t));
  } else {
    fail_type("reshape", "shape must be a tuple of ints/scalar tensors or a 1-D int tensor, got " + s.repr());
  }
  return make_node(op, ins, at);
}

// ---- indexing: spec = flat (kind, start, stop, step) quads; kinds 0 index, 1 slice, 2 newaxis, 3 ellipsis
struct IndexPlan {
  Shape out_shape;
};

// Apply an index spec to a tensor (view), or compute the static shape when `t` is null.
Tensor apply_index(const Tensor* t, const Shape& in_shape, const std::vector<int64_t>& spec, Shape* static_out) {
  int nd = static_cast<int>(in_shape.size());
  size_t nq = spec.size() / 4;
  int consumed = 0;
  for (size_t q = 0; q < nq; ++q) consumed += (spec[4 * q] == 0 || spec[4 * q] == 1);
  if (consumed > nd) fail_value("getitem", "too many indices (" + std::to_string(consumed) + ") for a tensor of rank " + std::to_string(nd));
  Tensor v = t ? *t : Tensor();
  Shape out;
  int axis = 0;       // current input axis
  int vaxis = 0;      // current axis of the view v (after dropping indexed axes)
  std::vector<int> drop;
  std::vector<int> insert_at;
  for (size_t q = 0; q < nq; ++q) {
    int64_t kind = spec[4 * q], s0 = spec[4 * q + 1], s1 = spec[4 * q + 2], st = spec[4 * q + 3];
    if (kind == 3) {
      int skip = nd - consumed;
      for (int k = 0; k < skip; ++k) { out.push_back(in_shape[axis++]); ++vaxis; }
      continue;
    }
    if (kind == 2) { out.push_back(1); insert_at.push_back(static_cast<int>(out.size()) - 1); continue; }
    int64_t n = in_shape[axis];
    if (kind == 0) {
      if (n >= 0 && (s0 < -n || s0 >= n))
        fail_value("getitem", "index " + std::to_string(s0) + " is out of bounds for axis " + std::to_string(axis) + " with size " + std::to_string(n));
      if (t) {
        int64_t i = s0 < 0 ? s0 + n : s0;
        v = v.slice(vaxis, i, i + 1, 1);
        drop.push_back(vaxis);
      }
      ++vaxis;
      ++axis;
      continue;
    }
    // slice
    if (st == kNone) st = 1;
    if (st == 0) fail_value("getitem", "slice step cannot be zero");
    if (n < 0) {
      out.push_back(kUnknownDim);
    } else {
      int64_t b, e;
      if (st > 0) {
        b = s0 == kNone ? 0 : (s0 < 0 ? std::max<int64_t>(s0 + n, 0) : std::min(s0, n));
        e = s1 == kNone ? n : (s1 < 0 ? std::max<int64_t>(s1 + n, 0) : std::min(s1, n));
      } else {
        b = s0 == kNone ? n - 1 : (s0 < 0 ? std::max<int64_t>(s0 + n, -1) : std::min(s0, n - 1));
        e = s1 == kNone ? -1 : (s1 < 0 ? std::max<int64_t>(s1 + n, -1) : std::min(s1, n - 1));
      }
      if (t) v = v.slice(vaxis, b, e, st);
      int64_t len = st > 0 ? std::max<int64_t>(0, (e - b + st - 1) / st) : std::max<int64_t>(0, (b - e + (-st) - 1) / (-st));
      out.push_back(len);
    }
    ++vaxis;
    ++axis;
  }
  for (; axis < nd; ++axis) out.push_back(in_shape[axis]);
  if (static_out) *static_out = out;
  if (!t) return Tensor();
  // Drop indexed axes and insert newaxes: a pure restriding of the view.
  Shape sh, stv;
  for (int k = 0; k < v.ndim(); ++k)
    if (std::find(drop.begin(), drop.end(), k) == drop.end()) { sh.push_back(v.shape()[k]); stv.push_back(v.strides()[k]); }
  for (int pos : insert_at) { sh.insert(sh.begin() + pos, 1); stv.insert(stv.begin() + pos, 0); }
  return Tensor(v.storage(), sh, stv, v.offset(), v.dtype());
}

// ---- symbolic indexing: spec entries equal to kDynIndex are read from scalar int inputs
// (x[i], x[i:j], x[:, i] with tensors i, j), in spec order, starting at input `first`.
constexpr int64_t kDynIndex = INT64_MIN + 1;

std::vector<int64_t> resolve_spec(const std::vector<int64_t>& spec, const std::vector<Tensor>& in, size_t first) {
  std::vector<int64_t> r = spec;
  size_t k = first;
  for (size_t q = 0; q < r.size(); ++q)
    if (r[q] == kDynIndex) r[q] = static_cast<int64_t>(in.at(k++).item());
  for (size_t q = 0; q < r.size() / 4; ++q)
    if (r[4 * q] == 1 && r[4 * q + 3] == 0) fail_value("getitem", "slice step cannot be zero");
  return r;
}

void check_index_inputs(const std::vector<TypeInfo>& in, size_t first) {
  for (size_t k = first; k < in.size(); ++k)
    if (!is_integer(in[k].dtype) || (in[k].rank_known && in[k].ndim() != 0))
      fail_type("getitem", std::string("index and slice-bound tensors must be scalar ints, got a ") + dtype_name(in[k].dtype) +
                               " tensor of shape " + (in[k].rank_known ? shape_str(in[k].shape) : std::string("<unknown rank>")));
}

// Static shape of x[spec]: a tensor index drops its axis, a slice with a tensor bound has an
// unknown length.
Shape getitem_static(const TypeInfo& x, std::vector<int64_t> spec) {
  int nd = x.ndim();
  int consumed = 0;
  for (size_t q = 0; q < spec.size() / 4; ++q) consumed += (spec[4 * q] == 0 || spec[4 * q] == 1);
  std::vector<size_t> unknown;  // output positions of slices with tensor bounds
  size_t pos = 0;
  int axis = 0;
  for (size_t q = 0; q < spec.size() / 4; ++q) {
    int64_t* e = &spec[4 * q];
    if (e[0] == 3) { pos += std::max(0, nd - consumed); axis += std::max(0, nd - consumed); continue; }
    if (e[0] == 2) { ++pos; continue; }
    bool dyn = false;
    for (int j = 1; j < 4; ++j)
      if (e[j] == kDynIndex) { dyn = true; e[j] = e[0] == 0 ? 0 : kNone; }
    if (e[0] == 0 && dyn && axis < nd && x.shape[axis] < 0) e[1] = 0;  // bounds known at run time only
    if (e[0] == 1) {
      if (dyn) unknown.push_back(pos);
      ++pos;
    }
    ++axis;
  }
  Shape s;
  apply_index(nullptr, x.shape, spec, &s);
  for (size_t p : unknown) s[p] = kUnknownDim;
  return s;
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

}  // namespace

Expr cast(const Expr& x, DType dtype) { return call("cast", {x, Value(std::string(dtype_name(dtype)))}); }
Expr reshape(const Expr& x, const Shape& shape) { return call("reshape", {x, Value(shape)}); }
Expr permute_dimensions(const Expr& x, const std::vector<int64_t>& p) { return call("permute_dimensions", {x, Value(p)}); }
Expr transpose(const Expr& x) { return call("transpose", {x}); }
Expr expand_dims(const Expr& x, int64_t axis) { return call("expand_dims", {x, Value(axis)}); }
Expr squeeze(const Expr& x, int64_t axis) { return call("squeeze", {x, Value(axis)}); }
Expr identity(const Expr& x) { return call("identity", {x}); }
Expr stop_gradient(const Expr& x) { return call("stop_gradient", {x}); }
Expr zeros_like(const Expr& x, std::optional<DType> dt) {
  return call("zeros_like", {x, dt ? Value(std::string(dtype_name(*dt))) : Value()});
}
Expr ones_like(const Expr& x, std::optional<DType> dt) {
  return call("ones_like", {x, dt ? Value(std::string(dtype_name(*dt))) : Value()});
}
Expr shape(const Expr& x) { return call("shape", {x}); }
Expr where(const Expr& c, const Expr& a, const Expr& b) { return call("_where", {c, a, b}); }
Expr sum_to(const Expr& g, const Expr& like) {
  if (g.rank_known() && like.rank_known() && g.shape() == like.shape() && shape_known(g.shape())) return g;
  return make_node("_sum_to", {g, like});
}
Expr broadcast_like(const Expr& x, const Expr& like) {
  if (x.rank_known() && like.rank_known() && x.shape() == like.shape() && shape_known(x.shape())) return x;
  return make_node("_broadcast_like", {x, like});
}

void register_shape_ops() {
  OpDef c = def("cast(x: tensor, dtype: str)", "Convert x to dtype (float -> int truncates toward zero).");
  c.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    return TypeInfo{in[0].shape, dtype_from_name(a.s("dtype")), in[0].rank_known};
  };
  c.forward = [](KernelCtx& ctx) {
    DType t = dtype_from_name(ctx.attrs().s("dtype"));
    if (ctx.in[0].dtype() == t) return ctx.in[0];
    Tensor out = ctx.alloc_tensor(ctx.in[0].shape(), t);
    copy_into(ctx.in[0], out);
    return out;
  };
  c.grad = [](const Expr& y, const Expr& g) {
    Expr x(y->inputs[0]);
    return G{is_floating(x.dtype()) && is_floating(y.dtype()) ? cast(g, x.dtype()) : Expr()};
  };
  c.ew = {OpDef::EwForm::cast, 0};
  register_op(c);

  OpDef r = def("reshape(x: tensor, shape: shape)", "Row-major reshape; one -1 entry is inferred; shape may mix ints and scalar tensors.");
  r.build = build_reshape;
  r.infer = reshape_infer;
  r.forward = reshape_forward;
  r.grad = [](const Expr& y, const Expr& g) { return G{make_node("_reshape_like", {g, Expr(y->inputs[0])})}; };
  r.flags = kView | kDynamicShape;
  register_op(r);

  OpDef rl = def("_reshape_like(x: tensor, like: tensor)", "Reshape x to the run-time shape of like.");
  rl.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[1].shape, in[0].dtype, in[1].rank_known}; };
  rl.forward = [](KernelCtx& ctx) { return ctx.in[0].reshape(ctx.in[1].shape()); };
  rl.grad = [](const Expr& y, const Expr& g) { return G{make_node("_reshape_like", {g, Expr(y->inputs[0])}), Expr()}; };
  rl.flags = kView;
  register_op(rl);

  OpDef p = def("permute_dimensions(x: tensor, pattern: ints)", "Permute axes: output axis i is input axis pattern[i].");
  p.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    const auto& pat = a.ints("pattern");
    int nd = in[0].ndim();
    if (static_cast<int>(pat.size()) != nd) fail_value("permute_dimensions", "pattern " + Value(pat).repr() + " has " + std::to_string(pat.size()) + " entries for a tensor of rank " + std::to_string(nd));
    std::vector<bool> seen(nd, false);
    Shape s;
    for (int64_t k : pat) {
      int ax = normalize_axis(k, nd, "permute_dimensions", "pattern entry");
      if (seen[ax]) fail_value("permute_dimensions", "pattern " + Value(pat).repr() + " repeats axis " + std::to_string(ax));
      seen[ax] = true;
      s.push_back(in[0].shape[ax]);
    }
    return TypeInfo{s, in[0].dtype, true};
  };
  p.forward = [](KernelCtx& ctx) {
    std::vector<int> ax;
    for (int64_t k : ctx.attrs().ints("pattern")) ax.push_back(static_cast<int>(k < 0 ? k + ctx.in[0].ndim() : k));
    return ctx.in[0].permute(ax);
  };
  p.grad = [](const Expr& y, const Expr& g) {
    const auto& pat = y->attrs.ints("pattern");
    int nd = static_cast<int>(pat.size());
    std::vector<int64_t> inv(nd);
    for (int i = 0; i < nd; ++i) inv[pat[i] < 0 ? pat[i] + nd : pat[i]] = i;
    return G{permute_dimensions(g, inv)};
  };
  p.flags = kView;
  register_op(p);

  OpDef t = def("transpose(x: tensor)", "Reverse all axes (matrix transpose for 2-D).");
  t.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    std::vector<int64_t> pat;
    for (int i = x.ndim() - 1; i >= 0; --i) pat.push_back(i);
    return permute_dimensions(x, pat);
  };
  register_op(t);

  OpDef e = def("expand_dims(x: tensor, axis: int = -1)", "Insert a length-1 axis at axis (-1 appends).");
  e.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    int nd = in[0].ndim();
    int ax = normalize_axis(a.i("axis"), nd + 1, "expand_dims");
    Shape s = in[0].shape;
    s.insert(s.begin() + ax, 1);
    return TypeInfo{s, in[0].dtype, true};
  };
  e.forward = [](KernelCtx& ctx) {
    const Tensor& x = ctx.in[0];
    int ax = normalize_axis(ctx.attrs().i("axis"), x.ndim() + 1, "expand_dims");
    Shape s = x.shape(), st = x.strides();
    s.insert(s.begin() + ax, 1);
    st.insert(st.begin() + ax, 0);
    return Tensor(x.storage(), s, st, x.offset(), x.dtype());
  };
  e.grad = [](const Expr& y, const Expr& g) { return G{make_node("_reshape_like", {g, Expr(y->inputs[0])})}; };
  e.flags = kView;
  register_op(e);

  OpDef sq = def("squeeze(x: tensor, axis: int)", "Remove axis, which must have length 1.");
  sq.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    int ax = normalize_axis(a.i("axis"), in[0].ndim(), "squeeze");
    if (in[0].shape[ax] > 1) fail_value("squeeze", "cannot squeeze axis " + std::to_string(a.i("axis")) + " of shape " + shape_str(in[0].shape) + ": its length is not 1");
    Shape s = in[0].shape;
    s.erase(s.begin() + ax);
    return TypeInfo{s, in[0].dtype, true};
  };
  sq.forward = [](KernelCtx& ctx) {
    const Tensor& x = ctx.in[0];
    int ax = normalize_axis(ctx.attrs().i("axis"), x.ndim(), "squeeze");
    if (x.shape()[ax] != 1) fail_value("squeeze", "cannot squeeze axis of length " + std::to_string(x.shape()[ax]));
    Shape s = x.shape(), st = x.strides();
    s.erase(s.begin() + ax);
    st.erase(st.begin() + ax);
    return Tensor(x.storage(), s, st, x.offset(), x.dtype());
  };
  sq.grad = [](const Expr& y, const Expr& g) { return G{make_node("_reshape_like", {g, Expr(y->inputs[0])})}; };
  sq.flags = kView;
  register_op(sq);

  OpDef sqa = def("_squeeze_axes(x: tensor, axis: axes = None)", "Remove the given length-1 axes (all if None).");
  sqa.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    std::vector<int> axes;
    if (a[1].is_none()) for (int i = 0; i < x.ndim(); ++i) axes.push_back(i);
    else axes = normalize_axes(a[1].ints, x.ndim(), "squeeze");
    for (int k = static_cast<int>(axes.size()) - 1; k >= 0; --k) x = squeeze(x, axes[k]);
    return x;
  };
  register_op(sqa);

  OpDef id = def("identity(x: tensor, name: str? = None)", "A new tensor with the same value.");
  id.infer = same;
  id.forward = [](KernelCtx& ctx) { return ctx.in[0]; };
  id.grad = [](const Expr&, const Expr& g) { return G{g}; };
  id.flags = kView;
  register_op(id);

  OpDef sg = def("stop_gradient(x: tensor)", "Same value; no gradient flows through.");
  sg.infer = same;
  sg.forward = [](KernelCtx& ctx) { return ctx.in[0]; };
  sg.flags = kView | kNonDiff;
  register_op(sg);

  for (int v = 0; v < 2; ++v) {
    OpDef z = def(v ? "ones_like(x: tensor, dtype: dtype = None, name: str? = None)" : "zeros_like(x: tensor, dtype: dtype = None, name: str? = None)",
                  v ? "Ones with x's run-time shape; dtype None means floatx (Keras quirk)." : "Zeros with x's run-time shape; dtype None means floatx (Keras quirk).");
    z.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) { return TypeInfo{in[0].shape, dtype_from_name(a.s("dtype")), in[0].rank_known}; };
    z.forward = [v](KernelCtx& ctx) {
      Tensor o = ctx.alloc_tensor(ctx.in[0].shape(), dtype_from_name(ctx.attrs().s("dtype")));
      if (v) {
        Tensor one = Tensor::full({}, o.dtype(), 1.0);
        copy_into(one.broadcast_to(o.shape()), o);
      } else {
        std::memset(o.raw(), 0, o.numel() * dtype_size(o.dtype()));
      }
      return o;
    };
    z.flags = kNonDiff;
    register_op(z);
  }

  OpDef sh = def("shape(x: tensor)", "The run-time shape of x as a 1-D int32 tensor.");
  sh.infer = [](const std::vector<TypeInfo>& in, const Attrs&) {
    return TypeInfo{{in[0].rank_known ? in[0].ndim() : kUnknownDim}, DType::int32, true};
  };
  sh.forward = [](KernelCtx& ctx) {
    Tensor o = Tensor::empty({ctx.in[0].ndim()}, DType::int32);
    for (int i = 0; i < ctx.in[0].ndim(); ++i) o.data<int32_t>()[i] = static_cast<int32_t>(ctx.in[0].shape()[i]);
    return o;
  };
  sh.flags = kNonDiff | kSparse;  // reads only the (dense) shape
  register_op(sh);

  OpDef gi = def("_getitem(x: tensor, spec: ints)",
                 "x[...] with ints, slices (with steps), None and Ellipsis (a view); inputs after x give the "
                 "spec entries marked kDynIndex (scalar int tensors).");
  gi.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    check_index_inputs(in, 1);
    return TypeInfo{getitem_static(in[0], a.ints("spec")), in[0].dtype, true};
  };
  gi.forward = [](KernelCtx& ctx) {
    return apply_index(&ctx.in[0], ctx.in[0].shape(), resolve_spec(ctx.attrs().ints("spec"), ctx.in, 1), nullptr);
  };
  gi.grad = [](const Expr& y, const Expr& g) {
    Attrs a;
    a.set("spec", y->attrs.get("spec"));
    std::vector<Expr> ins{g, Expr(y->inputs[0])};
    for (size_t k = 1; k < y->inputs.size(); ++k) ins.push_back(Expr(y->inputs[k]));
    return G{make_node("_getitem_grad", ins, a)};
  };
  gi.flags = kView;
  register_op(gi);

  OpDef gg = def("_getitem_grad(g: tensor, like: tensor, spec: ints)",
                 "Scatter g into zeros shaped like `like` at x[spec] (inputs after like: the tensor spec entries).");
  gg.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[1].shape, in[0].dtype, in[1].rank_known}; };
  gg.forward = [](KernelCtx& ctx) {
    Tensor o = Tensor::zeros(ctx.in[1].shape(), ctx.in[0].dtype());
    Tensor view = apply_index(&o, o.shape(), resolve_spec(ctx.attrs().ints("spec"), ctx.in, 2), nullptr);
    copy_into(ctx.in[0], view);
    return o;
  };
  gg.grad = [](const Expr& y, const Expr& g) {
    Attrs a;
    a.set("spec", y->attrs.get("spec"));
    std::vector<Expr> ins{g};
    for (size_t k = 2; k < y->inputs.size(); ++k) ins.push_back(Expr(y->inputs[k]));
    return G{make_node("_getitem", ins, a), Expr()};
  };
  register_op(gg);

  OpDef st = def("_sum_to(g: tensor, like: tensor)", "Sum g over the axes broadcast against like's run-time shape.");
  st.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[1].shape, in[0].dtype, in[1].rank_known}; };
  st.forward = [](KernelCtx& ctx) { return sum_to_kernel(ctx.in[0], ctx.in[1].shape()); };
  st.grad = [](const Expr& y, const Expr& g) { return G{broadcast_like(g, Expr(y->inputs[0])), Expr()}; };
  register_op(st);

  OpDef bl = def("_broadcast_like(x: tensor, like: tensor)", "Broadcast x to like's run-time shape (a view).");
  bl.infer = [](const std::vector<TypeInfo>& in, const Attrs&) {
    return TypeInfo{broadcast_shapes(in[0].shape, in[1].shape, "broadcast"), in[0].dtype, in[1].rank_known};
  };
  bl.forward = [](KernelCtx& ctx) {
    return ctx.in[0].broadcast_to(broadcast_shapes(ctx.in[0].shape(), ctx.in[1].shape(), "broadcast"));
  };
  bl.grad = [](const Expr& y, const Expr& g) { return G{sum_to(g, Expr(y->inputs[0])), Expr()}; };
  bl.flags = kView;
  register_op(bl);

  OpDef sr = def("_size_ratio(y: tensor, x: tensor)", "numel(y) / numel(x) at run time, as a scalar of x's dtype.");
  sr.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{{}, is_floating(in[1].dtype) ? in[1].dtype : config::floatx(), true}; };
  sr.forward = [](KernelCtx& ctx) {
    DType t = is_floating(ctx.in[1].dtype()) ? ctx.in[1].dtype() : config::floatx();
    double n = static_cast<double>(ctx.in[1].numel());
    return Tensor::scalar(n ? ctx.in[0].numel() / n : 0.0, t);
  };
  sr.flags = kNonDiff;
  register_op(sr);

  OpDef fin = def("_isfinite(x: tensor)", "Elementwise isfinite (bool).");
  fin.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[0].shape, DType::bool_, in[0].rank_known}; };
  fin.forward = [](KernelCtx& ctx) {
    Tensor x = ctx.in[0].astype(is_floating(ctx.in[0].dtype()) && ctx.in[0].dtype() != DType::float16 ? ctx.in[0].dtype() : DType::float64);
    Tensor o = ctx.alloc_tensor(x.shape(), DType::bool_);
    Tensor xc = x.contiguous();
    dispatch_float(xc.dtype(), "_isfinite", [&](auto tag) {
      using T = decltype(tag);
      const T* p = xc.data<T>();
      for (int64_t i = 0; i < xc.numel(); ++i) o.data<bool>()[i] = std::isfinite(p[i]);
    });
    return o;
  };
  fin.flags = kNonDiff | kElementwise;
  register_op(fin);

  OpDef w = def("_where(condition: tensor, x: tensor, y: tensor)", "Elementwise select with broadcasting: x where condition, else y.");
  w.infer = [](const std::vector<TypeInfo>& in, const Attrs&) {
    Shape s = broadcast_shapes(broadcast_shapes(in[0].shape, in[1].shape, "where"), in[2].shape, "where");
    return TypeInfo{s, promote_types(in[1].dtype, in[2].dtype), true};
  };
  w.forward = [](KernelCtx& ctx) {
    Shape s = broadcast_shapes(broadcast_shapes(ctx.in[0].shape(), ctx.in[1].shape(), "where"), ctx.in[2].shape(), "where");
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
  };
  w.grad = [](const Expr& y, const Expr& g) {
    Expr c(y->inputs[0]);
    Expr z = zeros_like(g, g.dtype());
    return G{Expr(), sum_to(where(c, g, z), Expr(y->inputs[1])), sum_to(where(c, z, g), Expr(y->inputs[2]))};
  };
  w.ew = {OpDef::EwForm::select, 0};
  register_op(w);
}

}  // namespace keras_cpp
