// cpp/ops/random.cpp — arange and the random ops (uniform, normal, truncated normal, binomial,
// dropout). Draws come from Philox4x32-10 keyed by the op seed, with the counter made of the
// element (block) index and the node's evaluation index: the same seed gives the same numbers
// whatever the thread count, and each evaluation of a node draws fresh ones.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <random>

#include "core/fork.h"
#include "keras_cpp/function.h"
#include "kernels/philox.h"
#include "ops/helpers.h"

namespace keras_cpp {
namespace {

OpRef kArange, kBelow, kUniform, kNormal, kTruncNormal, kBinomial, kDropout, kDropoutMask;

// ---- draws

std::mutex g_seed_mu;
[[maybe_unused]] const bool g_seed_mu_registered = (register_fork_lock(g_seed_mu, ForkLockRank::random_seed), true);

// C++ callers may leave the seed out (Python always passes one, from numpy's global RNG).
int64_t seed_of(const Value& v) {
  if (!v.is_none()) return v.i;
  static std::mt19937_64 gen{std::random_device{}()};
  std::lock_guard<std::mutex> lk(g_seed_mu);
  return static_cast<int64_t>(gen() >> 1);
}

struct Draw {
  Philox4x32 gen;
  uint64_t eval;
  // Four random words for block b of this evaluation; `round` (< 2^16) numbers redraws.
  void words(uint64_t b, uint32_t round, uint32_t w[4]) const {
    uint32_t c[4] = {uint32_t(b), uint32_t(b >> 32), uint32_t(eval), (uint32_t(eval >> 32) << 16) | round};
    gen.block(c, w);
  }
};

Draw draw_of(const KernelCtx& ctx) {
  uint64_t s = static_cast<uint64_t>(ctx.attrs().i("seed"));
  return Draw{{{uint32_t(s), uint32_t(s >> 32)}}, ctx.eval_index};
}

// Uniform [0, 1) draws of compute type C: four 24-bit ones per block for float, two 53-bit for double.
template <class C> struct Unit;
template <> struct Unit<float> {
  static constexpr int per = 4;
  static float get(const uint32_t* w, int j) { return unit24(w[j]); }
};
template <> struct Unit<double> {
  static constexpr int per = 2;
  static double get(const uint32_t* w, int j) { return unit53(w[2 * j], w[2 * j + 1]); }
};

template <class O> constexpr bool is_float_v = std::is_same_v<O, half> || std::is_floating_point_v<O>;
template <class O> using compute_t = std::conditional_t<std::is_same_v<O, double>, double, float>;

// Fill n outputs Per at a time: f(words, v) makes the Per values of one block (the last block
// keeps the ones that fit).
template <int Per, class O, class F>
void fill_blocks(O* out, int64_t n, const Draw& d, F&& f) {
  parallel_for((n + Per - 1) / Per, 2048, [&](int64_t b0, int64_t b1) {
    uint32_t w[4];
    O v[Per];
    for (int64_t b = b0; b < b1; ++b) {
      d.words(static_cast<uint64_t>(b), 0, w);
      f(w, v);
      std::copy(v, v + std::min<int64_t>(Per, n - b * Per), out + b * Per);
    }
  });
}

// Box-Muller: standard normals z[p], z[p + 1] from uniform draws p and p + 1 of a block.
template <class C>
void normal_pair(const uint32_t* w, int p, C* z) {
  C r = std::sqrt(C(-2) * std::log(C(1) - Unit<C>::get(w, p)));  // 1 - u is in (0, 1]
  C t = C(6.283185307179586) * Unit<C>::get(w, p + 1);
  z[p] = r * std::cos(t);
  z[p + 1] = r * std::sin(t);
}

// Unit<C>::per standard normals from one block.
template <class C>
void normals(const uint32_t* w, C* z) {
  for (int p = 0; p < Unit<C>::per; p += 2) normal_pair<C>(w, p, z);
}

// The largest value of O below hi (rounding must not push a uniform draw onto maxval).
template <class O>
O below(O v, double hi) {
  while (convert<double>(v) >= hi) {
    if constexpr (std::is_same_v<O, half>) {
      uint16_t b = v.bits;
      b = (b & 0x7fff) == 0 ? 0x8001 : (b & 0x8000) ? b + 1 : b - 1;
      v = half::from_bits(b);
    } else {
      v = std::nextafter(v, -std::numeric_limits<O>::infinity());
    }
  }
  return v;
}

Tensor below_forward(KernelCtx& ctx) {
  Tensor x = ctx.in[0].contiguous();
  Tensor out = ctx.alloc_tensor(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half> || std::is_floating_point_v<T>) {
      const T* p = x.data<T>();
      T* o = out.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double v = convert<double>(p[i]);
        o[i] = std::isnan(v) || v == -std::numeric_limits<double>::infinity() ? p[i] : below(p[i], v);
      }
    }
  });
  return out;
}

