// cpp/ops/nn.cpp — activations with options, softmax, bias_add, clip, one_hot and the
// crossentropies. softmax is a primitive (stable, fused); the rest are composites of other ops,
// so their gradients come free.
#include <cmath>
#include <limits>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;

// softmax over R of x viewed as (A, R, B), on the elementwise/reduction kernels (so exp(-inf)
// is exactly 0 and a NaN anywhere in a slice makes that slice NaN, as in TF and numpy).
void softmax_rows(const Tensor& x, Tensor& y, int64_t A, int64_t R, int64_t B) {
  const DType t = x.dtype();
  const int64_t es = static_cast<int64_t>(dtype_size(t));
  const ew::ReduceRowsFn rmax = ew::reduce_rows(ew::ReduceOp::max, t);
  const ew::ReduceColsFn cmax = ew::reduce_cols(ew::ReduceOp::max, t), csum = ew::reduce_cols(ew::ReduceOp::sum, t);
  const ew::BinaryFn sub = ew::binary(ew::BinaryOp::subtract, t), div = ew::binary(ew::BinaryOp::divide, t),
                    mul = ew::binary(ew::BinaryOp::multiply, t);
  const ew::UnaryFn ex = ew::unary(ew::UnaryOp::exp, t);
  const ew::ExpShiftSumFn exsum = ew::exp_shift_sum(t);
  const char* px = static_cast<const char*>(x.raw());
  char* py = static_cast<char*>(y.raw());
  parallel_for(A, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, R * B)), [&](int64_t a0, int64_t a1) {
    std::vector<char> ms(static_cast<size_t>(B * es)), ss(static_cast<size_t>(B * es));
    for (int64_t a = a0; a < a1; ++a) {
      const char* xa = px + a * R * B * es;
      char* ya = py + a * R * B * es;
      if (B == 1) {  // y = exp(x - max) * (1 / sum): three passes over a row that stays in cache
        rmax(xa, ms.data(), 1, R);
        const double m = t == DType::float32 ? double(*reinterpret_cast<const float*>(ms.data())) : *reinterpret_cast<const double*>(ms.data());
        const double inv = 1.0 / exsum(xa, ya, R, m);  // within 1 ulp of dividing; inf or NaN stays so
        if (t == DType::float32) *reinterpret_cast<float*>(ss.data()) = static_cast<float>(inv);
        else *reinterpret_cast<double*>(ss.data()) = inv;
        mul(ya, ss.data(), ya, R, 1, 0);
        continue;
      }
      cmax(xa, ms.data(), R, B, B);
      for (int64_t r = 0; r < R; ++r) {
        sub(xa + r * B * es, ms.data(), ya + r * B * es, B, 1, 1);
        ex(ya + r * B * es, ya + r * B * es, B);
      }
      csum(ya, ss.data(), R, B, B);
      for (int64_t r = 0; r < R; ++r) div(ya + r * B * es, ss.data(), ya + r * B * es, B, 1, 1);
    }
  });
}

OpRef kReluOp, kSoftmax, kClip, kBiasAdd, kOneHot, kCce, kScce, kBce, kClassIds, kLseRows, kXentRows;

// logsumexp over the last axis, kept as length 1 (float32/float64, rank >= 1): the row maxima in
// one call, then one exp-and-sum pass per row and the log in double. A row whose max is not
// finite gives that max (-inf for an all -inf or empty row, inf, NaN), as the composite does.
TypeInfo lse_rows_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  TypeInfo t = in[0];
  t.shape.back() = 1;
  return t;
}

