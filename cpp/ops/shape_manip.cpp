// cpp/ops/shape_manip.cpp — joining, repeating and cutting tensors: concatenate, stack, tile,
// repeat, repeat_elements, flatten, batch_flatten, reverse, slice, gather and size. Copies go
// through copy_into over strided views; reverse and slice are views. Padding and resizing live in
// resize_pad.cpp (they reuse `_repeat` from here).
#include <climits>
#include <cstring>

#include "kernels/strided_copy.h"
#include "ops/helpers.h"
#include "ops/shape_manip.h"
#include "ops/sparse.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
OpRef kConcat, kConcatPart, kStack, kRepeat, kTile, kRepeatElements, kRepeatOp, kFlatten, kBatchFlatten, kReverse, kSize;

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
      if (k == ax) s[k] = (s[k] < 0 || si[k] < 0) ? kUnknownDim : checked_add(s[k], si[k], "concatenate");
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

// Dense inputs of the output's dtype, many rows before the axis: each output row is assembled
// from the inputs' rows with memcpy in order (one sequential pass over the output, where a copy
// per input would write it in strided pieces once per input).
bool concat_by_rows(const std::vector<Tensor>& in, int ax, Tensor& out) {
  int64_t rows = 1;
  for (int k = 0; k < ax; ++k) rows *= out.shape()[k];
  if (rows < 2 || !out.is_contiguous() || in.size() > 256) return false;
  std::vector<const void*> srcs;
  std::vector<int64_t> bytes;
  const int64_t es = static_cast<int64_t>(dtype_size(out.dtype()));
  for (const Tensor& t : in) {
    if (t.dtype() != out.dtype() || t.is_sparse() || !t.is_contiguous()) return false;
    if (t.numel() == 0) continue;
    srcs.push_back(t.raw());
    bytes.push_back(t.numel() / rows * es);
  }
  concat_rows(srcs.data(), bytes.data(), static_cast<int>(srcs.size()), out.raw(), rows);
  return true;
}

Tensor concat_forward(KernelCtx& ctx) {
  std::vector<TypeInfo> ti;
  for (auto& t : ctx.in) ti.push_back(type_of(t));
  TypeInfo o = concat_infer(ti, ctx.attrs());
  int ax = concat_axis(ctx.attrs().i("axis"), o.ndim());
  Tensor out = ctx.alloc_tensor(o.shape, o.dtype);
  if (concat_by_rows(ctx.in, ax, out)) return out;
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
      part = make_node(kConcatPart, ins, a);
    }
    out[i] = grad_as(part, xi.dtype());
    off += std::max<int64_t>(xi.shape()[ax], 0);
  }
  return out;
}

Expr concat_build(const OpDef&, std::vector<Value>& a) {
  std::vector<Expr> xs;
  for (auto& v : a[0].list) xs.push_back(Expr(v.t));
  return concatenate(xs, a[1].i);
}

TypeInfo concat_part_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  Shape s = in[0].shape;
  s[a.i("axis")] = in[1 + a.i("index")].shape[a.i("axis")];
  return TypeInfo{s, in[0].dtype, true};
}

Tensor concat_part_forward(KernelCtx& ctx) {
  int ax = static_cast<int>(ctx.attrs().i("axis")), idx = static_cast<int>(ctx.attrs().i("index"));
  int64_t off = 0;
  for (int j = 0; j < idx; ++j) off += ctx.in[1 + j].shape()[ax];
  return ctx.in[0].slice(ax, off, off + ctx.in[1 + idx].shape()[ax], 1);
}

G concat_part_grad(const Expr& y, const Expr& gg) {  // scatter back: zeros for the other parts
  int idx = static_cast<int>(y->attrs.i("index"));
  std::vector<Expr> parts;
  for (size_t j = 1; j < y->inputs.size(); ++j)
    parts.push_back(static_cast<int>(j) - 1 == idx ? gg : zeros_like(Expr(y->inputs[j]), gg.dtype()));
  G out(y->inputs.size());
  out[0] = concatenate(parts, y->attrs.i("axis"));
  return out;
}

Expr stack_build(const OpDef&, std::vector<Value>& a) {
  std::vector<Expr> xs;
  for (auto& v : a[0].list) xs.push_back(Expr(v.t));
  return stack(xs, a[1].i);
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
    out_shape.push_back(checked_mul(d, r, ctx.attrs().s("who").c_str()));
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
  out[0] = red.empty() ? g : sum(reshape_to(g, target), red, false);
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
  return make_node(kRepeat, ins, at);
}