Tensor alloc_random(KernelCtx& ctx) {
  Shape s = shape_arg_value(ctx.node.op->name, ctx.attrs(), ctx.in, 0);
  return ctx.alloc_tensor(s, ctx.attrs().dtype("dtype"));
}

Tensor uniform_forward(KernelCtx& ctx) {
  Tensor out = alloc_random(ctx);
  Draw d = draw_of(ctx);
  double lo = ctx.attrs().f("minval"), hi = ctx.attrs().f("maxval");
  dispatch(out.dtype(), [&](auto tag) {
    using O = decltype(tag);
    if constexpr (is_float_v<O>) {
      using C = compute_t<O>;
      fill_blocks<Unit<C>::per>(out.data<O>(), out.numel(), d, [&](const uint32_t* w, O* dst) {
        for (int j = 0; j < Unit<C>::per; ++j) {
          O v = convert<O>(lo + (hi - lo) * double(Unit<C>::get(w, j)));
          dst[j] = hi > lo ? below(v, hi) : v;
        }
      });
    } else if constexpr (!std::is_same_v<O, bool>) {  // integers: lo + floor((hi - lo) * u)
      fill_blocks<2>(out.data<O>(), out.numel(), d, [&](const uint32_t* w, O* dst) {
        for (int j = 0; j < 2; ++j) dst[j] = static_cast<O>(std::min(lo + std::floor((hi - lo) * Unit<double>::get(w, j)), hi - 1));
      });
    }
  });
  return out;
}

template <bool Truncated>
Tensor normal_forward(KernelCtx& ctx) {
  Tensor out = alloc_random(ctx);
  Draw d = draw_of(ctx);
  double mean = ctx.attrs().f("mean"), sd = ctx.attrs().f("stddev");
  dispatch(out.dtype(), [&](auto tag) {
    using O = decltype(tag);
    if constexpr (is_float_v<O>) {
      using C = compute_t<O>;
      constexpr int per = Unit<C>::per;
      O* po = out.data<O>();
      if constexpr (!Truncated) {
        fill_blocks<per>(po, out.numel(), d, [&](const uint32_t* w, O* dst) {
          C z[per];
          normals<C>(w, z);
          for (int j = 0; j < per; ++j) dst[j] = convert<O>(mean + sd * double(z[j]));
        });
      } else {  // element i redraws from its own counters (i, round) until |z| < 2
        parallel_for(out.numel(), 1024, [&](int64_t i0, int64_t i1) {
          uint32_t w[4];
          C z[per];
          for (int64_t i = i0; i < i1; ++i) {
            C v = 0;  // 4096 rounds of rejections (p < 1e-5000) never happen
            for (uint32_t r = 0, found = 0; r < 4096 && !found; ++r) {
              d.words(static_cast<uint64_t>(i), r, w);
              for (int j = 0; j < per && !found; ++j) {
                if (j % 2 == 0) normal_pair<C>(w, j, z);  // pairs on demand: most first draws are kept
                if (std::abs(z[j]) < C(2)) { v = z[j]; found = 1; }
              }
            }
            po[i] = convert<O>(mean + sd * double(v));
          }
        });
      }
    }
  });
  return out;
}

