// cpp/ops/slice_gather.cpp — slice (a view, bounds may be tensors) and gather (rows along axis 0,
// gradient by scatter-add), plus the int-list arguments shared with tile: lists that may hold
// scalar tensors or be a 1-D tensor (shape_manip.h).
#include <cstring>

#include "ops/helpers.h"
#include "ops/shape_manip.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
OpRef kSlice, kSliceGrad, kGather, kGatherGrad;

void check_int_tensor(const std::string& op, const std::string& nm, const Expr& e, int rank) {
  if (!is_integer(e.dtype())) fail_type(op, "'" + nm + "' tensors must have an integer dtype, got " + dtype_name(e.dtype()));
  if (!e.rank_known() || e.ndim() != rank)
    fail_value(op, "'" + nm + "' expects " + (rank ? "a 1-D int tensor" : "scalar int tensors in a list") + ", got a tensor of shape " +
                       (e.rank_known() ? shape_str(e.shape()) : std::string("<unknown rank>")));
}

size_t base_input(const Attrs& a, const std::string& nm) { return static_cast<size_t>(a.i("dyn0") + a.i(nm + "_at")); }

// An int tensor's element (read as double) as an int; int64's extremes round to +-2**63 in
// double, which saturate instead of overflowing the cast. kNoneInt is never produced.
int64_t int_of(double d) {
  if (!(d > -9223372036854775807.0)) return INT64_MIN + 1;
  if (d >= 9223372036854775807.0) return INT64_MAX;
  return static_cast<int64_t>(d);
}

}  // namespace

void encode_ints(const std::string& op, const std::string& nm, const Value& v, Attrs& at, std::vector<Expr>& ins) {
  std::vector<int64_t> vals;
  bool vec = false;
  int64_t first = static_cast<int64_t>(ins.size()) - at.i("dyn0");
  auto literal = [&](int64_t i) {  // kNoneInt marks a run-time entry, so -2**63 itself is refused
    if (i == kNoneInt) fail_value(op, "'" + nm + "' entry " + std::to_string(i) + " is out of range");
    vals.push_back(i);
  };
  auto add_scalar = [&](const Expr& e) {
    check_int_tensor(op, nm, e, 0);
    if (e->kind == NodeKind::constant) {
      vals.push_back(int_of(e->value.item()));
    } else {
      vals.push_back(kNoneInt);
      ins.push_back(e);
    }
  };
  switch (v.kind) {
    case Value::Int: literal(v.i); break;
    case Value::Ints:
      for (int64_t i : v.ints) literal(i);
      break;
    case Value::Tensor: {
      Expr e(v.t);
      if (e.rank_known() && e.ndim() == 0) { add_scalar(e); break; }
      check_int_tensor(op, nm, e, 1);
      if (e->kind == NodeKind::constant) {
        for (int64_t i = 0; i < e->value.numel(); ++i) vals.push_back(int_of(e->value.item(i)));
      } else {
        vec = true;
        ins.push_back(e);
      }
      break;
    }
    case Value::List:
      for (const Value& item : v.list) {
        if (item.kind == Value::Int) literal(item.i);
        else if (item.kind == Value::Tensor) add_scalar(Expr(item.t));
        else fail_type(op, "'" + nm + "' entries must be ints or scalar int tensors, got " + item.repr());
      }
      break;
    default:
      fail_type(op, "'" + nm + "' must be an int, a list of ints / scalar int tensors, or a 1-D int tensor, got " + v.repr());
  }
  at.set(nm, Value(vals));
  at.set(nm + "_at", Value(first));
  at.set(nm + "_vec", Value(vec));
}

std::vector<int64_t> static_ints(const std::vector<TypeInfo>& in, const Attrs& a, const std::string& nm) {
  if (!a.b(nm + "_vec")) return a.ints(nm);
  const TypeInfo& t = in[base_input(a, nm)];
  int64_t n = t.rank_known && t.ndim() == 1 ? t.shape[0] : -1;
  return std::vector<int64_t>(static_cast<size_t>(std::max<int64_t>(n, 0)), kNoneInt);
}

