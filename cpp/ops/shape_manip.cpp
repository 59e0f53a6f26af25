// cpp/ops/shape_manip.cpp — joining, repeating and cutting tensors: concatenate, stack, tile,
// repeat, repeat_elements, flatten, batch_flatten, reverse, slice, gather and size. Copies go
// through copy_into over strided views; reverse and slice are views. Padding and resizing live in
// resize_pad.cpp (they reuse `_repeat` from here).
#include <climits>
#include <cstring>

#include "ops/helpers.h"
#include "ops/shape_manip.h"
#include "ops/sparse.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;



// Gradient part `g` for an input of dtype `t`: none for non-float inputs, cast when promoted.
Expr grad_as(const Expr& g, DType t) {
  if (!is_floating(t)) return Expr();
  return g.dtype() == t ? g : cast(g, t);
}

// Keras: a negative concatenate axis is taken modulo the rank of the first tensor.
int concat_axis(int64_t axis, int rank) {
  if (rank == 0) fail_value("concatenate", "cannot concatenate scalars (rank-0 tensors); use stack");
  int64_t ax = axis < 0 ? ((axis % rank) + rank) % rank : axis;
  if (ax >= rank)
    fail_value("concatenate", "axis=" + std::to_string(axis) + " is out of range for inputs of rank " + std::to_string(rank) +
                                  " (expected axis < " + std::to_string(rank) + ")");
  return static_cast<int>(ax);
}

TypeInfo concat_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (in.empty()) fail_value("concatenate", "needs at least one tensor, got an empty list");
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i].rank_known) fail_value("concatenate", "input " + std::to_string(i) + " has an unknown rank");
  int r = in[0].ndim(), ax = concat_axis(a.i("axis"), r);
  Shape s = in[0].shape;
  DType dt = in[0].dtype;
  for (size_t i = 1; i < in.size(); ++i) {
    const Shape& si = in[i].shape;
    bool ok = in[i].ndim() == r;
    for (int k = 0; ok && k < r; ++k) {
      if (k == ax) s[k] = (s[k] < 0 || si[k] < 0) ? kUnknownDim : s[k] + si[k];
      else if (s[k] >= 0 && si[k] >= 0) ok = s[k] == si[k];
      else if (s[k] < 0) s[k] = si[k];
    }
    if (!ok)
      fail_value("concatenate", "input 0 has shape " + shape_str(in[0].shape) + " but input " + std::to_string(i) + " has shape " +
                                    shape_str(si) + "; all dims except axis " + std::to_string(ax) + " must match");
    dt = promote_types(dt, in[i].dtype);
  }
  return TypeInfo{s, dt, true};
}

Tensor concat_forward(KernelCtx& ctx) {
  std::vector<TypeInfo> ti;
  for (auto& t : ctx.in) ti.push_back(type_of(t));
  TypeInfo o = concat_infer(ti, ctx.attrs());
  int ax = concat_axis(ctx.attrs().i("axis"), o.ndim());
  Tensor out = ctx.alloc_tensor(o.shape, o.dtype);
  int64_t off = 0;
  for (const Tensor& t : ctx.in) {
    Tensor part = out.slice(ax, off, off + t.shape()[ax], 1);
    copy_into(t, part);
    off += t.shape()[ax];
  }
  return out;
}

// Input i's gradient: a static slice of g when every size along the axis is known, else a
// run-time slice (offsets from the inputs' run-time shapes).
G concat_grad(const Expr& y, const Expr& g) {
  int ax = concat_axis(y->attrs.i("axis"), y.ndim());
  size_t n = y->inputs.size();
  bool known = true;
  for (auto& x : y->inputs) known = known && x.shape()[ax] >= 0;
  G out(n);
  int64_t off = 0;
  for (size_t i = 0; i < n; ++i) {
    Expr xi(y->inputs[i]);
    if (!is_floating(xi.dtype())) { off += std::max<int64_t>(xi.shape()[ax], 0); continue; }
    Expr part;
    if (known) {
      std::vector<int64_t> spec;
      for (int k = 0; k < y.ndim(); ++k) {
        if (k == ax) spec.insert(spec.end(), {1, off, off + xi.shape()[ax], 1});
        else spec.insert(spec.end(), {1, kNoneInt, kNoneInt, 1});
      }
      part = getitem(g, spec);
    } else {
      std::vector<Expr> ins{g};
      for (auto& x : y->inputs) ins.push_back(Expr(x));
      Attrs a;
      a.set("axis", Value(static_cast<int64_t>(ax)));
      a.set("index", Value(static_cast<int64_t>(i)));
      part = make_node("_concat_part", ins, a);
    }
    out[i] = grad_as(part, xi.dtype());
    off += std::max<int64_t>(xi.shape()[ax], 0);
  }
  return out;
}