Tensor binomial_forward(KernelCtx& ctx) {
  Tensor out = alloc_random(ctx);
  Draw d = draw_of(ctx);
  double p = ctx.attrs().f("p");
  dispatch(out.dtype(), [&](auto tag) {
    using O = decltype(tag);
    using C = compute_t<O>;  // the uniform draw is in the output dtype (float32 for non-floats)
    fill_blocks<Unit<C>::per>(out.data<O>(), out.numel(), d, [&](const uint32_t* w, O* dst) {
      for (int j = 0; j < Unit<C>::per; ++j) dst[j] = convert<O>(double(Unit<C>::get(w, j)) <= p ? 1 : 0);
    });
  });
  return out;
}

// ---- building: shape -> inputs + attrs; numbers -> attrs; tensor parameters -> a standard draw
// transformed by graph ops (so gradients reach them, as in TF).

struct RandomArgs {
  Attrs attrs;
  std::vector<Expr> shape_inputs;
  DType dtype;
  bool symbolic = false;  // some parameter is a tensor
};

// a = (shape, params..., dtype, seed); `standard` are the params of the standard draw.
RandomArgs parse_random(const OpDef& op, std::vector<Value>& a, const std::vector<const char*>& params,
                        const std::vector<double>& standard) {
  RandomArgs r;
  size_t k = params.size();
  ShapeArg s = parse_shape_arg(op.name, "shape", a[0]);
  set_shape_attrs(r.attrs, s);
  r.shape_inputs = s.tensors;
  r.dtype = static_cast<DType>(a[k + 1].i);
  r.attrs.set("dtype", a[k + 1]);
  r.attrs.set("seed", Value(seed_of(a[k + 2])));
  for (size_t j = 0; j < k; ++j) {
    if (a[1 + j].kind != Value::Float && a[1 + j].kind != Value::Tensor)
      fail_type(op.name, "'" + std::string(params[j]) + "' must be a number or a scalar tensor, got " + a[1 + j].repr());
    r.symbolic |= a[1 + j].kind == Value::Tensor;
  }
  for (size_t j = 0; j < k; ++j) r.attrs.set(params[j], Value(r.symbolic ? standard[j] : a[1 + j].f));
  return r;
}

// A parameter as a tensor of dtype dt.
Expr param(const Value& v, DType dt) {
  if (v.kind != Value::Tensor) return constant(Tensor::scalar(v.f, dt));
  Expr t(v.t);
  return t.dtype() == dt ? t : cast(t, dt);
}

TypeInfo float_random_infer(const std::string& op, const std::vector<TypeInfo>& in, const Attrs& a) {
  DType dt = a.dtype("dtype");
  if (!is_floating(dt)) fail_type(op, std::string("dtype must be a float type, got ") + dtype_name(dt));
  return shape_arg_static(a, in, 0, dt);
}

// ---- arange

// numpy's length rule: empty when step points away from stop.
int64_t arange_int(double v) {
  if (!(std::abs(v) < 9.2e18)) fail_value("arange", "bound " + Value(v).repr() + " is out of the int64 range");
  return std::llround(v);
}