int64_t ints_len(const std::vector<Expr>& ins, const Attrs& a, const std::string& nm) {
  if (!a.b(nm + "_vec")) return static_cast<int64_t>(a.ints(nm).size());
  const Expr& t = ins[base_input(a, nm)];
  return t.rank_known() && t.ndim() == 1 ? t.shape()[0] : -1;
}

void pad_ints_left(Attrs& at, std::vector<Expr>& ins, const std::string& nm, int64_t count, int64_t value) {
  if (!at.b(nm + "_vec")) {
    std::vector<int64_t> v = at.ints(nm);
    v.insert(v.begin(), static_cast<size_t>(count), value);
    at.set(nm, Value(v));
    return;
  }
  Expr& vec = ins[base_input(at, nm)];
  Expr pad = constant(Tensor::full({count}, vec.dtype(), static_cast<double>(value)));
  vec = concatenate({pad, vec}, 0);
}

std::vector<int64_t> run_ints(const KernelCtx& ctx, const std::string& nm) {
  const Attrs& a = ctx.attrs();
  size_t k = base_input(a, nm);
  std::vector<int64_t> v;
  if (a.b(nm + "_vec")) {
    const Tensor& t = ctx.in[k];
    for (int64_t i = 0; i < t.numel(); ++i) v.push_back(int_of(t.item(i)));
    return v;
  }
  v = a.ints(nm);
  for (int64_t& d : v)
    if (d == kNoneInt) d = int_of(ctx.in[k++].item());
  return v;
}

Value ints_entry(const Expr& y, const std::string& nm, int k) {
  const Attrs& a = y->attrs;
  size_t idx = base_input(a, nm);
  if (a.b(nm + "_vec")) return Value(getitem(Expr(y->inputs[idx]), {0, k, 0, 0}));
  const auto& v = a.ints(nm);
  if (v[k] != kNoneInt) return Value(v[k]);
  for (int j = 0; j < k; ++j) idx += v[j] == kNoneInt;
  return Value(Expr(y->inputs[idx]));
}

namespace {

// ---- slice: validate start/size against the dims (entries unknown until run time are skipped)
Shape slice_dims(const Shape& dims, const std::vector<int64_t>& st, const std::vector<int64_t>& sz) {
  Shape out;
  for (size_t k = 0; k < dims.size(); ++k) {
    int64_t d = dims[k], b = st[k], n = sz[k];
    std::string at = "[" + std::to_string(k) + "]";
    if (b != kNoneInt && b < 0) fail_value("slice", "start" + at + "=" + std::to_string(b) + " is negative");
    if (n != kNoneInt && n < -1) fail_value("slice", "size" + at + "=" + std::to_string(n) + " must be >= 0 or -1 (to the end)");
    if (d >= 0 && b != kNoneInt && b > d)
      fail_value("slice", "start" + at + "=" + std::to_string(b) + " is out of range for axis " + std::to_string(k) + " of x with shape " + shape_str(dims));
    int64_t o = n == -1 ? ((d >= 0 && b != kNoneInt) ? d - b : kUnknownDim) : n == kNoneInt ? kUnknownDim : n;
    if (d >= 0 && b != kNoneInt && o >= 0 && b + o > d)
      fail_value("slice", "start" + at + " + size" + at + " = " + std::to_string(b + o) + " exceeds axis " + std::to_string(k) +
                              " of x with shape " + shape_str(dims));
    out.push_back(o);
  }
  return out;
}

Tensor slice_forward(KernelCtx& ctx) {
  std::vector<int64_t> st = run_ints(ctx, "start"), sz = run_ints(ctx, "size");
  const int ax = ctx.attrs().i("dyn0") == 2 ? 1 : 0;  // _slice_grad: x is input 1
  Shape dims = slice_dims(ctx.in[ax].shape(), st, sz);
  if (ax == 0) {
    Tensor v = ctx.in[0];
    for (int k = 0; k < v.ndim(); ++k) v = v.slice(k, st[k], st[k] + dims[k], 1);
    return v;
  }
  Tensor out = ctx.alloc_zeros(ctx.in[1].shape(), ctx.in[0].dtype());
  Tensor v = out;
  for (int k = 0; k < v.ndim(); ++k) v = v.slice(k, st[k], st[k] + dims[k], 1);
  copy_into(ctx.in[0], v);
  return out;
}

// The same start/size attrs for a node whose list inputs start at `dyn0`.
Attrs with_dyn0(const Attrs& a, int64_t dyn0) {
  Attrs b = a;
  b.set("dyn0", Value(dyn0));
  return b;
}

// start/size: ints, lists mixing ints and scalar int tensors, or 1-D int tensors.
Expr slice_values(const Expr& x, const Value& start, const Value& size) {
  if (!x.rank_known()) fail_value("slice", "needs a tensor of known rank");
  Attrs at;
  at.set("dyn0", Value(int64_t{1}));
  std::vector<Expr> ins{x};
  encode_ints("slice", "start", start, at, ins);
  encode_ints("slice", "size", size, at, ins);
  int64_t ls = ints_len(ins, at, "start"), lz = ints_len(ins, at, "size");
  if (ls != x.ndim() || lz != x.ndim())
    fail_value("slice", "The dimension and the size of indices should match: x has shape " + shape_str(x.shape()) + " but len(start)=" +
                            (ls < 0 ? std::string("unknown") : std::to_string(ls)) + ", len(size)=" + (lz < 0 ? std::string("unknown") : std::to_string(lz)));
  return make_node(kSlice, ins, at);
}

Expr slice_build(const OpDef&, std::vector<Value>& a) { return slice_values(Expr(a[0].t), a[1], a[2]); }

TypeInfo slice_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  return TypeInfo{slice_dims(in[0].shape, static_ints(in, a, "start"), static_ints(in, a, "size")), in[0].dtype, true};
}