void register_concat() {
  OpDef c = def("concatenate(tensors: tensors, axis: int = -1)",
                "Join tensors along axis; a negative axis is taken modulo the rank of the first tensor (Keras). Mixed dtypes are promoted.");
  c.build = [](const OpDef& op, std::vector<Value>& a) {
    std::vector<Expr> xs;
    for (auto& v : a[0].list) xs.push_back(Expr(v.t));
    for (auto& x : xs)
      if (x.sparse()) return sparse_concatenate(xs, a[1].i);  // ops/sparse.cpp
    Attrs at;
    at.set("n", Value(static_cast<int64_t>(xs.size())));
    at.set("axis", a[1]);
    return make_node(op, xs, at);
  };
  c.infer = concat_infer;
  c.forward = concat_forward;
  c.grad = concat_grad;
  register_op(c);

  OpDef p = def("_concat_part(g: tensor, parts: tensors, axis: int, index: int)",
                "The slice of g along axis that concatenate took from parts[index] (run-time offsets; a view).");
  p.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    Shape s = in[0].shape;
    s[a.i("axis")] = in[1 + a.i("index")].shape[a.i("axis")];
    return TypeInfo{s, in[0].dtype, true};
  };
  p.forward = [](KernelCtx& ctx) {
    int ax = static_cast<int>(ctx.attrs().i("axis")), idx = static_cast<int>(ctx.attrs().i("index"));
    int64_t off = 0;
    for (int j = 0; j < idx; ++j) off += ctx.in[1 + j].shape()[ax];
    return ctx.in[0].slice(ax, off, off + ctx.in[1 + idx].shape()[ax], 1);
  };
  p.grad = [](const Expr& y, const Expr& gg) {  // scatter back: zeros for the other parts
    int idx = static_cast<int>(y->attrs.i("index"));
    std::vector<Value> parts;
    for (size_t j = 1; j < y->inputs.size(); ++j)
      parts.push_back(static_cast<int>(j) - 1 == idx ? Value(gg) : Value(zeros_like(Expr(y->inputs[j]), gg.dtype())));
    G out(y->inputs.size());
    out[0] = call("concatenate", {Value(parts), y->attrs.get("axis")});
    return out;
  };
  p.flags = kView;
  register_op(p);

  OpDef s = def("stack(x: tensors, axis: int = 0)", "Stack equal-shape tensors along a new axis (scalars give a 1-D tensor).");
  s.build = [](const OpDef&, std::vector<Value>& a) {
    auto& xs = a[0].list;
    if (xs.empty()) fail_value("stack", "needs at least one tensor, got an empty list");
    Expr x0(xs[0].t);
    if (!x0.rank_known()) fail_value("stack", "input 0 has an unknown rank");
    int ax = normalize_axis(a[1].i, x0.ndim() + 1, "stack");
    std::vector<Value> parts;
    for (size_t i = 0; i < xs.size(); ++i) {
      Expr xi(xs[i].t);
      bool ok = xi.rank_known() && xi.ndim() == x0.ndim();
      for (int k = 0; ok && k < x0.ndim(); ++k) ok = x0.shape()[k] < 0 || xi.shape()[k] < 0 || x0.shape()[k] == xi.shape()[k];
      if (!ok)
        fail_value("stack", "all tensors must have the same shape: input 0 has shape " + shape_str(x0.shape()) + " but input " +
                                std::to_string(i) + " has shape " + (xi.rank_known() ? shape_str(xi.shape()) : std::string("<unknown rank>")));
      parts.push_back(Value(expand_dims(xi, ax)));
    }
    return call("concatenate", {Value(parts), Value(static_cast<int64_t>(ax))});
  };
  register_op(s);
}

// ---- tile / repeat_elements / repeat: one primitive `_repeat`. Output axis k has length
// d_k * r_k; inner=True repeats each element r_k times (np.repeat), else the whole axis (np.tile).
Tensor repeat_forward(KernelCtx& ctx) {
  const Tensor& x = ctx.in[0];
  std::vector<int64_t> reps = run_ints(ctx, "reps");
  bool inner = ctx.attrs().b("inner");
  Shape out_shape, split, src_st;
  for (int k = 0; k < x.ndim(); ++k) {
    int64_t d = x.shape()[k], r = reps[k];
    if (r < 0) fail_value(ctx.attrs().s("who"), "repetition counts must be >= 0, got " + Value(reps).repr());
    out_shape.push_back(d * r);
    split.insert(split.end(), inner ? std::initializer_list<int64_t>{d, r} : std::initializer_list<int64_t>{r, d});
    src_st.insert(src_st.end(), inner ? std::initializer_list<int64_t>{x.strides()[k], 0} : std::initializer_list<int64_t>{0, x.strides()[k]});
  }
  Tensor out = ctx.alloc_tensor(out_shape, x.dtype());
  Tensor dst = out.reshape(split);  // contiguous, so a view
  copy_into(Tensor(x.storage(), split, src_st, x.offset(), x.dtype()), dst);
  return out;
}

