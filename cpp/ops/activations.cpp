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

}  // namespace

Expr elu(const Expr& x, double alpha) { return call("elu", {x, Value(alpha)}); }
Expr hard_sigmoid(const Expr& x) { return call("hard_sigmoid", {x}); }
Expr in_top_k(const Expr& predictions, const Expr& targets, int64_t k) {
  return call("in_top_k", {predictions, targets, Value(k)});
}

void register_activations() {
  OpDef e = def("elu(x: tensor, alpha: float = 1.0)", "Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1).");
  e.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x = as_float(Expr(a[0].t), "elu");
    Expr zero = scalar_like(0, x);
    // expm1 (exact near 0) of min(x, 0): the unused branch never overflows, so its gradient is
    // never 0 * inf. TF's order: expm1, then one multiplication by alpha (none when alpha is 1).
    Expr em1 = make_node("_expm1", {minimum(x, zero)});
    Expr neg = a[1].f == 1.0 ? em1 : a[1].f * em1;
    return where(greater(x, zero), x, neg);
  };
  register_op(e);

  OpDef hs = def("hard_sigmoid(x: tensor)", "Piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1).");
  hs.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x = as_float(Expr(a[0].t), "hard_sigmoid");
    return call("clip", {0.2 * x + 0.5, Value(0.0), Value(1.0)});
  };
  register_op(hs);

  OpDef tk = def("in_top_k(predictions: tensor, targets: tensor, k: int)",
                 "Bool (batch,): the target class is among the k highest scores of its row (ties count as in); "
                 "k < 1 gives False, k >= classes True; a non-finite row or an out-of-range target gives False.");
  tk.infer = [](const std::vector<TypeInfo>& in, const Attrs&) {
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
  };
  tk.forward = [](KernelCtx& ctx) {
    if (ctx.in[0].shape()[0] != ctx.in[1].shape()[0])
      fail_value("in_top_k", "predictions " + shape_str(ctx.in[0].shape()) + " and targets " + shape_str(ctx.in[1].shape()) + " disagree on the batch size");
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
  };
  tk.flags = kNonDiff;
  register_op(tk);
}

}  // namespace keras_cpp