G slice_grad(const Expr& y, const Expr& g) {
  std::vector<Expr> ins{g};
  for (auto& n : y->inputs) ins.push_back(Expr(n));
  G out(y->inputs.size());
  out[0] = make_node(kSliceGrad, ins, with_dyn0(y->attrs, 2));
  return out;
}

TypeInfo slice_grad_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  slice_dims(in[1].shape, static_ints(in, a, "start"), static_ints(in, a, "size"));
  return TypeInfo{in[1].shape, in[0].dtype, true};
}

G slice_grad_grad(const Expr& y, const Expr& gg) {
  std::vector<Expr> ins{gg};
  for (size_t k = 2; k < y->inputs.size(); ++k) ins.push_back(Expr(y->inputs[k]));
  G out(y->inputs.size());
  out[0] = make_node(kSlice, ins, with_dyn0(y->attrs, 1));
  return out;
}

// ---- gather
// Indices as int64, checked against the number of rows (an error names the bad index).
std::vector<int64_t> index_values(const Tensor& t, int64_t rows) {
  Tensor c = t.astype(DType::int64).contiguous();
  const int64_t* p = c.data<int64_t>();
  std::vector<int64_t> v(p, p + c.numel());
  for (int64_t i : v)
    if (i < 0 || i >= rows)
      fail_value("gather", "index " + std::to_string(i) + " is out of range for a reference with " + std::to_string(rows) +
                               " rows (expected 0 <= index < " + std::to_string(rows) + ")");
  return v;
}

int64_t row_size(const Shape& s) { return shape_numel(Shape(s.begin() + 1, s.end())); }

Tensor gather_forward(KernelCtx& ctx) {
  Tensor ref = ctx.in[0].contiguous();
  std::vector<int64_t> idx = index_values(ctx.in[1], ref.shape()[0]);
  Shape os = ctx.in[1].shape();
  os.insert(os.end(), ref.shape().begin() + 1, ref.shape().end());
  Tensor out = ctx.alloc_tensor(os, ref.dtype());
  const size_t rb = static_cast<size_t>(row_size(ref.shape())) * dtype_size(ref.dtype());
  const char* src = static_cast<const char*>(ref.raw());
  char* dst = static_cast<char*>(out.raw());
  if (rb == 0) return out;
  parallel_for(static_cast<int64_t>(idx.size()), std::max<int64_t>(1, 65536 / static_cast<int64_t>(rb)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::memcpy(dst + i * rb, src + idx[i] * rb, rb);
  });
  return out;
}