// Sum over the repeated blocks: g viewed with each axis split into (d, r) or (r, d).
G repeat_grad(const Expr& y, const Expr& g) {
  Expr x(y->inputs[0]);
  G out(y->inputs.size());
  if (!is_floating(x.dtype())) return out;
  bool inner = y->attrs.b("inner");
  std::vector<Value> target;
  std::vector<int64_t> red;
  for (int k = 0; k < x.ndim(); ++k) {
    Value r = ints_entry(y, "reps", k), d = dim_value(x, k);
    if (r.kind == Value::Int && r.i == 1) { target.push_back(d); continue; }
    target.push_back(inner ? d : r);
    target.push_back(inner ? r : d);
    red.push_back(static_cast<int64_t>(target.size()) - (inner ? 1 : 2));
  }
  out[0] = red.empty() ? g : call("sum", {call("reshape", {g, Value(target)}), Value(red), Value(false)});
  return out;
}

}  // namespace

Expr make_repeat(const std::string& who, const Expr& x, const Value& reps, bool inner) {
  if (!x.rank_known()) fail_value(who, "needs a tensor of known rank");
  Attrs at;
  std::vector<Expr> ins{x};
  at.set("dyn0", Value(int64_t{1}));
  encode_ints(who, "reps", reps, at, ins);
  int64_t len = ints_len(ins, at, "reps");
  int r = x.ndim();
  if (len < 0) fail_value(who, "n given as a 1-D tensor must have a known length");
  if (len > r)
    throw NotImplementedError("[" + who + "] len(n)=" + std::to_string(len) + " is larger than the rank " + std::to_string(r) +
                              " of x " + shape_str(x.shape()) + " (Keras raises NotImplementedError)");
  if (len < r) pad_ints_left(at, ins, "reps", r - len, 1);  // Keras: shorter n is left-padded with 1s
  at.set("inner", Value(inner));
  at.set("who", Value(who));
  return make_node("_repeat", ins, at);
}

namespace {

void register_repeat() {
  OpDef rp = def("_repeat(x: tensor, reps: any, inner: bool = False)", "np.repeat (inner) or np.tile over every axis at once.");
  rp.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    std::vector<int64_t> reps = static_ints(in, a, "reps");
    Shape s = in[0].shape;
    for (size_t k = 0; k < s.size(); ++k) {
      if (reps[k] != kNoneInt && reps[k] < 0) fail_value(a.s("who"), "repetition counts must be >= 0, got " + Value(a.ints("reps")).repr());
      if (reps[k] == 0) s[k] = 0;
      else s[k] = (s[k] < 0 || reps[k] == kNoneInt) ? kUnknownDim : s[k] * reps[k];
    }
    return TypeInfo{s, in[0].dtype, true};
  };
  rp.forward = repeat_forward;
  rp.grad = repeat_grad;
  register_op(rp);

  OpDef t = def("tile(x: tensor, n: any)",
                "Tile x n[i] times along axis i; n is an int (last axis), a list (may hold scalar tensors) or a 1-D tensor; "
                "a shorter n is left-padded with 1s, a longer one raises NotImplementedError.");
  t.build = [](const OpDef&, std::vector<Value>& a) { return make_repeat("tile", Expr(a[0].t), a[1], false); };
  register_op(t);

  OpDef re = def("repeat_elements(x: tensor, rep: int, axis: int)", "np.repeat: each slice along axis repeated rep times (None dims stay None).");
  re.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    if (!x.rank_known()) fail_value("repeat_elements", "needs a tensor of known rank");
    int ax = normalize_axis(a[2].i, x.ndim(), "repeat_elements");
    if (a[1].i < 0) fail_value("repeat_elements", "rep must be >= 0, got " + std::to_string(a[1].i));
    std::vector<int64_t> reps(x.ndim(), 1);
    reps[ax] = a[1].i;
    return make_repeat("repeat_elements", x, Value(reps), true);
  };
  register_op(re);

  OpDef r = def("repeat(x: tensor, n: any)", "Repeat a 2-D (batch, dim) tensor n times: (batch, n, dim).");
  r.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    if (!x.rank_known() || x.ndim() != 2)
      fail_value("repeat", "x must be 2-D (batch, dim), got shape " + (x.rank_known() ? shape_str(x.shape()) : std::string("<unknown rank>")));
    return make_repeat("repeat", expand_dims(x, 1), Value(std::vector<Value>{Value(int64_t{1}), a[1], Value(int64_t{1})}), false);
  };
  register_op(r);
}

