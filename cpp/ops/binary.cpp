// cpp/ops/binary.cpp — elementwise functions of two tensors with numpy broadcasting:
// arithmetic, maximum/minimum, pow, comparisons (bool results) and logical ops (`where` is in
// shape_ops.cpp).
// Mixed dtypes are promoted numpy-style; gradients are reduced back with sum_to.
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

struct AddF { template <class A, class B> static auto eval(const A& a, const B& b) { return a + b; } };
struct SubF { template <class A, class B> static auto eval(const A& a, const B& b) { return a - b; } };
struct MulF { template <class A, class B> static auto eval(const A& a, const B& b) { return a * b; } };
struct DivF { template <class A, class B> static auto eval(const A& a, const B& b) { return a / b; } };
struct MaxF { template <class A, class B> static auto eval(const A& a, const B& b) { return a.max(b); } };
struct MinF { template <class A, class B> static auto eval(const A& a, const B& b) { return a.min(b); } };
struct PowF { template <class A, class B> static auto eval(const A& a, const B& b) { return a.pow(b); } };
struct FloorDivF {
  template <class A, class B> static auto eval(const A& a, const B& b) {
    using T = typename A::Scalar;
    if constexpr (std::is_floating_point_v<T>) return (a / b).floor();
    else return a.binaryExpr(b, [](T x, T y) -> T {
      // y == -1 is negation (wrapping): INT_MIN / -1 would trap with SIGFPE.
      if constexpr (std::is_signed_v<T>) if (y == T(-1)) return T(std::make_unsigned_t<T>(0) - std::make_unsigned_t<T>(x));
      T q = y ? x / y : 0;
      return (y && (x % y != 0) && ((x < 0) != (y < 0))) ? q - 1 : q;
    });
  }
};
struct ModF {
  template <class A, class B> static auto eval(const A& a, const B& b) {
    using T = typename A::Scalar;
    return a.binaryExpr(b, [](T x, T y) -> T {
      if constexpr (std::is_floating_point_v<T>) { T r = std::fmod(x, y); return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
      else {
        if (!y) return 0;
        if constexpr (std::is_signed_v<T>) if (y == T(-1)) return 0;  // INT_MIN % -1 traps
        T r = x % y; return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
    });
  }
};
struct EqF { template <class A, class B> static auto eval(const A& a, const B& b) { return a == b; } };
struct NeF { template <class A, class B> static auto eval(const A& a, const B& b) { return a != b; } };
struct GtF { template <class A, class B> static auto eval(const A& a, const B& b) { return a > b; } };
struct GeF { template <class A, class B> static auto eval(const A& a, const B& b) { return a >= b; } };
struct LtF { template <class A, class B> static auto eval(const A& a, const B& b) { return a < b; } };
struct LeF { template <class A, class B> static auto eval(const A& a, const B& b) { return a <= b; } };
struct AndF { template <class A, class B> static auto eval(const A& a, const B& b) { return a && b; } };
struct OrF { template <class A, class B> static auto eval(const A& a, const B& b) { return a || b; } };

enum class Kind { Arith, TrueDiv, Compare, Logical, FloatOnly };

DType compute_dtype(DType a, DType b, Kind k) {
  if (k == Kind::Logical) return DType::bool_;
  DType t = promote_types(a, b);
  if ((k == Kind::TrueDiv || k == Kind::FloatOnly) && !is_floating(t)) return t == DType::bool_ || dtype_size(t) < 4 ? config::floatx() : DType::float64;
  if (k == Kind::Arith && t == DType::bool_) return DType::int32;  // numpy would keep bool for +; Keras never relies on it
  return t;
}

template <class Fn, Kind K>
Tensor binary_forward(KernelCtx& ctx) {
  DType ct = compute_dtype(ctx.in[0].dtype(), ctx.in[1].dtype(), K);
  for (int i = 0; i < 2; ++i)
    if (ctx.in[i].dtype() != ct) ctx.in[i] = ctx.in[i].astype(ct);
  Shape shape = broadcast_shapes(ctx.in[0].shape(), ctx.in[1].shape(), ctx.node.op->name.c_str());
  const bool cmp = K == Kind::Compare;
  DType od = cmp ? DType::bool_ : ct;
  if constexpr (K != Kind::Logical) {
    if (ct == DType::float16) {  // compute in float32
      Tensor a = ctx.in[0].astype(DType::float32), b = ctx.in[1].astype(DType::float32);
      Tensor o = Tensor::empty(shape, cmp ? DType::bool_ : DType::float32);
      if constexpr (K == Kind::Compare) binary_loop<Fn, float, bool>(a, b, o);
      else binary_loop<Fn, float, float>(a, b, o);
      return cmp ? o : o.astype(DType::float16);
    }
  }
  Tensor out = (!cmp && ctx.in[0].shape() == shape) ? ctx.alloc_like_input(0, shape, od)
             : (!cmp && ctx.in[1].shape() == shape) ? ctx.alloc_like_input(1, shape, od)
                                                    : ctx.alloc_tensor(shape, od);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    if constexpr (K == Kind::Compare) binary_loop<Fn, T, bool>(ctx.in[0], ctx.in[1], out);
    else binary_loop<Fn, T, T>(ctx.in[0], ctx.in[1], out);
  };
  if constexpr (K == Kind::Logical) {
    run(bool{});
  } else {
    switch (ct) {
      case DType::float32: run(float{}); break;
      case DType::float64: run(double{}); break;
      default:
        if constexpr (K == Kind::TrueDiv || K == Kind::FloatOnly) {
          fail_type(ctx.node.op->name, "needs float inputs");
        } else {
          switch (ct) {
            case DType::int8: run(int8_t{}); break;
            case DType::int16: run(int16_t{}); break;
            case DType::int32: run(int32_t{}); break;
            case DType::int64: run(int64_t{}); break;
            case DType::uint8: run(uint8_t{}); break;
            default:
              if constexpr (K == Kind::Compare) run(bool{});
              else fail_type(ctx.node.op->name, std::string("unsupported dtype ") + dtype_name(ct));
          }
        }
    }
  }
  return out;
}

using GradFn = std::function<std::vector<Expr>(const Expr&, const Expr&)>;

template <class Fn, Kind K>
OpDef binary_op(const char* sig, const char* doc, GradFn grad) {
  OpDef d;
  d.signature = sig;
  d.doc = doc;
  std::string name = std::string(sig).substr(0, std::string(sig).find('('));
  d.infer = [name](const std::vector<TypeInfo>& in, const Attrs&) {
    Shape s = broadcast_shapes(in[0].shape, in[1].shape, name.c_str());
    DType ct = compute_dtype(in[0].dtype, in[1].dtype, K);
    return TypeInfo{s, K == Kind::Compare || K == Kind::Logical ? DType::bool_ : ct, in[0].rank_known && in[1].rank_known};
  };
  d.forward = binary_forward<Fn, K>;
  if (grad) {
    // Reduce each input's gradient back to that input's shape.
    d.grad = [grad](const Expr& y, const Expr& g) {
      std::vector<Expr> gs = grad(y, g);
      for (int i = 0; i < 2; ++i)
        if (gs[i]) gs[i] = sum_to(gs[i], Expr(y->inputs[i]));
      return gs;
    };
  }
  d.flags = kElementwise | (grad ? 0u : kNonDiff);
  return d;
}

using G = std::vector<Expr>;
Expr A(const Expr& y) { return Expr(y->inputs[0]); }
Expr B(const Expr& y) { return Expr(y->inputs[1]); }
Expr as(const Expr& mask, const Expr& like) { return cast(mask, like.dtype()); }

}  // namespace