// Scatter-add rows of g into zeros shaped like the reference; threads split the columns so
// repeated indices never race.
Tensor gather_grad_forward(KernelCtx& ctx) {
  DType od = ctx.in[0].dtype(), cd = od == DType::float16 ? DType::float32 : od;
  Tensor g = ctx.in[0].astype(cd).contiguous();
  const Shape& ls = ctx.in[2].shape();
  std::vector<int64_t> idx = index_values(ctx.in[1], ls[0]);
  Tensor out = Tensor::zeros(ls, cd);
  const int64_t row = row_size(ls), m = static_cast<int64_t>(idx.size());
  if (!is_floating(cd)) fail_type("gather", std::string("gradient must be float, got ") + dtype_name(cd));
  const ew::BinaryFn add = ew::binary(ew::BinaryOp::add, cd);
  const int64_t es = static_cast<int64_t>(dtype_size(cd));
  const char* pg = static_cast<const char*>(g.raw());
  char* po = static_cast<char*>(out.raw());
  parallel_for(row, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, m)), [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < m; ++i) {
      char* dst = po + (idx[i] * row + c0) * es;
      add(dst, pg + (i * row + c0) * es, dst, c1 - c0, 1, 1);
    }
  });
  return out.astype(od);
}

Expr gather_build(const OpDef&, std::vector<Value>& a) { return gather(Expr(a[0].t), Expr(a[1].t)); }

TypeInfo gather_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  if (!is_integer(in[1].dtype)) fail_type("gather", std::string("indices must have an integer dtype, got ") + dtype_name(in[1].dtype));
  if (!in[0].rank_known || !in[1].rank_known) return TypeInfo{{}, in[0].dtype, false};
  if (in[0].ndim() == 0) fail_value("gather", "reference must have rank >= 1, got a scalar");
  Shape s = in[1].shape;
  s.insert(s.end(), in[0].shape.begin() + 1, in[0].shape.end());
  return TypeInfo{s, in[0].dtype, true};
}

G gather_grad(const Expr& y, const Expr& gy) {
  Expr ref(y->inputs[0]);
  if (!is_floating(ref.dtype())) return G{Expr(), Expr()};
  return G{make_node(kGatherGrad, {gy, Expr(y->inputs[1]), ref}), Expr()};
}

TypeInfo gather_grad_infer(const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[2].shape, in[0].dtype, in[2].rank_known}; }
G gather_grad_grad(const Expr& y, const Expr& g) { return G{gather(g, Expr(y->inputs[1])), Expr(), Expr()}; }

}  // namespace

Expr slice(const Expr& x, const std::vector<int64_t>& start, const std::vector<int64_t>& size) {
  return slice_values(x, Value(start), Value(size));
}
Expr gather(const Expr& reference, const Expr& indices) { return make_node(kGather, {reference, indices}); }

void register_slice_gather() {
  register_op(kSlice, Op("slice(x: tensor, start: shape, size: shape)",
                         "x[start[i] : start[i] + size[i]] on every axis (size -1: to the end); start/size may hold tensors. A view.")
                          .build(slice_build).infer(slice_infer).forward(slice_forward).grad(slice_grad).flags(kView));
  register_op(kSliceGrad, Op("_slice_grad(g: tensor, x: tensor, start: shape, size: shape)",
                             "Zeros shaped like x with g written at slice(x, start, size).")
                              .infer(slice_grad_infer).forward(slice_forward).grad(slice_grad_grad).shape_inputs(2));
  register_op(kGather, Op("gather(reference: tensor, indices: indices)",
                          "Rows of reference along axis 0: shape indices.shape + reference.shape[1:]; out-of-range indices are an error.")
                           .build(gather_build).infer(gather_infer).forward(gather_forward).grad(gather_grad));
  register_op(kGatherGrad, Op("_gather_grad(g: tensor, indices: tensor, like: tensor)",
                              "Scatter-add rows of g into zeros shaped like `like` (duplicates add up).")
                               .infer(gather_grad_infer).forward(gather_grad_forward).grad(gather_grad_grad).shape_inputs(4));
}

}  // namespace keras_cpp