int64_t arange_length(double start, double stop, double step, bool integral) {
  if (step == 0) fail_value("arange", "step must not be zero");
  if (integral) {  // in unsigned words: b - a may exceed int64 (arange(-2**62, 2**62))
    int64_t a = arange_int(start), b = arange_int(stop), s = arange_int(step);
    if (s > 0 ? b <= a : a <= b) return 0;
    uint64_t diff = s > 0 ? uint64_t(b) - uint64_t(a) : uint64_t(a) - uint64_t(b);
    uint64_t n = (diff - 1) / (s > 0 ? uint64_t(s) : uint64_t(0) - uint64_t(s)) + 1;
    if (n > uint64_t(INT64_MAX)) fail_value("arange", "the range has more than 2**63-1 elements");
    return static_cast<int64_t>(n);
  }
  double delta = stop - start, q = delta / step;
  if (q == 0 && delta != 0) return std::signbit(q) ? 0 : 1;  // numpy: a step beyond stop still gives start
  double n = std::ceil(q);
  if (std::isnan(n) || n > 4e18) fail_value("arange", "cannot make a range from start, stop and step that are not finite");
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

// Keras/TF: the range has the dtype of its arguments (int32 for Python ints, float32 if a float
// is among them) and is cast only when dtype != 'int32' (tensorflow_backend.arange, 2.3.1).
Expr build_arange(const OpDef& op, std::vector<Value>& a) {
  Value start = a[0], stop = a[1], step = a[2];
  if (stop.is_none()) {
    stop = start;
    start = Value(int64_t(0));
  }
  bool any_tensor = false, any_float = false;
  DType nat = DType::int32;
  for (Value* v : {&start, &stop, &step}) {
    if (v->kind == Value::Float) any_float = true;
    else if (v->kind == Value::Tensor) {
      Expr t(v->t);
      if (!t.rank_known() || t.ndim() != 0) fail_value("arange", "tensor arguments must be scalars, got shape " + shape_str(t.shape()));
      if (t.dtype() == DType::bool_) fail_type("arange", "tensor arguments must be numeric, got bool");
      nat = any_tensor ? promote_types(nat, t.dtype()) : t.dtype();
      any_tensor = true;
    } else if (v->kind != Value::Int && v->kind != Value::Bool) {
      fail_type("arange", "start, stop and step must be numbers or scalar tensors, got " + v->repr());
    }
  }
  if (!any_tensor) nat = any_float ? DType::float32 : DType::int32;
  else if (any_float && !is_floating(nat)) nat = DType::float32;
  DType out = static_cast<DType>(a[3].i);
  Attrs at;
  at.set("natural", dtype_value(nat));
  at.set("dtype", dtype_value(out == DType::int32 ? nat : out));
  std::vector<Expr> ins;
  const Value* vals[3] = {&start, &stop, &step};
  const char* names[3] = {"start", "stop", "step"};
  for (int k = 0; k < 3; ++k) {
    const Value& v = *vals[k];
    if (any_tensor) ins.push_back(v.kind == Value::Tensor ? Expr(v.t) : constant(Tensor::scalar(v.as_double(), nat)));
    else at.set(names[k], Value(v.as_double()));
  }
  return make_node(op, ins, at);
}

Tensor arange_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  bool fed = !ctx.in.empty();
  double s0 = fed ? ctx.in[0].item() : a.f("start"), s1 = fed ? ctx.in[1].item() : a.f("stop");
  double st = fed ? ctx.in[2].item() : a.f("step");
  DType nat = a.dtype("natural");
  bool integral = !is_floating(nat);
  int64_t n = arange_length(s0, s1, st, integral);
  Tensor out = ctx.alloc_tensor({n}, a.dtype("dtype"));
  dispatch(out.dtype(), [&](auto tag) {
    using O = decltype(tag);
    O* p = out.data<O>();
    parallel_for(n, 32768, [&](int64_t i0, int64_t i1) {
      // Element 0 is start itself: 0 * step would be NaN for a step that is (or rounds to) inf.
      if (integral) {
        int64_t b = std::llround(s0), d = std::llround(st);
        for (int64_t i = i0; i < i1; ++i) p[i] = convert<O>(b + i * d);
      } else if (nat == DType::float64) {
        for (int64_t i = i0; i < i1; ++i) p[i] = convert<O>(i ? s0 + double(i) * st : s0);
      } else {  // float32 / float16 ranges are computed in float32, like TF's range kernel
        float b = float(s0), d = float(st);
        for (int64_t i = i0; i < i1; ++i) p[i] = convert<O>(i ? b + float(i) * d : b);
      }
    });
  });
  return out;
}

