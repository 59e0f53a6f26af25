// cpp/ops/normalization.cpp — l2_normalize and the batch-normalization functions. All are
// composites of reductions and elementwise ops, so their gradients come free.
// normalize_batch_in_training has three results, so it is a C++ function (bound for Python in
// python/src/bind_functions.cpp) rather than a registered op.
#include <algorithm>
#include <tuple>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

OpRef kL2Normalize, kBatchNormalization;

Expr as_float(const Expr& x, const char* op) {
  if (x.dtype() == DType::bool_) fail_type(op, "does not accept bool tensors");
  return is_floating(x.dtype()) ? x : cast(x, config::floatx());
}

Expr like_x(const Expr& e, const Expr& x) {
  if (!e) return Expr();
  return e.dtype() == x.dtype() ? e : cast(e, x.dtype());
}

// Keras: a 1-D statistic with a feature axis other than the last is laid along that axis (what
// TF's fused kernel does for NCHW); anything else broadcasts as given.
Expr along_axis(const Expr& s, int ax, int nd) {
  if (!s || s.ndim() != 1 || ax == nd - 1) return s;
  Shape sh(nd, 1);
  sh[ax] = s.shape()[0] >= 0 ? s.shape()[0] : -1;
  return reshape(s, sh);
}

// Sorted, validated reduction axes of x.
std::vector<int> reduction_axes(const Value& v, const Expr& x, const char* op) {
  if (v.is_none()) fail_value(op, "reduction_axes must be a list of ints, got None");
  std::vector<int> axes = normalize_axes(v.ints, x.ndim(), op);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail_value(op, "reduction_axes " + v.repr() + " repeat an axis");
  return axes;
}

// A reduced statistic (reduced axes removed) put back in broadcast shape (reduced axes = 1).
Expr expand_reduced(const Expr& s, const std::vector<int>& axes) {
  Expr r = s;
  for (int ax : axes) r = expand_dims(r, ax);
  return r;
}

// (x - mean) * (gamma / sqrt(var + eps)) + beta: the scale is formed on the small statistics, so
// x sees one subtract, one multiply and one add.
Expr normalize(const Expr& x, const Expr& mean, const Expr& var, const Expr& beta, const Expr& gamma, double eps) {
  Expr inv = 1.0 / sqrt(var + eps);
  if (gamma) inv = inv * gamma;
  Expr y = (x - mean) * inv;
  return beta ? y + beta : y;
}

Expr l2_normalize_build(const OpDef&, std::vector<Value>& a) {
  return l2_normalize(Expr(a[0].t), a[1].is_none() ? Axes() : Axes(a[1].ints));
}

Expr batch_normalization_build(const OpDef&, std::vector<Value>& a) {
  return batch_normalization(Expr(a[0].t), Expr(a[1].t), Expr(a[2].t), Expr(a[3].t), Expr(a[4].t), a[5].i, a[6].f);
}

}  // namespace

Expr l2_normalize(const Expr& x0, Axes axis) {
  Expr x = as_float(x0, "l2_normalize");
  DType dt = x.dtype();
  if (dt == DType::float16) x = cast(x, DType::float32);  // 1e-12 underflows to 0 in half
  if (axis) normalize_axes(*axis, x.ndim(), "l2_normalize");
  Expr ss = sum(square(x), axis, true);
  Expr y = x / sqrt(maximum(ss, scalar_like(1e-12, x)));
  return dt == DType::float16 ? cast(y, dt) : y;
}

Expr batch_normalization(const Expr& x0, const Expr& mean, const Expr& var, const Expr& beta, const Expr& gamma,
                         int64_t axis, double epsilon) {
  Expr x = as_float(x0, "batch_normalization");
  int nd = x.ndim();
  int ax = nd ? normalize_axis(axis, nd, "batch_normalization") : 0;
  auto prep = [&](const Expr& v) { return nd ? along_axis(like_x(v, x), ax, nd) : like_x(v, x); };
  if (epsilon < 0) fail_value("batch_normalization", "epsilon must be >= 0, got " + Value(epsilon).repr());
  return normalize(x, prep(mean), prep(var), prep(beta), prep(gamma), epsilon);
}
// Keras's gamma/beta come 1-D over the kept axes (or already in broadcast shape): put them in
// broadcast shape (reduced axes = 1), like the statistics.
static Expr batch_param(const Expr& v, const Expr& x, const Expr& mean, const std::vector<int>& axes) {
  const char* op = "normalize_batch_in_training";
  Expr p = like_x(v, x);
  if (!p || p.ndim() == x.ndim()) return p;
  int kept = x.ndim() - static_cast<int>(axes.size());
  if (p.ndim() > 1 && p.ndim() != kept)
    fail_value(op, "gamma/beta of shape " + shape_str(p.shape()) + " do not match the kept axes of x " + shape_str(x.shape()));
  if (p.ndim() != kept || p.shape() != mean.shape()) p = reshape_like(p, mean);
  return expand_reduced(p, axes);
}

std::tuple<Expr, Expr, Expr> normalize_batch_in_training(const Expr& x0, const Expr& gamma, const Expr& beta,
                                                         const std::vector<int64_t>& reduction_axes, double epsilon) {
  const char* op = "normalize_batch_in_training";
  if (!x0) fail_value(op, "x must be a tensor, got None");
  Expr x = as_float(x0, op);
  Value ax(reduction_axes);
  std::vector<int> axes = keras_cpp::reduction_axes(ax, x, op);
  Expr mean = keras_cpp::mean(x, reduction_axes);
  Expr var = keras_cpp::mean(square(x - expand_reduced(mean, axes)), reduction_axes);
  Expr g = batch_param(gamma, x, mean, axes), b = batch_param(beta, x, mean, axes);
  return {normalize(x, expand_reduced(mean, axes), expand_reduced(var, axes), b, g, epsilon), mean, var};
}

void register_normalization() {
  register_op(kL2Normalize, Op("l2_normalize(x: tensor, axis: axes = None)",
                               "x / sqrt(max(sum(x**2, axis, keepdims=True), 1e-12)); axis=None uses all elements. Zero vectors stay 0.")
                                .build(l2_normalize_build));
  register_op(kBatchNormalization,
              Op("batch_normalization(x: tensor, mean: tensor, var: tensor, beta: tensor?, gamma: tensor?, axis: int = -1, epsilon: float = 0.001)",
                 "(x - mean) / sqrt(var + epsilon) * gamma + beta with broadcasting; beta/gamma may be None. "
                 "1-D statistics are laid along `axis` when it is not the last axis.")
                  .build(batch_normalization_build));
}

}  // namespace keras_cpp