Tensor lse_rows_forward(KernelCtx& ctx) {
  Tensor x = ctx.in[0].contiguous();
  const DType t = x.dtype();
  Shape s = x.shape();
  const int64_t R = s.back();
  s.back() = 1;
  Tensor y = ctx.alloc_tensor(s, t);
  const int64_t rows = y.numel(), es = static_cast<int64_t>(dtype_size(t));
  const ew::ReduceRowsFn rmax = ew::reduce_rows(ew::ReduceOp::max, t);
  const ew::ExpShiftSumFn exsum = ew::exp_shift_sum(t);
  const char* px = static_cast<const char*>(x.raw());
  char* py = static_cast<char*>(y.raw());
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, R)), [&](int64_t r0, int64_t r1) {
    if (R > 0) rmax(px + r0 * R * es, py + r0 * es, r1 - r0, R);  // the maxima, in y's own slots
    for (int64_t r = r0; r < r1; ++r) {
      double m = -std::numeric_limits<double>::infinity();
      if (R > 0) m = t == DType::float32 ? double(reinterpret_cast<const float*>(py)[r]) : reinterpret_cast<const double*>(py)[r];
      const double v = std::isfinite(m) ? std::log(exsum(px + r * R * es, nullptr, R, m)) + m : m;
      if (t == DType::float32) reinterpret_cast<float*>(py)[r] = static_cast<float>(v);
      else reinterpret_cast<double*>(py)[r] = v;
    }
  });
  return y;
}

G lse_rows_grad(const Expr& y, const Expr& g) { return G{g * exp(Expr(y->inputs[0]) - y)}; }  // g * softmax

// categorical_crossentropy from logits over the last axis (float32/float64, t and z of one class
// count): per row the maximum, one exp-and-sum pass for the logsumexp (in double), then
// loss = -sum_j t_j * (z_j - lse) accumulated in double, in one job over the rows. The composite
// -sum(t * (z - logsumexp(z))) ran four steps (three of them jobs at 2 threads) and wrote the
// product to memory; its z - lse and products were rounded to the float type, these are not.
// The IEEE special cases are the composite's: a row with NaN or +inf gives NaN, 0 * inf is NaN.
template <class T>
void xent_rows(const T* t, const T* z, T* out, int64_t rows, int64_t C, ew::ReduceRowsFn rmax, ew::ExpShiftSumFn exsum) {
  for (int64_t r = 0; r < rows; ++r, t += C, z += C) {
    double lse = -std::numeric_limits<double>::infinity();
    if (C > 0) {
      T m;
      rmax(z, &m, 1, C);
      lse = std::isfinite(double(m)) ? std::log(exsum(z, nullptr, C, double(m))) + double(m) : double(m);
    }
    // 16 independent sums: the loop vectorizes into four chains of 4-double FMAs (their latency,
    // not the loads, bounds it: two chains took 45 of the 150 us of 256 x 1000 float32).
    double acc[16] = {};
    int64_t j = 0;
    for (; j + 16 <= C; j += 16)
      for (int k = 0; k < 16; ++k) acc[k] += double(t[j + k]) * (double(z[j + k]) - lse);
    for (int w = 8; w >= 1; w /= 2)
      for (int k = 0; k < w; ++k) acc[k] += acc[k + w];
    double sum = acc[0];
    for (; j < C; ++j) sum += double(t[j]) * (double(z[j]) - lse);
    out[r] = static_cast<T>(-sum);
  }
}

TypeInfo xent_rows_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  Shape s = broadcast_shapes(in[0].shape, in[1].shape, "categorical_crossentropy");
  s.pop_back();
  return TypeInfo{s, in[1].dtype, true};
}

Tensor xent_rows_forward(KernelCtx& ctx) {
  Tensor t = ctx.in[0], z = ctx.in[1];
  if (t.shape() != z.shape()) {  // leading axes broadcast (the class counts are equal)
    const Shape b = broadcast_shapes(t.shape(), z.shape(), "categorical_crossentropy");
    t = t.broadcast_to(b);
    z = z.broadcast_to(b);
  }
  t = t.contiguous();
  z = z.contiguous();
  const DType dt = z.dtype();
  Shape s = z.shape();
  const int64_t C = s.back();
  s.pop_back();
  Tensor out = ctx.alloc_tensor(s, dt);
  const int64_t rows = out.numel();
  const ew::ReduceRowsFn rmax = ew::reduce_rows(ew::ReduceOp::max, dt);
  const ew::ExpShiftSumFn exsum = ew::exp_shift_sum(dt);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T *pt = t.data<T>(), *pz = z.data<T>();
    T* po = out.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, C)), [&](int64_t r0, int64_t r1) {
      xent_rows<T>(pt + r0 * C, pz + r0 * C, po + r0, r1 - r0, C, rmax, exsum);
    });
  };
  if (dt == DType::float32) run(float());
  else run(double());
  return out;
}