// ---- dropout: x * mask, mask a random op (kept entries 1/(1-level), dropped 0), so the gradient
// is the mask times the incoming gradient for free.

Shape noise_check(const Shape& noise, const Shape& x) {
  bool ok = noise.size() <= x.size();
  for (size_t i = 0; ok && i < noise.size(); ++i) {
    int64_t dn = noise[noise.size() - 1 - i], dx = x[x.size() - 1 - i];
    ok = dn == 1 || dn == dx || dn < 0 || dx < 0;
  }
  if (!ok) fail_value("dropout", "noise_shape " + shape_str(noise) + " does not broadcast to the shape of x " + shape_str(x));
  return noise;
}

Tensor dropout_mask_forward(KernelCtx& ctx) {
  const Attrs& a = ctx.attrs();
  const Shape& xs = ctx.in[0].shape();
  Shape s = a.has("shape") ? noise_check(shape_arg_value("dropout", a, ctx.in, 1), xs) : xs;
  Tensor out = ctx.alloc_tensor(s, ctx.in[0].dtype());
  Draw d = draw_of(ctx);
  double level = a.f("level"), scale = 1.0 / (1.0 - level);
  dispatch(out.dtype(), [&](auto tag) {
    using O = decltype(tag);
    if constexpr (is_float_v<O>) {
      using C = compute_t<O>;
      O keep = convert<O>(scale), drop = convert<O>(0.0);
      fill_blocks<Unit<C>::per>(out.data<O>(), out.numel(), d, [&](const uint32_t* w, O* dst) {
        for (int j = 0; j < Unit<C>::per; ++j) dst[j] = double(Unit<C>::get(w, j)) >= level ? keep : drop;
      });
    }
  });
  return out;
}

Expr build_dropout(const OpDef&, std::vector<Value>& a) {
  Expr x(a[0].t);
  double level = a[1].f;
  if (!(level >= 0 && level < 1)) fail_value("dropout", "level must be in [0, 1), got " + a[1].repr());
  if (!is_floating(x.dtype())) fail_type("dropout", std::string("x must be a float tensor, got ") + dtype_name(x.dtype()));
  Attrs at;
  at.set("level", Value(level));
  at.set("seed", Value(seed_of(a[3])));
  std::vector<Expr> ins{x};
  if (!a[2].is_none()) {
    ShapeArg s = parse_shape_arg("dropout", "noise_shape", a[2]);
    set_shape_attrs(at, s);
    ins.insert(ins.end(), s.tensors.begin(), s.tensors.end());
  }
  return x * make_node(kDropoutMask, ins, at);
}

TypeInfo arange_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  DType dt = a.dtype("dtype");
  if (!in.empty()) return TypeInfo{{kUnknownDim}, dt, true};
  return TypeInfo{{arange_length(a.f("start"), a.f("stop"), a.f("step"), !is_floating(a.dtype("natural")))}, dt, true};
}

TypeInfo below_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  if (!is_floating(in[0].dtype)) fail_type("_below", std::string("expected a float tensor, got ") + dtype_name(in[0].dtype));
  return in[0];
}

Expr uniform_build(const OpDef& op, std::vector<Value>& a) {
  RandomArgs r = parse_random(op, a, {"minval", "maxval"}, {0.0, 1.0});
  if (r.symbolic && !is_floating(r.dtype)) fail_type("random_uniform", "tensor bounds need a float dtype");
  Expr x = make_node(op, r.shape_inputs, r.attrs);
  if (!r.symbolic) return x;
  Expr lo = param(a[1], r.dtype), hi = param(a[2], r.dtype);
  // lo + (hi - lo) * u can round onto hi (often in float16): clamp to the value below hi, as the
  // kernel does for number bounds; reversed bounds are scaled as they are (TF does not check).
  Expr y = lo + (hi - lo) * x;
  return switch_(greater(hi, lo), minimum(y, make_node(kBelow, {hi})), y);
}