// ---- flatten, batch_flatten, reverse, size
void register_views() {
  OpDef f = def("flatten(x: tensor)", "All elements as a 1-D tensor (row-major).");
  f.build = [](const OpDef&, std::vector<Value>& a) { return call("reshape", {a[0], Value(std::vector<int64_t>{-1})}); };
  register_op(f);

  OpDef bf = def("batch_flatten(x: tensor)", "Reshape to (batch, product of the other dims).");
  bf.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    if (!x.rank_known() || x.ndim() == 0) fail_value("batch_flatten", "x must have rank >= 1, got " + (x.rank_known() ? shape_str(x.shape()) : std::string("unknown rank")));
    Shape rest(x.shape().begin() + 1, x.shape().end());
    int64_t p = shape_numel(rest);
    Value second = p >= 0 ? Value(p) : Value(call("prod", {getitem(shape(x), {1, 1, kNoneInt, 1}), Value(), Value(false)}));
    Value first = x.shape()[0] >= 0 ? Value(x.shape()[0]) : p > 0 ? Value(int64_t{-1}) : dim_value(x, 0);
    return call("reshape", {Value(x), Value(std::vector<Value>{first, second})});
  };
  register_op(bf);

  OpDef rv = def("reverse(x: tensor, axes: axes)", "Flip x along an int or a list of axes (a view).");
  rv.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    if (a.get("axes").is_none()) fail_type("reverse", "axes must be an int or a list of ints, got None");
    if (!in[0].rank_known) fail_value("reverse", "needs a tensor of known rank");
    const auto& ax = a.ints("axes");
    if (normalize_axes(ax, in[0].ndim(), "reverse").size() != ax.size())
      fail_value("reverse", "axes " + Value(ax).repr() + " name the same axis twice");
    return in[0];
  };
  rv.forward = [](KernelCtx& ctx) {
    Tensor v = ctx.in[0];
    for (int k : normalize_axes(ctx.attrs().ints("axes"), v.ndim(), "reverse")) v = v.slice(k, v.shape()[k] - 1, -1, -1);
    return v;
  };
  rv.grad = [](const Expr& y, const Expr& g) { return G{call("reverse", {g, y->attrs.get("axes")})}; };
  rv.flags = kView;
  register_op(rv);

  OpDef sz = def("size(x: tensor, name: str? = None)", "Number of elements of x as a scalar int32 tensor (run time).");
  sz.infer = [](const std::vector<TypeInfo>&, const Attrs&) { return TypeInfo{{}, DType::int32, true}; };
  sz.forward = [](KernelCtx& ctx) { return Tensor::scalar(static_cast<double>(ctx.in[0].numel()), DType::int32); };
  sz.flags = kNonDiff;
  register_op(sz);
}

}  // namespace

Expr concatenate(const std::vector<Expr>& xs, int64_t axis) {
  return call("concatenate", {Value(std::vector<Value>(xs.begin(), xs.end())), Value(axis)});
}
Expr stack(const std::vector<Expr>& xs, int64_t axis) { return call("stack", {Value(std::vector<Value>(xs.begin(), xs.end())), Value(axis)}); }
Expr tile(const Expr& x, const std::vector<int64_t>& n) { return call("tile", {x, Value(n)}); }
Expr repeat_elements(const Expr& x, int64_t rep, int64_t axis) { return call("repeat_elements", {x, Value(rep), Value(axis)}); }
Expr repeat(const Expr& x, int64_t n) { return call("repeat", {x, Value(n)}); }
Expr flatten(const Expr& x) { return call("flatten", {x}); }
Expr batch_flatten(const Expr& x) { return call("batch_flatten", {x}); }
Expr reverse(const Expr& x, const std::vector<int64_t>& axes) { return call("reverse", {x, Value(axes)}); }
Expr size(const Expr& x) { return call("size", {x}); }

void register_shape_manip() {
  register_concat();
  register_repeat();
  register_views();
  register_slice_gather();
}

}  // namespace keras_cpp
