// cpp/ops/shape_arg.cpp — Keras shape arguments turned into node inputs + attrs and back
// (declared in helpers.h). Used by the random ops; reshape-like ops can share it.
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

int64_t checked_dim(const std::string& op, const std::string& arg, int64_t d) {
  if (d < 0) fail_value(op, "'" + arg + "' has an invalid dimension " + std::to_string(d) + " (dims must be ints >= 0)");
  return d;
}

// A dim read from a tensor (as double): NaN, fractions and values beyond int64 are errors, not UB.
int64_t checked_dim(const std::string& op, const std::string& arg, double d) {
  if (!(d >= 0 && d < 9223372036854775807.0) || d != std::floor(d))
    fail_value(op, "'" + arg + "' has an invalid dimension " + Value(d).repr() + " (dims must be ints >= 0)");
  return static_cast<int64_t>(d);
}

void check_int_tensor(const std::string& op, const std::string& arg, const Expr& t) {
  if (!is_integer(t.dtype()))
    fail_type(op, "'" + arg + "' tensors must have an integer dtype, got " + dtype_name(t.dtype()));
}

// One entry of a shape list: an int, or a scalar int tensor (folded when it is a constant).
void add_entry(const std::string& op, const std::string& arg, const Value& v, ShapeArg& s) {
  if (v.kind == Value::Int) {
    s.dims.push_back(checked_dim(op, arg, v.i));
    return;
  }
  if (v.kind != Value::Tensor)
    fail_type(op, "'" + arg + "' entries must be ints or scalar int tensors, got " + v.repr());
  Expr t(v.t);
  check_int_tensor(op, arg, t);
  if (!t.rank_known() || t.ndim() != 0)
    fail_value(op, "'" + arg + "' entries that are tensors must be scalars, got shape " + shape_str(t.shape()));
  if (t->kind == NodeKind::constant) {
    s.dims.push_back(checked_dim(op, arg, t->value.item()));
  } else {
    s.dims.push_back(kTensorSlot);
    s.tensors.push_back(t);
  }
}

// A whole 1-D tensor: static hint from shape(x) when x's rank is known.
void add_whole(const std::string& op, const std::string& arg, const Expr& t, ShapeArg& s) {
  if (t->kind == NodeKind::constant) {
    for (int64_t i = 0; i < t->value.numel(); ++i) s.dims.push_back(checked_dim(op, arg, t->value.item(i)));
    return;
  }
  s.whole = true;
  s.tensors.push_back(t);
  Expr src = t->op && t->op->name == "shape" ? t->inputs[0] : Expr();
  if (src && src.rank_known()) s.dims = src.shape();
  else if (t.shape()[0] >= 0) s.dims.assign(t.shape()[0], kUnknownDim);
}

}  // namespace

ShapeArg parse_shape_arg(const std::string& op, const std::string& arg, const Value& v) {
  ShapeArg s;
  switch (v.kind) {
    case Value::Int:
      add_entry(op, arg, v, s);
      break;
    case Value::Ints:
      for (int64_t d : v.ints) s.dims.push_back(checked_dim(op, arg, d));
      break;
    case Value::List:
      for (const Value& e : v.list) add_entry(op, arg, e, s);
      break;
    case Value::Tensor: {
      Expr t(v.t);
      check_int_tensor(op, arg, t);
      if (t.rank_known() && t.ndim() == 0) add_entry(op, arg, v, s);
      else if (t.rank_known() && t.ndim() == 1) add_whole(op, arg, t, s);
      else fail_value(op, "'" + arg + "' as a tensor must be 1-D, got shape " + shape_str(t.shape()));
      break;
    }
    default:
      fail_type(op, "'" + arg + "' must be a tuple of ints/scalar tensors or a 1-D int tensor, got " + v.repr());
  }
  return s;
}

void set_shape_attrs(Attrs& attrs, const ShapeArg& s) {
  attrs.set("shape", Value(s.dims));
  attrs.set("shape_whole", Value(s.whole));
}

TypeInfo shape_arg_static(const Attrs& attrs, const std::vector<TypeInfo>& in, size_t first, DType dtype) {
  Shape dims = attrs.ints("shape");
  if (attrs.b("shape_whole")) {
    int64_t n = in[first].shape.empty() ? kUnknownDim : in[first].shape[0];
    if (n < 0) return TypeInfo{{}, dtype, false};
    if (static_cast<int64_t>(dims.size()) != n) dims.assign(n, kUnknownDim);
    return TypeInfo{dims, dtype, true};
  }
  for (int64_t& d : dims)
    if (d == kTensorSlot) d = kUnknownDim;
  return TypeInfo{dims, dtype, true};
}

Shape shape_arg_value(const std::string& op, const Attrs& attrs, const std::vector<Tensor>& in, size_t first) {
  Shape dims = attrs.ints("shape");
  std::vector<double> run;  // the run-time entries, checked before they become ints
  if (attrs.b("shape_whole")) {
    const Tensor& t = in[first];
    dims.assign(t.numel(), kTensorSlot);
    for (int64_t i = 0; i < t.numel(); ++i) run.push_back(t.item(i));
  } else {
    for (size_t k = first; k < in.size(); ++k) run.push_back(in[k].item());
  }
  size_t k = 0;
  for (int64_t& d : dims)
    if (d == kTensorSlot) {
      double v = run[k++];
      if (v < 0) {
        std::vector<int64_t> shown;  // the dims as given, for the message
        size_t j = 0;
        for (int64_t e : attrs.b("shape_whole") ? Shape(run.size(), kTensorSlot) : Shape(attrs.ints("shape")))
          shown.push_back(e == kTensorSlot ? static_cast<int64_t>(std::max(run[j++], -1e18)) : e);
        fail_value(op, "shape " + Value(shown).repr() + " has a negative dimension");
      }
      d = checked_dim(op, "shape", v);
    }
  return dims;
}

}  // namespace keras_cpp