TypeInfo uniform_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  DType dt = a.dtype("dtype");
  double lo = a.f("minval"), hi = a.f("maxval");
  if (dt == DType::bool_) fail_type("random_uniform", "dtype bool is not supported (use random_binomial)");
  if (is_integer(dt) && !(hi > lo && lo == std::floor(lo) && hi == std::floor(hi)))
    fail_value("random_uniform", "integer dtypes need integral bounds with minval < maxval, got minval=" +
                                     Value(lo).repr() + ", maxval=" + Value(hi).repr());
  return shape_arg_static(a, in, 0, dt);
}

Expr normal_build(const OpDef& op, std::vector<Value>& a) {
  RandomArgs r = parse_random(op, a, {"mean", "stddev"}, {0.0, 1.0});
  Expr z = make_node(op, r.shape_inputs, r.attrs);
  return r.symbolic ? param(a[1], r.dtype) + param(a[2], r.dtype) * z : z;
}

template <bool Trunc>
TypeInfo normal_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  return float_random_infer(Trunc ? "truncated_normal" : "random_normal", in, a);
}

Expr binomial_build(const OpDef& op, std::vector<Value>& a) {
  RandomArgs r = parse_random(op, a, {"p"}, {0.0});
  if (!r.symbolic) return make_node(op, r.shape_inputs, r.attrs);
  DType ut = r.dtype == DType::float64 ? DType::float64 : DType::float32;
  r.attrs.set("dtype", dtype_value(ut));
  r.attrs.set("minval", Value(0.0));
  r.attrs.set("maxval", Value(1.0));
  Expr x = make_node(kUniform, r.shape_inputs, r.attrs);
  return cast(less_equal(x, param(a[1], ut)), r.dtype);
}

TypeInfo binomial_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  return shape_arg_static(a, in, 0, a.dtype("dtype"));
}

TypeInfo dropout_mask_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  if (!a.has("shape")) return in[0];
  TypeInfo t = shape_arg_static(a, in, 1, in[0].dtype);
  if (t.rank_known && in[0].rank_known) noise_check(t.shape, in[0].shape);
  return t;
}

// The C++ API's arguments in signature order, as the Python binding would pass them.
Value dtype_arg(std::optional<DType> dt) { return dtype_value(dt ? *dt : config::floatx()); }
Value seed_arg(std::optional<int64_t> s) { return s ? Value(*s) : Value(); }
Expr build_with(const OpRef& op, std::vector<Value> a, Expr (*build)(const OpDef&, std::vector<Value>&)) { return build(*op, a); }

}  // namespace

Expr arange(int64_t start, std::optional<int64_t> stop, int64_t step, DType dtype) {
  return build_with(kArange, {Value(start), stop ? Value(*stop) : Value(), Value(step), dtype_value(dtype)}, build_arange);
}
Expr random_uniform(const Shape& shape, double minval, double maxval, std::optional<DType> dtype, std::optional<int64_t> seed) {
  return build_with(kUniform, {Value(shape), Value(minval), Value(maxval), dtype_arg(dtype), seed_arg(seed)}, uniform_build);
}
Expr random_normal(const Shape& shape, double mean, double stddev, std::optional<DType> dtype, std::optional<int64_t> seed) {
  return build_with(kNormal, {Value(shape), Value(mean), Value(stddev), dtype_arg(dtype), seed_arg(seed)}, normal_build);
}
Expr truncated_normal(const Shape& shape, double mean, double stddev, std::optional<DType> dtype, std::optional<int64_t> seed) {
  return build_with(kTruncNormal, {Value(shape), Value(mean), Value(stddev), dtype_arg(dtype), seed_arg(seed)}, normal_build);
}
Expr random_binomial(const Shape& shape, double p, std::optional<DType> dtype, std::optional<int64_t> seed) {
  return build_with(kBinomial, {Value(shape), Value(p), dtype_arg(dtype), seed_arg(seed)}, binomial_build);
}
Expr random_uniform_variable(const Shape& shape, double low, double high, std::optional<DType> dtype,
                             const std::string& name, std::optional<int64_t> seed) {
  return variable(eval(random_uniform(shape, low, high, dtype, seed)), name);
}
Expr random_normal_variable(const Shape& shape, double mean, double scale, std::optional<DType> dtype,
                            const std::string& name, std::optional<int64_t> seed) {
  return variable(eval(random_normal(shape, mean, scale, dtype, seed)), name);
}
Expr dropout(const Expr& x, double level, std::optional<Shape> noise_shape, std::optional<int64_t> seed) {
  return build_with(kDropout, {x, Value(level), noise_shape ? Value(*noise_shape) : Value(), seed_arg(seed)}, build_dropout);
}