// loss = sum_j t_j * (lse - z_j): d/dt = lse - z, d/dz = softmax(z) * sum(t) - t (per row).
G xent_rows_grad(const Expr& y, const Expr& g) {
  Expr t(y->inputs[0]), z(y->inputs[1]);
  Expr lse = logsumexp_last(z), g1 = expand_dims(g, -1);
  Expr dt = g1 * (lse - z);
  Expr dz = g1 * (exp(z - lse) * sum(t, std::vector<int64_t>{-1}, true) - t);
  return G{sum_to(dt, t), sum_to(dz, z)};
}

// Crossentropies clip probabilities to [eps, 1 - eps]: an int or bool output cannot hold them.
void check_float_output(const char* op, const Expr& o) {
  if (!is_floating(o.dtype()))
    fail_type(op, std::string("output must be a float tensor (probabilities or logits), got ") + dtype_name(o.dtype()));
}

// Class ids as int64, truncated like a cast; NaN or out-of-range ids raise (TF's CPU kernel does).
Tensor class_ids_forward(KernelCtx& ctx) {
  const int64_t C = ctx.attrs().i("num_classes");
  Tensor t = ctx.in[0].contiguous();
  Tensor out = ctx.alloc_tensor(t.shape(), DType::int64);
  int64_t* q = out.data<int64_t>();
  dispatch(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v = convert<double>(p[i]);
      if (!(v > -1 && v < static_cast<double>(C)))
        fail_value("sparse_categorical_crossentropy", "target holds class id " + Value(v).repr() + " at flat index " +
                                                          std::to_string(i) + ", outside the valid range [0, " + std::to_string(C) + ")");
      q[i] = static_cast<int64_t>(v);
    }
  });
  return out;
}

TypeInfo class_ids_infer(const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{in[0].shape, DType::int64, in[0].rank_known}; }

Expr axis_sum(const Expr& x, int64_t axis, bool keepdims) { return sum(x, std::vector<int64_t>{axis}, keepdims); }
Expr log_softmax(const Expr& z, int64_t axis) { return z - logsumexp(z, std::vector<int64_t>{axis}, true); }

// Keras order: negative part from raw x, positive part thresholded, clipped to max_value, minus alpha * negative part.
Expr relu_of(const Expr& x, double alpha, const std::optional<double>& max_value, double threshold) {
  if (alpha == 0 && !max_value && threshold == 0) return relu0(x);
  if (alpha != 0 && !max_value && threshold == 0) return maximum(x, alpha * x);  // leaky
  Expr neg;
  if (alpha != 0) neg = relu0(threshold - x);
  // For integer x, x > t is x > floor(t) (the scalar would otherwise truncate toward zero).
  double th = is_floating(x.dtype()) ? threshold : std::floor(threshold);
  Expr pos = threshold != 0 ? x * cast(greater(x, scalar_like(th, x)), x.dtype()) : relu0(x);
  // TF's clip_by_value, not K.clip: a max_value below 0 is not raised to 0.
  if (max_value) pos = minimum(maximum(pos, scalar_like(0.0, pos)), scalar_like(*max_value, pos));
  return alpha != 0 ? pos - alpha * neg : pos;
}

Expr relu_build(const OpDef&, std::vector<Value>& a) {
  return relu_of(Expr(a[0].t), a[1].f, a[2].is_none() ? std::optional<double>() : a[2].f, a[3].f);
}

