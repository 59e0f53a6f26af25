// cpp/ops/activations.cpp — activations with a parameter or a fixed shape (elu, hard_sigmoid) and
// the classification helper in_top_k. elu and hard_sigmoid are composites (gradients come free);
// in_top_k is a non-differentiable kernel. relu/softmax live in nn.cpp, plain ones in unary.cpp.
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

// Float-only activations turn integer inputs into floatx (as the unary float ops do).
Expr as_float(const Expr& x, const char* op) {
  if (x.dtype() == DType::bool_) fail_type(op, "does not accept bool tensors");
  return is_floating(x.dtype()) ? x : cast(x, config::floatx());
}

// in_top_k for one row, TF's rule: an out-of-range target or any non-finite score -> false;
// otherwise true iff fewer than k classes score strictly higher than the target (ties are in).
template <class T>
bool row_in_top_k(const T* p, int64_t C, int64_t t, int64_t k) {
  if (t < 0 || t >= C) return false;
  double pt = static_cast<double>(p[t]);
  int64_t higher = 0;
  for (int64_t j = 0; j < C; ++j) {
    double v = static_cast<double>(p[j]);
    if (!std::isfinite(v)) return false;
    higher += v > pt;
  }
  return higher < k;
}

TypeInfo in_top_k_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  const TypeInfo &p = in[0], &t = in[1];
  if (p.rank_known && p.ndim() != 2) fail_value("in_top_k", "predictions must be 2-D (batch, classes), got shape " + shape_str(p.shape));
  if (t.rank_known && t.ndim() != 1) fail_value("in_top_k", "targets must be 1-D (batch,), got shape " + shape_str(t.shape));
  if (p.dtype == DType::bool_) fail_type("in_top_k", "predictions must be numbers, got bool");
  if (is_floating(t.dtype) || t.dtype == DType::bool_)
    fail_type("in_top_k", std::string("targets must be integer class ids, got ") + dtype_name(t.dtype));
  int64_t b = p.rank_known ? p.shape[0] : kUnknownDim, bt = t.rank_known ? t.shape[0] : kUnknownDim;
  if (b >= 0 && bt >= 0 && b != bt)
    fail_value("in_top_k", "predictions " + shape_str(p.shape) + " and targets " + shape_str(t.shape) + " disagree on the batch size");
  return TypeInfo{{b >= 0 ? b : bt}, DType::bool_, true};
}

Tensor in_top_k_forward(KernelCtx& ctx) {
  if (ctx.in[0].shape()[0] != ctx.in[1].shape()[0])
    fail_value("in_top_k", "predictions " + shape_str(ctx.in[0].shape()) + " and targets " + shape_str(ctx.in[1].shape()) +
                               " disagree on the batch size");
  Tensor p = ctx.in[0].dtype() == DType::float16 ? ctx.in[0].astype(DType::float32).contiguous() : ctx.in[0].contiguous();
  Tensor t = ctx.in[1].astype(DType::int64).contiguous();
  int64_t B = p.shape()[0], C = p.shape()[1], k = ctx.attrs().i("k");
  Tensor out = ctx.alloc_tensor({B}, DType::bool_);
  bool* o = out.data<bool>();
  const int64_t* tp = t.data<int64_t>();
  dispatch(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, half>) {
      throw TypeError("[in_top_k] unsupported predictions dtype");
    } else {
      const T* pp = p.data<T>();
      parallel_for(B, std::max<int64_t>(1, 16384 / std::max<int64_t>(C, 1)), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) o[b] = row_in_top_k(pp + b * C, C, tp[b], k);
      });
    }
  });
  return out;
}

Expr elu_build(const OpDef&, std::vector<Value>& a) { return elu(Expr(a[0].t), a[1].f); }
Expr hard_sigmoid_build(const OpDef&, std::vector<Value>& a) { return hard_sigmoid(Expr(a[0].t)); }

OpRef kElu, kHardSigmoid, kInTopK;

}  // namespace

Expr elu(const Expr& x_in, double alpha) {
  Expr x = as_float(x_in, "elu");
  Expr zero = scalar_like(0, x);
  // expm1 (exact near 0) of min(x, 0): the unused branch never overflows, so its gradient is
  // never 0 * inf. TF's order: expm1, then one multiplication by alpha (none when alpha is 1).
  Expr em1 = expm1(minimum(x, zero));
  Expr neg = alpha == 1.0 ? em1 : alpha * em1;
  return where(greater(x, zero), x, neg);
}

Expr hard_sigmoid(const Expr& x) { return clip(0.2 * as_float(x, "hard_sigmoid") + 0.5, 0.0, 1.0); }

Expr in_top_k(const Expr& predictions, const Expr& targets, int64_t k) {
  Attrs a;
  a.set("k", Value(k));
  return make_node(kInTopK, {predictions, targets}, a);
}

void register_activations() {
  register_op(kElu, Op("elu(x: tensor, alpha: float = 1.0)", "Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1).")
                        .build(elu_build));
  register_op(kHardSigmoid, Op("hard_sigmoid(x: tensor)", "Piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1).").build(hard_sigmoid_build));
  register_op(kInTopK, Op("in_top_k(predictions: tensor, targets: tensor, k: int)",
                          "Bool (batch,): the target class is among the k highest scores of its row (ties count as in); "
                          "k < 1 gives False, k >= classes True; a non-finite row or an out-of-range target gives False.")
                           .infer(in_top_k_infer).forward(in_top_k_forward).flags(kNonDiff));
}

}  // namespace keras_cpp