Expr add(const Expr& a, const Expr& b) { return call("add", {a, b}); }
Expr subtract(const Expr& a, const Expr& b) { return call("subtract", {a, b}); }
Expr multiply(const Expr& a, const Expr& b) { return call("multiply", {a, b}); }
Expr divide(const Expr& a, const Expr& b) { return call("divide", {a, b}); }
Expr floordiv(const Expr& a, const Expr& b) { return call("floordiv", {a, b}); }
Expr mod(const Expr& a, const Expr& b) { return call("mod", {a, b}); }
Expr pow(const Expr& x, const Expr& a) { return call("pow", {x, a}); }
Expr pow(const Expr& x, double a) { return call("pow", {x, Value(a)}); }
Expr maximum(const Expr& a, const Expr& b) { return call("maximum", {a, b}); }
Expr minimum(const Expr& a, const Expr& b) { return call("minimum", {a, b}); }
Expr equal(const Expr& a, const Expr& b) { return call("equal", {a, b}); }
Expr not_equal(const Expr& a, const Expr& b) { return call("not_equal", {a, b}); }
Expr greater(const Expr& a, const Expr& b) { return call("greater", {a, b}); }
Expr greater_equal(const Expr& a, const Expr& b) { return call("greater_equal", {a, b}); }
Expr less(const Expr& a, const Expr& b) { return call("less", {a, b}); }
Expr less_equal(const Expr& a, const Expr& b) { return call("less_equal", {a, b}); }
Expr logical_and(const Expr& a, const Expr& b) { return call("logical_and", {a, b}); }
Expr logical_or(const Expr& a, const Expr& b) { return call("logical_or", {a, b}); }

