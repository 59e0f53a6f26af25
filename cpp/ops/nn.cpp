// cpp/ops/nn.cpp — activations with options, softmax, bias_add, clip, one_hot and the
// crossentropies. softmax is a primitive (stable, fused); the rest are composites of other ops,
// so their gradients come free.
#include <cmath>
#include <limits>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;


template <class T>
void softmax_rows(const T* x, T* y, int64_t A, int64_t R, int64_t B) {
  parallel_for(A, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, R * B)), [&](int64_t a0, int64_t a1) {
    for (int64_t a = a0; a < a1; ++a) {
      if (B == 1) {
        CMap<T> v(x + a * R, R);
        MMap<T> o(y + a * R, R);
        T m = v.maxCoeff();
        o = (v - m).exp();
        o /= o.sum();
      } else {
        for (int64_t b = 0; b < B; ++b) {
          SMap<T> v(x + a * R * B + b, R, Eigen::InnerStride<>(B));
          SMMap<T> o(y + a * R * B + b, R, Eigen::InnerStride<>(B));
          T m = v.maxCoeff();
          o = (v - m).exp();
          o /= o.sum();
        }
      }
    }
  });
}

Expr axis_sum(const Expr& x, int64_t axis, bool keepdims) { return call("sum", {x, Value(std::vector<int64_t>{axis}), Value(keepdims)}); }

Expr log_softmax(const Expr& z, int64_t axis) {
  return z - call("logsumexp", {z, Value(std::vector<int64_t>{axis}), Value(true)});
}

}  // namespace

Expr relu(const Expr& x, double alpha, std::optional<double> max_value, double threshold) {
  return call("relu", {x, Value(alpha), max_value ? Value(*max_value) : Value(), Value(threshold)});
}
Expr softmax(const Expr& x, int64_t axis) { return call("softmax", {x, Value(axis)}); }
Expr clip(const Expr& x, double lo, double hi) { return call("clip", {x, Value(lo), Value(hi)}); }
Expr one_hot(const Expr& indices, int64_t n) { return call("one_hot", {indices, Value(n)}); }
Expr bias_add(const Expr& x, const Expr& b, const std::string& f) { return call("bias_add", {x, b, f.empty() ? Value() : Value(f)}); }
Expr categorical_crossentropy(const Expr& t, const Expr& o, bool fl, int64_t axis) {
  return call("categorical_crossentropy", {t, o, Value(fl), Value(axis)});
}
Expr sparse_categorical_crossentropy(const Expr& t, const Expr& o, bool fl, int64_t axis) {
  return call("sparse_categorical_crossentropy", {t, o, Value(fl), Value(axis)});
}