TypeInfo softmax_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (in[0].ndim() == 0) fail_value("softmax", "needs a tensor of rank >= 1, got a scalar");
  normalize_axis(a.i("axis"), in[0].ndim(), "softmax");
  if (!is_floating(in[0].dtype)) fail_type("softmax", std::string("expected a float tensor, got ") + dtype_name(in[0].dtype));
  return in[0];
}

Tensor softmax_forward(KernelCtx& ctx) {
  Tensor x = ctx.in[0];
  DType od = x.dtype();
  if (od == DType::float16) x = x.astype(DType::float32);
  x = x.contiguous();
  int ax = normalize_axis(ctx.attrs().i("axis"), x.ndim(), "softmax");
  int64_t A = 1, R = x.shape()[ax], B = 1;
  for (int i = 0; i < ax; ++i) A *= x.shape()[i];
  for (int i = ax + 1; i < x.ndim(); ++i) B *= x.shape()[i];
  Tensor y = ctx.alloc_tensor(x.shape(), x.dtype());
  if (x.dtype() != DType::float32 && x.dtype() != DType::float64)
    fail_type("softmax", std::string("expected a float tensor, got ") + dtype_name(x.dtype()));
  if (R > 0) softmax_rows(x, y, A, R, B);
  return y.astype(od);
}

G softmax_grad(const Expr& y, const Expr& g) { return G{y * (g - axis_sum(g * y, y->attrs.i("axis"), true))}; }

// Bounds are numbers (Float), tensors or None (unbounded).
Expr clip_values(const Expr& x, const Value& lo, Value hi) {
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
}

Expr clip_build(const OpDef&, std::vector<Value>& a) { return clip_values(Expr(a[0].t), a[1], a[2]); }

// f: a normalised data_format.
Expr bias_add_as(const Expr& x, const Expr& b, const std::string& f) {
  int nx = x.ndim(), nb = b.ndim();
  if (nb != 1 && nb != nx - 1)
    fail_value("bias_add", "unexpected bias dimensions " + std::to_string(nb) + " (bias shape " + shape_str(b.shape()) + "); expected 1 or " +
                               std::to_string(nx - 1) + " for x of shape " + shape_str(x.shape()));
  bool first = f == "channels_first" && nx >= 3 && nx <= 5;
  if (nb == 1 && x.shape().size() && b.shape()[0] >= 0) {
    int ch = first ? 1 : nx - 1;
    if (x.shape()[ch] >= 0 && x.shape()[ch] != b.shape()[0])
      fail_value("bias_add", "bias of shape " + shape_str(b.shape()) + " does not match " + std::to_string(x.shape()[ch]) + " channels of x " +
                                 shape_str(x.shape()));
  }
  if (!first) return x + b;
  Shape s(nx, 1);
  if (nb == 1) s[1] = b.shape()[0];
  else {  // Keras: full-rank bias is reshaped (not transposed) to (1, C, spatial...)
    s[1] = b.shape()[nb - 1];
    for (int i = 0; i < nb - 1; ++i) s[i + 2] = b.shape()[i];
  }
  return x + reshape(b, s);
}

Expr bias_add_build(const OpDef&, std::vector<Value>& a) { return bias_add_as(Expr(a[0].t), Expr(a[1].t), a[2].s); }

TypeInfo one_hot_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (is_floating(in[0].dtype)) fail_type("one_hot", std::string("indices must be integers, got ") + dtype_name(in[0].dtype));
  if (a.i("num_classes") < 0) fail_value("one_hot", "num_classes must be >= 0");
  Shape s = in[0].shape;
  s.push_back(a.i("num_classes"));
  return TypeInfo{s, DType::float32, true};
}

Tensor one_hot_forward(KernelCtx& ctx) {
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
}

Expr clip_eps(const Expr& p) {
  double eps = config::epsilon();
  return clip(p, eps, 1.0 - eps);
}