namespace {

TypeInfo repeat_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  std::vector<int64_t> reps = static_ints(in, a, "reps");
  Shape s = in[0].shape;
  for (size_t k = 0; k < s.size(); ++k) {
    if (reps[k] != kNoneInt && reps[k] < 0) fail_value(a.s("who"), "repetition counts must be >= 0, got " + Value(a.ints("reps")).repr());
    if (reps[k] == 0) s[k] = 0;
    else s[k] = (s[k] < 0 || reps[k] == kNoneInt) ? kUnknownDim : checked_mul(s[k], reps[k], a.s("who").c_str());
  }
  return TypeInfo{s, in[0].dtype, true};
}

Expr tile_build(const OpDef&, std::vector<Value>& a) { return make_repeat("tile", Expr(a[0].t), a[1], false); }

Expr repeat_elements_build(const OpDef&, std::vector<Value>& a) { return repeat_elements(Expr(a[0].t), a[1].i, a[2].i); }

// n may be an int or a scalar tensor.
Expr repeat_n(const Expr& x, const Value& n) {
  if (!x.rank_known() || x.ndim() != 2)
    fail_value("repeat", "x must be 2-D (batch, dim), got shape " + (x.rank_known() ? shape_str(x.shape()) : std::string("<unknown rank>")));
  if (n.kind == Value::Int && n.i < 0) fail_value("repeat", "n must be >= 0, got " + std::to_string(n.i));
  return make_repeat("repeat", expand_dims(x, 1), Value(std::vector<Value>{Value(int64_t{1}), n, Value(int64_t{1})}), false);
}

Expr repeat_build(const OpDef&, std::vector<Value>& a) { return repeat_n(Expr(a[0].t), a[1]); }
Expr flatten_build(const OpDef&, std::vector<Value>& a) { return flatten(Expr(a[0].t)); }
Expr batch_flatten_build(const OpDef&, std::vector<Value>& a) { return batch_flatten(Expr(a[0].t)); }

TypeInfo reverse_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (a.get("axes").is_none()) fail_type("reverse", "axes must be an int or a list of ints, got None");
  if (!in[0].rank_known) fail_value("reverse", "needs a tensor of known rank");
  const auto& ax = a.ints("axes");
  if (normalize_axes(ax, in[0].ndim(), "reverse").size() != ax.size())
    fail_value("reverse", "axes " + Value(ax).repr() + " name the same axis twice");
  return in[0];
}

Tensor reverse_forward(KernelCtx& ctx) {
  Tensor v = ctx.in[0];
  for (int k : normalize_axes(ctx.attrs().ints("axes"), v.ndim(), "reverse")) v = v.slice(k, v.shape()[k] - 1, -1, -1);
  return v;
}

G reverse_grad(const Expr& y, const Expr& g) { return G{reverse(g, y->attrs.ints("axes"))}; }

TypeInfo size_infer(const std::vector<TypeInfo>&, const Attrs&) { return TypeInfo{{}, DType::int32, true}; }
Tensor size_forward(KernelCtx& ctx) { return Tensor::scalar(static_cast<double>(ctx.in[0].numel()), DType::int32); }

}  // namespace

Expr concatenate(const std::vector<Expr>& xs, int64_t axis) {
  for (auto& x : xs)
    if (x.sparse()) return sparse_concatenate(xs, axis);  // ops/sparse.cpp
  Attrs at;
  at.set("n", Value(static_cast<int64_t>(xs.size())));
  at.set("axis", Value(axis));
  return make_node(kConcat, xs, at);
}

Expr stack(const std::vector<Expr>& xs, int64_t axis) {
  if (xs.empty()) fail_value("stack", "needs at least one tensor, got an empty list");
  const Expr& x0 = xs[0];
  if (!x0.rank_known()) fail_value("stack", "input 0 has an unknown rank");
  int ax = normalize_axis(axis, x0.ndim() + 1, "stack");
  std::vector<Expr> parts;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Expr& xi = xs[i];
    bool ok = xi.rank_known() && xi.ndim() == x0.ndim();
    for (int k = 0; ok && k < x0.ndim(); ++k) ok = x0.shape()[k] < 0 || xi.shape()[k] < 0 || x0.shape()[k] == xi.shape()[k];
    if (!ok)
      fail_value("stack", "all tensors must have the same shape: input 0 has shape " + shape_str(x0.shape()) + " but input " +
                              std::to_string(i) + " has shape " + (xi.rank_known() ? shape_str(xi.shape()) : std::string("<unknown rank>")));
    parts.push_back(expand_dims(xi, ax));
  }
  return concatenate(parts, ax);
}

