// cpp/ops/getitem.cpp — x[...] (the _getitem view and its gradient _getitem_grad): ints, slices
// with steps, None and Ellipsis, with scalar int tensors allowed as indices and slice bounds.
#include <algorithm>
#include <climits>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
constexpr int64_t kNone = INT64_MIN;  // None slice bound / step inside a spec
OpRef kGetitem, kGetitemGrad;

// spec = flat (kind, start, stop, step) quads; kinds 0 index, 1 slice, 2 newaxis, 3 ellipsis
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
      int64_t len = st > 0 ? (e > b ? (e - b - 1) / st + 1 : 0) : (b > e ? (b - e - 1) / -st + 1 : 0);  // no overflow for any step
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

TypeInfo getitem_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  check_index_inputs(in, 1);
  return TypeInfo{getitem_static(in[0], a.ints("spec")), in[0].dtype, true};
}

Tensor getitem_forward(KernelCtx& ctx) {
  return apply_index(&ctx.in[0], ctx.in[0].shape(), resolve_spec(ctx.attrs().ints("spec"), ctx.in, 1), nullptr);
}

G getitem_grad(const Expr& y, const Expr& g) {
  Attrs a;
  a.set("spec", y->attrs.get("spec"));
  std::vector<Expr> ins{g, Expr(y->inputs[0])};
  for (size_t k = 1; k < y->inputs.size(); ++k) ins.push_back(Expr(y->inputs[k]));
  return G{make_node(kGetitemGrad, ins, a)};
}

TypeInfo getitem_grad_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  return TypeInfo{in[1].shape, in[0].dtype, in[1].rank_known};
}

Tensor getitem_grad_forward(KernelCtx& ctx) {
  Tensor o = ctx.alloc_zeros(ctx.in[1].shape(), ctx.in[0].dtype());
  Tensor view = apply_index(&o, o.shape(), resolve_spec(ctx.attrs().ints("spec"), ctx.in, 2), nullptr);
  copy_into(ctx.in[0], view);
  return o;
}

G getitem_grad_grad(const Expr& y, const Expr& g) {
  std::vector<Expr> dyn(y->inputs.begin() + 2, y->inputs.end());
  return G{getitem(g, y->attrs.ints("spec"), dyn), Expr()};
}

}  // namespace

Tensor getitem_grad_view(const Node& n, Tensor& t) {
  return apply_index(&t, t.shape(), resolve_spec(n.attrs.ints("spec"), {}, 0), nullptr);
}

Expr getitem(const Expr& x, std::vector<int64_t> spec, const std::vector<Expr>& dynamic) {
  Attrs a;
  a.set("spec", Value(std::move(spec)));
  std::vector<Expr> ins{x};
  ins.insert(ins.end(), dynamic.begin(), dynamic.end());
  return make_node(kGetitem, std::move(ins), std::move(a));
}

void register_getitem() {
  register_op(kGetitem, Op("_getitem(x: tensor, spec: ints)",
                           "x[...] with ints, slices (with steps), None and Ellipsis (a view); inputs after x give the "
                           "spec entries marked kDynIndex (scalar int tensors).")
                            .infer(getitem_infer).forward(getitem_forward).grad(getitem_grad).flags(kView));
  register_op(kGetitemGrad, Op("_getitem_grad(g: tensor, like: tensor, spec: ints)",
                               "Scatter g into zeros shaped like `like` at x[spec] (inputs after like: the tensor spec entries).")
                                .infer(getitem_grad_infer).forward(getitem_grad_forward).grad(getitem_grad_grad).shape_inputs(2));
}

}  // namespace keras_cpp