Expr cce_build(const OpDef&, std::vector<Value>& a) { return categorical_crossentropy(Expr(a[0].t), Expr(a[1].t), a[2].b, a[3].i); }
Expr scce_build(const OpDef&, std::vector<Value>& a) {
  return sparse_categorical_crossentropy(Expr(a[0].t), Expr(a[1].t), a[2].b, a[3].i);
}

Expr bce_build(const OpDef&, std::vector<Value>& a) {
  Expr t(a[0].t), o(a[1].t);
  check_float_output("binary_crossentropy", o);
  if (t.dtype() != o.dtype()) t = cast(t, o.dtype());
  if (a[2].b) return relu0(o) - o * t + softplus(-abs(o));
  Expr p = clip_eps(o);
  return -(t * log(p) + (1.0 - t) * log(1.0 - p));
}

}  // namespace

Expr relu(const Expr& x, double alpha, std::optional<double> max_value, double threshold) {
  return relu_of(x, alpha, max_value, threshold);
}
Expr softmax(const Expr& x, int64_t axis) {
  Attrs a;
  a.set("axis", Value(axis));
  return make_node(kSoftmax, {x}, a);
}
Expr logsumexp_last(const Expr& x) { return make_node(kLseRows, {x}, Attrs()); }
Expr clip(const Expr& x, double lo, double hi) { return clip_values(x, Value(lo), Value(hi)); }
Expr one_hot(const Expr& indices, int64_t n) {
  Attrs a;
  a.set("num_classes", Value(n));
  return make_node(kOneHot, {indices}, a);
}
Expr bias_add(const Expr& x, const Expr& b, const std::string& f) { return bias_add_as(x, b, data_format_arg("bias_add", f)); }

Expr categorical_crossentropy(const Expr& t0, const Expr& o, bool from_logits, int64_t axis) {
  check_float_output("categorical_crossentropy", o);
  // Unknown rank: the axis stays as given (normalized by the reductions when they run).
  int64_t ax = o.rank_known() ? normalize_axis(axis, o.ndim(), "categorical_crossentropy") : axis;
  if (t0.rank_known() && o.rank_known() && t0.ndim() != o.ndim())
    fail_value("categorical_crossentropy", "target " + shape_str(t0.shape()) + " and output " + shape_str(o.shape()) + " must have the same rank");
  Expr t = t0.dtype() != o.dtype() ? cast(t0, o.dtype()) : t0;
  if (from_logits) {
    const bool f3264 = o.dtype() == DType::float32 || o.dtype() == DType::float64;
    if (f3264 && o.rank_known() && t.rank_known() && o.ndim() >= 1 && ax == o.ndim() - 1 && o.shape().back() >= 0 &&
        t.shape().back() == o.shape().back())  // one fused job (xent_rows); a broadcast class axis takes the composite
      return make_node(kXentRows, {t, o}, Attrs());
    return -axis_sum(t * log_softmax(o, ax), ax, false);
  }
  Expr p = clip_eps(o / axis_sum(o, ax, true));
  return -axis_sum(t * log(p), ax, false);
}

Expr sparse_categorical_crossentropy(const Expr& t, const Expr& o0, bool from_logits, int64_t axis) {
  check_float_output("sparse_categorical_crossentropy", o0);
  Expr o = o0;
  int nd = o.ndim();
  int64_t ax = normalize_axis(axis, nd, "sparse_categorical_crossentropy");
  if (ax != nd - 1) {  // move the class axis last
    std::vector<int64_t> p;
    for (int i = 0; i < nd; ++i) if (i != ax) p.push_back(i);
    p.push_back(ax);
    o = permute_dimensions(o, p);
  }
  Expr logits = from_logits ? o : log(clip_eps(o));
  int64_t C = o.shape()[nd - 1];
  if (C < 0) fail_value("sparse_categorical_crossentropy", "the number of classes (last axis of output) must be known");
  Attrs ca;
  ca.set("num_classes", Value(C));
  Expr ti = make_node(kClassIds, {t}, ca);
  bool flatten = t.ndim() != nd - 1;
  if (flatten) ti = reshape(ti, {-1});
  Expr oh = cast(one_hot(ti, C), o.dtype());
  Expr lsm = log_softmax(logits, -1);
  if (flatten) lsm = reshape(lsm, {-1, C});
  Expr loss = -axis_sum(oh * lsm, -1, false);
  if (flatten && nd >= 3) {
    std::vector<Value> s;
    for (int i = 0; i < nd - 1; ++i) s.push_back(dim_value(o, i));
    loss = reshape_to(loss, s);
  }
  return loss;
}