void register_nn() {
  OpDef r = def("relu(x: tensor, alpha: float = 0.0, max_value: float? = None, threshold: float = 0.0)",
                "Rectified linear unit; Keras order: negative part from raw x, positive part thresholded, clipped to max_value, minus alpha * negative part.");
  r.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    double alpha = a[1].f, threshold = a[3].f;
    bool has_max = !a[2].is_none();
    double mx = has_max ? a[2].f : 0;
    if (alpha == 0 && !has_max && threshold == 0) return make_node("_relu", {x});
    if (alpha != 0 && !has_max && threshold == 0) return maximum(x, alpha * x);  // leaky
    Expr neg;
    if (alpha != 0) neg = make_node("_relu", {threshold - x});
    // For integer x, x > t is x > floor(t) (the scalar would otherwise truncate toward zero).
    double th = is_floating(x.dtype()) ? threshold : std::floor(threshold);
    Expr pos = threshold != 0 ? x * cast(greater(x, scalar_like(th, x)), x.dtype()) : make_node("_relu", {x});
    if (has_max) pos = call("clip", {pos, Value(0.0), Value(mx)});
    return alpha != 0 ? pos - alpha * neg : pos;
  };
  register_op(r);

  OpDef sm = def("softmax(x: tensor, axis: int = -1)", "exp-normalize along axis (max-subtracted, stable).");
  sm.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    if (in[0].ndim() == 0) fail_value("softmax", "needs a tensor of rank >= 1, got a scalar");
    normalize_axis(a.i("axis"), in[0].ndim(), "softmax");
    if (!is_floating(in[0].dtype)) fail_type("softmax", std::string("expected a float tensor, got ") + dtype_name(in[0].dtype));
    return in[0];
  };
  sm.forward = [](KernelCtx& ctx) {
    Tensor x = ctx.in[0];
    DType od = x.dtype();
    if (od == DType::float16) x = x.astype(DType::float32);
    x = x.contiguous();
    int ax = normalize_axis(ctx.attrs().i("axis"), x.ndim(), "softmax");
    int64_t A = 1, R = x.shape()[ax], B = 1;
    for (int i = 0; i < ax; ++i) A *= x.shape()[i];
    for (int i = ax + 1; i < x.ndim(); ++i) B *= x.shape()[i];
    Tensor y = ctx.alloc_tensor(x.shape(), x.dtype());
    dispatch_float(x.dtype(), "softmax", [&](auto tag) {
      using T = decltype(tag);
      if (R > 0) softmax_rows<T>(x.data<T>(), y.data<T>(), A, R, B);
    });
    return y.astype(od);
  };
  sm.grad = [](const Expr& y, const Expr& g) {
    int64_t ax = y->attrs.i("axis");
    return G{y * (g - axis_sum(g * y, ax, true))};
  };
  register_op(sm);

  OpDef c = def("clip(x: tensor, min_value: scalar = None, max_value: scalar = None)",
                "max(min(x, max_value), min_value); with number bounds and max < min, max is raised to min (Keras). None = unbounded.");
  c.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    Value lo = a[1], hi = a[2];
    if (lo.kind == Value::Float && hi.kind == Value::Float && hi.f < lo.f) hi = lo;
    // A number bound outside an integer dtype's range saturates (clip(uint8, -1, 1) must not wrap to 255).
    auto saturate = [&](double v) {
      return dispatch(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_integral_v<T>)
          return std::min(std::max(v, double(std::numeric_limits<T>::lowest())), double(std::numeric_limits<T>::max()));
        else
          return v;
      });
    };
    auto bound = [&](const Value& v) { return v.kind == Value::Tensor ? Expr(v.t) : scalar_like(saturate(v.f), x); };
    Expr r = x;
    if (!hi.is_none()) r = minimum(r, bound(hi));
    if (!lo.is_none()) r = maximum(r, bound(lo));
    return r;
  };
  register_op(c);

  OpDef ba = def("bias_add(x: tensor, bias: tensor, data_format: str? = None)",
                 "Add bias on the channel axis: last for channels_last, axis 1 for channels_first (3-5-D x).");
  ba.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t), b(a[1].t);
    std::string f = a[2].is_none() ? config::image_data_format() : a[2].s;
    for (auto& ch : f) ch = static_cast<char>(std::tolower(ch));
    if (f != "channels_last" && f != "channels_first") fail_value("bias_add", "Unknown data_format: '" + f + "' (expected 'channels_last' or 'channels_first')");
    int nx = x.ndim(), nb = b.ndim();
    if (nb != 1 && nb != nx - 1)
      fail_value("bias_add", "unexpected bias dimensions " + std::to_string(nb) + " (bias shape " + shape_str(b.shape()) + "); expected 1 or " + std::to_string(nx - 1) + " for x of shape " + shape_str(x.shape()));
    if (nb == 1 && x.shape().size() && b.shape()[0] >= 0) {
      int ch = (f == "channels_first" && nx >= 3 && nx <= 5) ? 1 : nx - 1;
      if (x.shape()[ch] >= 0 && x.shape()[ch] != b.shape()[0])
        fail_value("bias_add", "bias of shape " + shape_str(b.shape()) + " does not match " + std::to_string(x.shape()[ch]) + " channels of x " + shape_str(x.shape()));
    }
    if (f == "channels_first" && nx >= 3 && nx <= 5) {
      Shape s(nx, 1);
      if (nb == 1) s[1] = b.shape()[0];
      else {  // Keras: full-rank bias is reshaped (not transposed) to (1, C, spatial...)
        s[1] = b.shape()[nb - 1];
        for (int i = 0; i < nb - 1; ++i) s[i + 2] = b.shape()[i];
      }
      return x + reshape(b, s);
    }
    return x + b;
  };
  register_op(ba);

  OpDef oh = def("one_hot(indices: tensor, num_classes: int)",
                 "Append an axis of length num_classes; out-of-range indices give an all-zero row; float32 result.");
  oh.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    if (is_floating(in[0].dtype)) fail_type("one_hot", std::string("indices must be integers, got ") + dtype_name(in[0].dtype));
    if (a.i("num_classes") < 0) fail_value("one_hot", "num_classes must be >= 0");
    Shape s = in[0].shape;
    s.push_back(a.i("num_classes"));
    return TypeInfo{s, DType::float32, true};
  };
  oh.forward = [](KernelCtx& ctx) {
    Tensor idx = ctx.in[0].astype(DType::int64).contiguous();
    int64_t C = ctx.attrs().i("num_classes");
    Shape s = idx.shape();
    s.push_back(C);
    Tensor o = Tensor::zeros(s, DType::float32);
    const int64_t* p = idx.data<int64_t>();
    float* q = o.data<float>();
    for (int64_t i = 0; i < idx.numel(); ++i)
      if (p[i] >= 0 && p[i] < C) q[i * C + p[i]] = 1.0f;
    return o;
  };
  oh.flags = kNonDiff;
  register_op(oh);

  OpDef cce = def("categorical_crossentropy(target: tensor, output: tensor, from_logits: bool = False, axis: int = -1)",
                  "-sum(target * log(p)) along axis; probabilities are renormalized and clipped to [eps, 1-eps]; logits use a stable log-softmax.");
  cce.build = [](const OpDef&, std::vector<Value>& a) {
    Expr t(a[0].t), o(a[1].t);
    int64_t ax = normalize_axis(a[3].i, o.ndim(), "categorical_crossentropy");
    if (t.ndim() != o.ndim()) fail_value("categorical_crossentropy", "target " + shape_str(t.shape()) + " and output " + shape_str(o.shape()) + " must have the same rank");
    if (t.dtype() != o.dtype()) t = cast(t, o.dtype());
    if (a[2].b) return -axis_sum(t * log_softmax(o, ax), ax, false);
    Expr p = o / axis_sum(o, ax, true);
    double eps = config::epsilon();
    p = call("clip", {p, Value(eps), Value(1.0 - eps)});
    return -axis_sum(t * log(p), ax, false);
  };
  register_op(cce);

  OpDef scce = def("sparse_categorical_crossentropy(target: tensor, output: tensor, from_logits: bool = False, axis: int = -1)",
                   "Crossentropy with integer class ids; probabilities are clipped, logged and renormalized by a log-softmax.");
  scce.build = [](const OpDef&, std::vector<Value>& a) {
    Expr t(a[0].t), o(a[1].t);
    int nd = o.ndim();
    int64_t ax = normalize_axis(a[3].i, nd, "sparse_categorical_crossentropy");
    if (ax != nd - 1) {  // move the class axis last
      std::vector<int64_t> p;
      for (int i = 0; i < nd; ++i) if (i != ax) p.push_back(i);
      p.push_back(ax);
      o = permute_dimensions(o, p);
    }
    Expr logits = o;
    if (!a[2].b) {
      double eps = config::epsilon();
      logits = log(call("clip", {o, Value(eps), Value(1.0 - eps)}));
    }
    int64_t C = o.shape()[nd - 1];
    if (C < 0) fail_value("sparse_categorical_crossentropy", "the number of classes (last axis of output) must be known");
    Expr ti = cast(t, DType::int64);
    bool flatten = t.ndim() != nd - 1;
    if (flatten) ti = reshape(ti, {-1});
    Expr oh = cast(call("one_hot", {ti, Value(C)}), o.dtype());
    Expr lsm = log_softmax(logits, -1);
    if (flatten) lsm = reshape(lsm, {-1, C});
    Expr loss = -axis_sum(oh * lsm, -1, false);
    if (flatten && nd >= 3) {
      std::vector<Value> s;
      for (int i = 0; i < nd - 1; ++i) s.push_back(dim_value(o, i));
      loss = call("reshape", {loss, Value(s)});
    }
    return loss;
  };
  register_op(scce);

  OpDef bce = def("binary_crossentropy(target: tensor, output: tensor, from_logits: bool = False)",
                  "Elementwise -(t log p + (1-t) log(1-p)) with p clipped to [eps, 1-eps]; logits use max(z,0) - z t + log(1 + exp(-|z|)).");
  bce.build = [](const OpDef&, std::vector<Value>& a) {
    Expr t(a[0].t), o(a[1].t);
    if (t.dtype() != o.dtype()) t = cast(t, o.dtype());
    if (a[2].b) return make_node("_relu", {o}) - o * t + softplus(-abs(o));
    double eps = config::epsilon();
    Expr p = call("clip", {o, Value(eps), Value(1.0 - eps)});
    return -(t * log(p) + (1.0 - t) * log(1.0 - p));
  };
  register_op(bce);
}

}  // namespace keras_cpp