Expr operator+(const Expr& a, const Expr& b) { return add(a, b); }
Expr operator-(const Expr& a, const Expr& b) { return subtract(a, b); }
Expr operator*(const Expr& a, const Expr& b) { return multiply(a, b); }
Expr operator/(const Expr& a, const Expr& b) { return divide(a, b); }
Expr operator-(const Expr& a) { return negative(a); }
Expr operator+(const Expr& a, double b) { return call("add", {a, Value(b)}); }
Expr operator-(const Expr& a, double b) { return call("subtract", {a, Value(b)}); }
Expr operator*(const Expr& a, double b) { return call("multiply", {a, Value(b)}); }
Expr operator/(const Expr& a, double b) { return call("divide", {a, Value(b)}); }
Expr operator+(double a, const Expr& b) { return call("add", {Value(a), b}); }
Expr operator-(double a, const Expr& b) { return call("subtract", {Value(a), b}); }
Expr operator*(double a, const Expr& b) { return call("multiply", {Value(a), b}); }
Expr operator/(double a, const Expr& b) { return call("divide", {Value(a), b}); }

void register_binary() {
  register_op(binary_op<AddF, Kind::Arith>("add(x: tensor, y: tensor)", "x + y with broadcasting.",
      [](const Expr&, const Expr& g) { return G{g, g}; }));
  register_op(binary_op<SubF, Kind::Arith>("subtract(x: tensor, y: tensor)", "x - y with broadcasting.",
      [](const Expr&, const Expr& g) { return G{g, -g}; }));
  register_op(binary_op<MulF, Kind::Arith>("multiply(x: tensor, y: tensor)", "x * y with broadcasting.",
      [](const Expr& y, const Expr& g) { return G{g * B(y), g * A(y)}; }));
  register_op(binary_op<DivF, Kind::TrueDiv>("divide(x: tensor, y: tensor)", "x / y (true division).",
      [](const Expr& y, const Expr& g) { return G{g / B(y), -(g * y / B(y))}; }));
  register_op(binary_op<FloorDivF, Kind::Arith>("floordiv(x: tensor, y: tensor)", "x // y (floor division).", nullptr));
  register_op(binary_op<ModF, Kind::Arith>("mod(x: tensor, y: tensor)", "x % y with the sign of y (Python's rule).", nullptr));
  register_op(binary_op<PowF, Kind::FloatOnly>("pow(x: tensor, a: tensor)", "x ** a elementwise; a may be a number or a tensor.",
      [](const Expr& y, const Expr& g) {
        Expr x = A(y), a = B(y);
        Expr ga;
        if (a->kind != NodeKind::constant) {  // exponent gradient only when it can vary
          Expr safe = where(greater(x, scalar_like(0, x)), x, ones_like(x, x.dtype()));
          ga = g * y * log(safe);
        }
        return G{g * a * pow(x, a - 1.0), ga};
      }));
  register_op(binary_op<MaxF, Kind::Arith>("maximum(x: tensor, y: tensor)", "Elementwise maximum with broadcasting.",
      [](const Expr& y, const Expr& g) {
        Expr m = greater_equal(A(y), B(y));
        return G{g * as(m, g), g * as(logical_not(m), g)};
      }));
  register_op(binary_op<MinF, Kind::Arith>("minimum(x: tensor, y: tensor)", "Elementwise minimum with broadcasting.",
      [](const Expr& y, const Expr& g) {
        Expr m = less_equal(A(y), B(y));
        return G{g * as(m, g), g * as(logical_not(m), g)};
      }));
  register_op(binary_op<EqF, Kind::Compare>("equal(x: tensor, y: tensor)", "x == y elementwise (bool).", nullptr));
  register_op(binary_op<NeF, Kind::Compare>("not_equal(x: tensor, y: tensor)", "x != y elementwise (bool).", nullptr));
  register_op(binary_op<GtF, Kind::Compare>("greater(x: tensor, y: tensor)", "x > y elementwise (bool).", nullptr));
  register_op(binary_op<GeF, Kind::Compare>("greater_equal(x: tensor, y: tensor)", "x >= y elementwise (bool).", nullptr));
  register_op(binary_op<LtF, Kind::Compare>("less(x: tensor, y: tensor)", "x < y elementwise (bool).", nullptr));
  register_op(binary_op<LeF, Kind::Compare>("less_equal(x: tensor, y: tensor)", "x <= y elementwise (bool).", nullptr));
  register_op(binary_op<AndF, Kind::Logical>("logical_and(x: tensor, y: tensor)", "Elementwise logical and.", nullptr));
  register_op(binary_op<OrF, Kind::Logical>("logical_or(x: tensor, y: tensor)", "Elementwise logical or.", nullptr));
}

}  // namespace keras_cpp
