// cpp/ops/unary.cpp — elementwise functions of one tensor (Keras "elementwise math" and the
// simple activations). Each op: signature, Eigen functor, gradient. Activations with options
// (relu's alpha/max_value/threshold, elu) are composites in nn.cpp.
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

struct AbsF { template <class A> static auto eval(const A& a) { return a.abs(); } };
struct NegF { template <class A> static auto eval(const A& a) { return -a; } };
struct SquareF { template <class A> static auto eval(const A& a) { return a.square(); } };
// Keras: sqrt clamps negatives to 0 (theano and tensorflow backends, 2.3.1).
struct SqrtF { template <class A> static auto eval(const A& a) { return a.max(typename A::Scalar(0)).sqrt(); } };
struct ExpF { template <class A> static auto eval(const A& a) { return a.exp(); } };
struct LogF { template <class A> static auto eval(const A& a) { return a.log(); } };
struct SinF { template <class A> static auto eval(const A& a) { return a.sin(); } };
struct CosF { template <class A> static auto eval(const A& a) { return a.cos(); } };
struct TanhF { template <class A> static auto eval(const A& a) { return a.tanh(); } };
struct SigmoidF { template <class A> static auto eval(const A& a) { return a.logistic(); } };
struct SignF { template <class A> static auto eval(const A& a) { return a.sign(); } };
struct RoundF { template <class A> static auto eval(const A& a) { return a.rint(); } };  // half to even
// softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
struct SoftplusF {
  template <class A> static auto eval(const A& a) {
    using T = typename A::Scalar;
    return a.max(T(0)) + (-a.abs()).exp().log1p();
  }
};
struct SoftsignF { template <class A> static auto eval(const A& a) { return a / (a.abs() + typename A::Scalar(1)); } };
struct ReluF { template <class A> static auto eval(const A& a) { return a.max(typename A::Scalar(0)); } };
struct NotF { template <class A> static auto eval(const A& a) { return !a; } };

using G = std::vector<Expr>;
Expr X(const Expr& out) { return Expr(out->inputs[0]); }

}  // namespace

Expr abs(const Expr& x) { return call("abs", {x}); }
Expr negative(const Expr& x) { return call("negative", {x}); }
Expr square(const Expr& x) { return call("square", {x}); }
Expr sqrt(const Expr& x) { return call("sqrt", {x}); }
Expr exp(const Expr& x) { return call("exp", {x}); }
Expr log(const Expr& x) { return call("log", {x}); }
Expr sin(const Expr& x) { return call("sin", {x}); }
Expr cos(const Expr& x) { return call("cos", {x}); }
Expr tanh(const Expr& x) { return call("tanh", {x}); }
Expr sigmoid(const Expr& x) { return call("sigmoid", {x}); }
Expr sign(const Expr& x) { return call("sign", {x}); }
Expr round(const Expr& x) { return call("round", {x}); }
Expr softplus(const Expr& x) { return call("softplus", {x}); }
Expr softsign(const Expr& x) { return call("softsign", {x}); }
Expr logical_not(const Expr& x) { return call("logical_not", {x}); }

void register_unary() {
  register_op(unary_op<AbsF, Domain::Numeric>("abs(x: tensor)", "Elementwise absolute value.",
      [](const Expr& y, const Expr& g) { return G{g * sign(X(y))}; }));
  register_op(unary_op<NegF, Domain::Numeric>("negative(x: tensor)", "Elementwise -x.",
      [](const Expr&, const Expr& g) { return G{-g}; }));
  register_op(unary_op<SquareF, Domain::Numeric>("square(x: tensor)", "Elementwise x**2.",
      [](const Expr& y, const Expr& g) { return G{g * (2.0 * X(y))}; }));
  register_op(unary_op<SqrtF, Domain::Float>("sqrt(x: tensor)",
      "Elementwise square root; negative inputs are clipped to 0 first (gradient 0 there).",
      [](const Expr& y, const Expr& g) {
        return G{where(greater(y, scalar_like(0, y)), g * 0.5 / y, zeros_like(y, y.dtype()))};
      }));
  register_op(unary_op<ExpF, Domain::Float>("exp(x: tensor)", "Elementwise e**x.",
      [](const Expr& y, const Expr& g) { return G{g * y}; }));
  register_op(unary_op<LogF, Domain::Float>("log(x: tensor)", "Elementwise natural log (log(0) = -inf).",
      [](const Expr& y, const Expr& g) { return G{g / X(y)}; }));
  register_op(unary_op<SinF, Domain::Float>("sin(x: tensor)", "Elementwise sine.",
      [](const Expr& y, const Expr& g) { return G{g * cos(X(y))}; }));
  register_op(unary_op<CosF, Domain::Float>("cos(x: tensor)", "Elementwise cosine.",
      [](const Expr& y, const Expr& g) { return G{-(g * sin(X(y)))}; }));
  register_op(unary_op<TanhF, Domain::Float>("tanh(x: tensor)", "Elementwise tanh.",
      [](const Expr& y, const Expr& g) { return G{g * (1.0 - square(y))}; }));
  register_op(unary_op<SigmoidF, Domain::Float>("sigmoid(x: tensor)", "Elementwise 1 / (1 + exp(-x)).",
      [](const Expr& y, const Expr& g) { return G{g * (y * (1.0 - y))}; }));
  register_op(unary_op<SignF, Domain::Numeric>("sign(x: tensor)", "Elementwise -1, 0 or 1 (sign(0) = 0).", nullptr));
  register_op(unary_op<RoundF, Domain::Numeric>("round(x: tensor)", "Elementwise round half to even.", nullptr));
  register_op(unary_op<SoftplusF, Domain::Float>("softplus(x: tensor)", "log(1 + exp(x)), overflow-safe.",
      [](const Expr& y, const Expr& g) { return G{g * sigmoid(X(y))}; }));
  register_op(unary_op<SoftsignF, Domain::Float>("softsign(x: tensor)", "x / (1 + abs(x)).",
      [](const Expr& y, const Expr& g) { return G{g / square(1.0 + abs(X(y)))}; }));
  register_op(unary_op<ReluF, Domain::Numeric>("_relu(x: tensor)", "max(x, 0).",
      [](const Expr& y, const Expr& g) { return G{g * cast(greater(X(y), scalar_like(0, X(y))), g.dtype())}; }));
  register_op(unary_op<NotF, Domain::Bool>("logical_not(x: tensor)", "Elementwise logical not (bool result).", nullptr));
}

}  // namespace keras_cpp