void register_nn() {
  register_op(kReluOp, Op("relu(x: tensor, alpha: float = 0.0, max_value: float? = None, threshold: float = 0.0)",
                        "Rectified linear unit; Keras order: negative part from raw x, positive part thresholded, clipped to max_value, "
                        "minus alpha * negative part.")
                         .build(relu_build));
  register_op(kSoftmax, Op("softmax(x: tensor, axis: int = -1)", "exp-normalize along axis (max-subtracted, stable).")
                            .infer(softmax_infer).forward(softmax_forward).grad(softmax_grad));
  register_op(kLseRows, Op("_logsumexp_rows(x: tensor)", "logsumexp over the last axis of a float32/float64 tensor, kept as length 1.")
                            .infer(lse_rows_infer).forward(lse_rows_forward).grad(lse_rows_grad));
  register_op(kXentRows, Op("_xent_logits_rows(target: tensor, logits: tensor)",
                            "categorical crossentropy from logits over the last axis (float32/float64, one class count).")
                             .infer(xent_rows_infer).forward(xent_rows_forward).grad(xent_rows_grad));
  register_op(kClip, Op("clip(x: tensor, min_value: scalar = None, max_value: scalar = None)",
                        "max(min(x, max_value), min_value); with number bounds and max < min, max is raised to min (Keras). None = unbounded.")
                         .build(clip_build));
  register_op(kBiasAdd, Op("bias_add(x: tensor, bias: tensor, data_format: data_format = None)",
                           "Add bias on the channel axis: last for channels_last, axis 1 for channels_first (3-5-D x).")
                            .build(bias_add_build));
  register_op(kOneHot, Op("one_hot(indices: tensor, num_classes: int)",
                          "Append an axis of length num_classes; out-of-range indices give an all-zero row; float32 result.")
                           .infer(one_hot_infer).forward(one_hot_forward).flags(kNonDiff));
  register_op(kCce, Op("categorical_crossentropy(target: tensor, output: tensor, from_logits: bool = False, axis: int = -1)",
                       "-sum(target * log(p)) along axis; probabilities are renormalized and clipped to [eps, 1-eps]; logits use a "
                       "stable log-softmax.")
                        .build(cce_build));
  register_op(kScce, Op("sparse_categorical_crossentropy(target: tensor, output: tensor, from_logits: bool = False, axis: int = -1)",
                        "Crossentropy with integer class ids (float ids are truncated, as by a cast); probabilities are clipped, "
                         "logged and renormalized by a log-softmax. A class id outside [0, classes) or NaN raises ValueError "
                         "when the loss is evaluated (as TF on CPU), never a loss of 0.")
                          .build(scce_build));
  register_op(kClassIds, Op("_class_ids(target: tensor, num_classes: int)", "sparse_categorical_crossentropy's ids as int64, range-checked when run.")
                             .infer(class_ids_infer).forward(class_ids_forward).flags(kNonDiff));
  register_op(kBce, Op("binary_crossentropy(target: tensor, output: tensor, from_logits: bool = False)",
                       "Elementwise -(t log p + (1-t) log(1-p)) with p clipped to [eps, 1-eps]; logits use max(z,0) - z t + "
                       "log(1 + exp(-|z|)).")
                        .build(bce_build));
}

}  // namespace keras_cpp
