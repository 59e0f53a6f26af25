// cpp/ops/unary.cpp — elementwise functions of one tensor (Keras "elementwise math" and the
// simple activations). Each op: signature, kernel (kernels/ew.h), gradient. Activations with
// options (relu's alpha/max_value/threshold) are composites in nn.cpp, elu in activations.cpp.
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

Tensor unary_forward(KernelCtx& ctx, ew::UnaryOp op, Domain d) {
  DType od = unary_out_dtype(ctx.in[0].dtype(), d);
  if (od == DType::float16) {  // computed in float32
    Tensor x = ctx.in[0].astype(DType::float32);
    Tensor o = Tensor::empty(x.shape(), DType::float32);
    unary_apply(op, x, o);
    return o.astype(DType::float16);
  }
  if (ctx.in[0].dtype() != od) ctx.in[0] = ctx.in[0].astype(od);
  const Tensor& x = ctx.in[0];
  if (!ew::unary(op, od)) fail_type(ctx.node.op->name, std::string("unsupported dtype ") + dtype_name(od));
  Tensor out = ctx.alloc_like_input(0, x.shape(), od);
  unary_apply(op, x, out);
  return out;
}

using G = std::vector<Expr>;
Expr X(const Expr& out) { return Expr(out->inputs[0]); }

}  // namespace

OpDef unary_op(ew::UnaryOp op, Domain dom, const char* sig, const char* doc,
               std::function<std::vector<Expr>(const Expr&, const Expr&)> grad, uint32_t flags) {
  OpDef d;
  d.signature = sig;
  d.doc = doc;
  std::string name = std::string(sig).substr(0, std::string(sig).find('('));
  d.infer = [name, dom](const std::vector<TypeInfo>& in, const Attrs&) {
    check_domain(name, in[0].dtype, dom);
    return TypeInfo{in[0].shape, unary_out_dtype(in[0].dtype, dom), in[0].rank_known};
  };
  d.forward = [op, dom](KernelCtx& ctx) { return unary_forward(ctx, op, dom); };
  d.grad = std::move(grad);
  d.flags = flags | kElementwise | (d.grad ? 0u : kNonDiff);
  d.ew = {OpDef::EwForm::unary, static_cast<uint8_t>(op)};
  return d;
}

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
  register_op(unary_op(ew::UnaryOp::abs, Domain::Numeric, "abs(x: tensor)", "Elementwise absolute value.",
      [](const Expr& y, const Expr& g) { return G{g * sign(X(y))}; }));
  register_op(unary_op(ew::UnaryOp::negative, Domain::Numeric, "negative(x: tensor)", "Elementwise -x.",
      [](const Expr&, const Expr& g) { return G{-g}; }));
  register_op(unary_op(ew::UnaryOp::square, Domain::Numeric, "square(x: tensor)", "Elementwise x**2.",
      [](const Expr& y, const Expr& g) { return G{g * (2.0 * X(y))}; }));
  register_op(unary_op(ew::UnaryOp::sqrt, Domain::Float, "sqrt(x: tensor)",
      "Elementwise square root; negative inputs are clipped to 0 first (gradient 0 there).",
      [](const Expr& y, const Expr& g) {
        return G{where(greater(y, scalar_like(0, y)), g * 0.5 / y, zeros_like(y, y.dtype()))};
      }));
  register_op(unary_op(ew::UnaryOp::exp, Domain::Float, "exp(x: tensor)", "Elementwise e**x.",
      [](const Expr& y, const Expr& g) { return G{g * y}; }));
  register_op(unary_op(ew::UnaryOp::expm1, Domain::Float, "_expm1(x: tensor)", "Elementwise exp(x) - 1, accurate near 0.",
      [](const Expr& y, const Expr& g) { return G{g * exp(X(y))}; }));  // not y + 1: exact for x << 0
  register_op(unary_op(ew::UnaryOp::log1p, Domain::Float, "_log1p(x: tensor)", "Elementwise log(1 + x), accurate near 0.",
      [](const Expr& y, const Expr& g) { return G{g / (1.0 + X(y))}; }));
  register_op(unary_op(ew::UnaryOp::log, Domain::Float, "log(x: tensor)", "Elementwise natural log (log(0) = -inf).",
      [](const Expr& y, const Expr& g) { return G{g / X(y)}; }));
  register_op(unary_op(ew::UnaryOp::sin, Domain::Float, "sin(x: tensor)", "Elementwise sine.",
      [](const Expr& y, const Expr& g) { return G{g * cos(X(y))}; }));
  register_op(unary_op(ew::UnaryOp::cos, Domain::Float, "cos(x: tensor)", "Elementwise cosine.",
      [](const Expr& y, const Expr& g) { return G{-(g * sin(X(y)))}; }));
  register_op(unary_op(ew::UnaryOp::tanh, Domain::Float, "tanh(x: tensor)", "Elementwise tanh.",
      [](const Expr& y, const Expr& g) { return G{g * (1.0 - square(y))}; }));
  register_op(unary_op(ew::UnaryOp::sigmoid, Domain::Float, "sigmoid(x: tensor)", "Elementwise 1 / (1 + exp(-x)).",
      [](const Expr& y, const Expr& g) { return G{g * (y * (1.0 - y))}; }));
  register_op(unary_op(ew::UnaryOp::sign, Domain::Numeric, "sign(x: tensor)", "Elementwise -1, 0 or 1 (sign(0) = 0).", nullptr));
  register_op(unary_op(ew::UnaryOp::round, Domain::Numeric, "round(x: tensor)", "Elementwise round half to even.", nullptr));
  register_op(unary_op(ew::UnaryOp::softplus, Domain::Float, "softplus(x: tensor)", "log(1 + exp(x)), overflow-safe.",
      [](const Expr& y, const Expr& g) { return G{g * sigmoid(X(y))}; }));
  register_op(unary_op(ew::UnaryOp::softsign, Domain::Float, "softsign(x: tensor)", "x / (1 + abs(x)).",
      [](const Expr& y, const Expr& g) { return G{g / square(1.0 + abs(X(y)))}; }));
  register_op(unary_op(ew::UnaryOp::relu, Domain::Numeric, "_relu(x: tensor)", "max(x, 0).",
      [](const Expr& y, const Expr& g) { return G{g * cast(greater(X(y), scalar_like(0, X(y))), g.dtype())}; }));
  register_op(unary_op(ew::UnaryOp::logical_not, Domain::Bool, "logical_not(x: tensor)", "Elementwise logical not (bool result).", nullptr));
}

}  // namespace keras_cpp
