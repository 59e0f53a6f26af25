// cpp/ops/helpers.h — shared pieces for op family files: the elementwise op maker, sum_to,
// Keras shape arguments.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "keras_cpp/config.h"
#include "keras_cpp/ops.h"
#include "kernels/elementwise.h"
#include "ops/getitem.h"
#include "ops/registry.h"

namespace keras_cpp {


// Private ops of shape_ops.cpp that other families build.
Expr reshape_like(const Expr& x, const Expr& like);  // x reshaped to like's run-time shape
// Reshape to dims that are ints (-1 once: inferred) or scalar int tensors (Value::Tensor).
Expr reshape_to(const Expr& x, const std::vector<Value>& dims);
Expr size_ratio(const Expr& y, const Expr& x);  // numel(y) / numel(x) at run time
Expr is_finite(const Expr& x);                  // elementwise, bool
Expr squeeze_axes(const Expr& x, const Axes& axis);  // drop the length-1 axes (all if nullopt)
// A C++ API data_format ("" = image_data_format()) checked and lower-cased as the registry's
// data_format kind does for Python arguments.
std::string data_format_arg(const std::string& op, const std::string& f);

// Private op of nn.cpp: logsumexp over the last axis, keepdims (float32/float64 x of rank >= 1).
Expr logsumexp_last(const Expr& x);

// Private ops of unary.cpp.
Expr expm1(const Expr& x);  // exp(x) - 1, exact near 0
Expr log1p(const Expr& x);  // log(1 + x), exact near 0
Expr relu0(const Expr& x);  // max(x, 0)

// shape(x)[i] as a scalar int32 tensor, known at run time.
inline Expr dim_tensor(const Expr& x, int i) { return getitem(shape(x), {0, i, 0, 0}); }

// A static dim of x as an int, or shape(x)[i] when it is only known at run time (reshape targets).
inline Value dim_value(const Expr& x, int i) {
  int64_t d = x.shape()[i];
  return d >= 0 ? Value(d) : Value(dim_tensor(x, i));
}

// x reduced with `op` over `axes` (sorted, distinct), the axes kept with length 1; x's dtype
// (float32/float64, integers, or bool for any/all). The kernels and threads of reduce.cpp.
Tensor reduce_tensor(ew::ReduceOp op, const Tensor& x, const std::vector<int>& axes);

// Reduce a broadcast gradient `g` back to the shape of `like` (no-op when shapes match).
Expr sum_to(const Expr& g, const Expr& like);
// Broadcast `x` to the run-time shape of `like`.
Expr broadcast_like(const Expr& x, const Expr& like);

// Keras shape arguments (random ops, noise_shape): ints, a list mixing ints and scalar int
// tensors, or a 1-D int tensor such as shape(x). In a node they are attr `shape` (ints, with
// kTensorSlot where a scalar input gives the dim) plus the tensors as inputs; a whole 1-D tensor
// sets attr `shape_whole` and `shape` holds its static hint (from shape(x): x's static dims).
constexpr int64_t kTensorSlot = INT64_MIN;
struct ShapeArg {
  std::vector<int64_t> dims;
  std::vector<Expr> tensors;
  bool whole = false;
};
// Parse and validate (int dtype, ranks, no negative dims); constant tensors are folded to ints.
ShapeArg parse_shape_arg(const std::string& op, const std::string& arg, const Value& v);
void set_shape_attrs(Attrs& attrs, const ShapeArg& s);
// Static shape (unknown dims where only the run time knows); inputs from index `first` on.
TypeInfo shape_arg_static(const Attrs& attrs, const std::vector<TypeInfo>& in, size_t first, DType dtype);
// Concrete shape from the run-time values of the shape inputs; negative dims -> ValueError.
Shape shape_arg_value(const std::string& op, const Attrs& attrs, const std::vector<Tensor>& in, size_t first);

enum class Domain { Float, Numeric, Bool, All };

inline void check_domain(const std::string& op, DType t, Domain d) {
  if (d == Domain::Bool) return;
  if (d != Domain::All && t == DType::bool_) fail_type(op, std::string("does not accept bool tensors"));
}

// Output dtype of a unary op: float-only ops turn integer inputs into floatx.
inline DType unary_out_dtype(DType in, Domain d) {
  if (d == Domain::Float && !is_floating(in)) return config::floatx();
  if (d == Domain::Bool) return DType::bool_;
  return in;
}

// An elementwise unary OpDef: the kernel `op` on input 0 into a fresh (or reused) buffer;
// float16 is computed in float32, float-only ops turn integer inputs into floatx (unary.cpp).
Op unary_op(ew::UnaryOp op, Domain d, const char* sig, const char* doc,
               std::function<std::vector<Expr>(const Expr&, const Expr&)> grad, uint32_t flags = 0);

}  // namespace keras_cpp