void register_random() {
  register_op(kArange, Op("arange(start: number, stop: number? = None, step: number = 1, dtype: dtype = 'int32')",
                          "1-D range [start, stop) by step; one argument = stop (negative: empty). start/stop/step may be "
                          "scalar tensors. Keras/TF: the range takes its arguments' dtype and is cast only if dtype != 'int32'.")
                           .build(build_arange).infer(arange_infer).forward(arange_forward).flags(kNonDiff | kDynamicShape));
  register_op(kBelow, Op("_below(x: tensor)", "The largest value of x's float dtype below each element (-inf and NaN stay).")
                          .infer(below_infer).forward(below_forward).flags(kNonDiff));
  register_op(kUniform, Op("random_uniform(shape: shape, minval: scalar = 0.0, maxval: scalar = 1.0, dtype: dtype = None, seed: int? = None)",
                           "Uniform samples in [minval, maxval); fresh ones on every evaluation. Integer dtypes draw ints in "
                           "[minval, maxval). Bounds may be scalar tensors.")
                            .build(uniform_build).infer(uniform_infer).forward(uniform_forward).flags(kRandom | kNonDiff | kDynamicShape));
  register_op(kNormal, Op("random_normal(shape: shape, mean: scalar = 0.0, stddev: scalar = 1.0, dtype: dtype = None, seed: int? = None)",
                          "Normal samples N(mean, stddev^2); fresh ones on every evaluation. mean/stddev may be scalar tensors.")
                           .build(normal_build).infer(normal_infer<false>).forward(normal_forward<false>)
                           .flags(kRandom | kNonDiff | kDynamicShape));
  register_op(kTruncNormal, Op("truncated_normal(shape: shape, mean: scalar = 0.0, stddev: scalar = 1.0, dtype: dtype = None, seed: int? = None)",
                               "Normal samples with draws farther than 2 stddev from the mean re-drawn (std of the result is "
                               "0.87962566 * stddev); fresh ones on every evaluation.")
                                .build(normal_build).infer(normal_infer<true>).forward(normal_forward<true>)
                                .flags(kRandom | kNonDiff | kDynamicShape));
  register_op(kBinomial, Op("random_binomial(shape: shape, p: scalar = 0.0, dtype: dtype = None, seed: int? = None)",
                            "1 where a uniform draw (in dtype) is <= p, else 0, in dtype; fresh draws on every evaluation.")
                             .build(binomial_build).infer(binomial_infer).forward(binomial_forward).flags(kRandom | kNonDiff | kDynamicShape));
  register_op(kDropout, Op("dropout(x: tensor, level: float, noise_shape: shape = None, seed: int? = None)",
                           "Zero entries with probability level and scale the rest by 1/(1-level); always applies (no "
                           "learning-phase check). noise_shape (may mix ints and scalar tensors) broadcasts to x.")
                            .build(build_dropout));
  register_op(kDropoutMask, Op("_dropout_mask(x: tensor, level: float, seed: int)",
                               "dropout's random mask: 1/(1-level) where kept, 0 where dropped; shaped like x or noise_shape.")
                                .infer(dropout_mask_infer).forward(dropout_mask_forward).flags(kRandom | kNonDiff | kDynamicShape));
}

}  // namespace keras_cpp