Expr tile(const Expr& x, const std::vector<int64_t>& n) { return make_repeat("tile", x, Value(n), false); }

Expr repeat_elements(const Expr& x, int64_t rep, int64_t axis) {
  if (!x.rank_known() || x.ndim() == 0)
    fail_value("repeat_elements", "needs a tensor of known rank >= 1, got " + (x.rank_known() ? std::string("a scalar") : "unknown rank"));
  int ax = normalize_axis(axis, x.ndim(), "repeat_elements");
  if (rep < 0) fail_value("repeat_elements", "rep must be >= 0, got " + std::to_string(rep));
  std::vector<int64_t> reps(x.ndim(), 1);
  reps[ax] = rep;
  return make_repeat("repeat_elements", x, Value(reps), true);
}

Expr repeat(const Expr& x, int64_t n) { return repeat_n(x, Value(n)); }
Expr flatten(const Expr& x) { return reshape(x, {-1}); }

Expr batch_flatten(const Expr& x) {
  if (!x.rank_known() || x.ndim() == 0)
    fail_value("batch_flatten", "x must have rank >= 1, got " + (x.rank_known() ? shape_str(x.shape()) : std::string("unknown rank")));
  Shape rest(x.shape().begin() + 1, x.shape().end());
  int64_t p = shape_numel(rest);
  Value second = p >= 0 ? Value(p) : Value(prod(getitem(shape(x), {1, 1, kNoneInt, 1})));
  Value first = x.shape()[0] >= 0 ? Value(x.shape()[0]) : p > 0 ? Value(int64_t{-1}) : dim_value(x, 0);
  return reshape_to(x, {first, second});
}

Expr reverse(const Expr& x, const std::vector<int64_t>& axes) {
  Attrs a;
  a.set("axes", Value(axes));
  return make_node(kReverse, {x}, a);
}

Expr size(const Expr& x) { return make_node(kSize, {x}); }

void register_shape_manip() {
  register_op(kConcat, Op("concatenate(tensors: tensors, axis: int = -1)",
                          "Join tensors along axis; a negative axis is taken modulo the rank of the first tensor (Keras). Mixed dtypes are promoted.")
                           .build(concat_build).infer(concat_infer).forward(concat_forward).grad(concat_grad));
  register_op(kConcatPart, Op("_concat_part(g: tensor, parts: tensors, axis: int, index: int)",
                              "The slice of g along axis that concatenate took from parts[index] (run-time offsets; a view).")
                               .infer(concat_part_infer).forward(concat_part_forward).grad(concat_part_grad).flags(kView));
  register_op(kStack, Op("stack(x: tensors, axis: int = 0)", "Stack equal-shape tensors along a new axis (scalars give a 1-D tensor).")
                          .build(stack_build));
  register_op(kRepeat, Op("_repeat(x: tensor, reps: shape, inner: bool = False)", "np.repeat (inner) or np.tile over every axis at once.")
                           .infer(repeat_infer).forward(repeat_forward).grad(repeat_grad));
  register_op(kTile, Op("tile(x: tensor, n: shape)",
                        "Tile x n[i] times along axis i; n is an int (last axis), a list (may hold scalar tensors) or a 1-D tensor; "
                        "a shorter n is left-padded with 1s, a longer one raises NotImplementedError.")
                         .build(tile_build));
  register_op(kRepeatElements, Op("repeat_elements(x: tensor, rep: int, axis: int)",
                                  "np.repeat: each slice along axis repeated rep times (None dims stay None).")
                                   .build(repeat_elements_build));
  register_op(kRepeatOp, Op("repeat(x: tensor, n: shape)", "Repeat a 2-D (batch, dim) tensor n times: (batch, n, dim).").build(repeat_build));
  register_op(kFlatten, Op("flatten(x: tensor)", "All elements as a 1-D tensor (row-major).").build(flatten_build));
  register_op(kBatchFlatten, Op("batch_flatten(x: tensor)", "Reshape to (batch, product of the other dims).").build(batch_flatten_build));
  register_op(kReverse, Op("reverse(x: tensor, axes: axes)", "Flip x along an int or a list of axes (a view).")
                            .infer(reverse_infer).forward(reverse_forward).grad(reverse_grad).flags(kView));
  register_op(kSize, Op("size(x: tensor, name: str? = None)", "Number of elements of x as a scalar int32 tensor (run time).")
                         .infer(size_infer).forward(size_forward).flags(kNonDiff));
  register_slice_gather();
}

}  // namespace keras_cpp
