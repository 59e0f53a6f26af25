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

OpRef kAbs, kNegative, kSquare, kSqrt, kExp, kExpm1, kLog1p, kLog, kSin, kCos, kTanh, kSigmoid, kSign, kRound, kSoftplus,
    kSoftsign, kRelu, kLogicalNot;

// The VJPs: y is the op's result, g its cotangent, X(y) its input.
G abs_grad(const Expr& y, const Expr& g) { return G{g * sign(X(y))}; }
G negative_grad(const Expr&, const Expr& g) { return G{-g}; }
G square_grad(const Expr& y, const Expr& g) { return G{g * (2.0 * X(y))}; }
G sqrt_grad(const Expr& y, const Expr& g) { return G{where(greater(y, scalar_like(0, y)), g * 0.5 / y, zeros_like(y, y.dtype()))}; }
G exp_grad(const Expr& y, const Expr& g) { return G{g * y}; }
G expm1_grad(const Expr& y, const Expr& g) { return G{g * exp(X(y))}; }  // not y + 1: exact for x << 0
G log1p_grad(const Expr& y, const Expr& g) { return G{g / (1.0 + X(y))}; }
G log_grad(const Expr& y, const Expr& g) { return G{g / X(y)}; }
G sin_grad(const Expr& y, const Expr& g) { return G{g * cos(X(y))}; }
G cos_grad(const Expr& y, const Expr& g) { return G{-(g * sin(X(y)))}; }
G tanh_grad(const Expr& y, const Expr& g) { return G{g * (1.0 - square(y))}; }
G sigmoid_grad(const Expr& y, const Expr& g) { return G{g * (y * (1.0 - y))}; }
G softplus_grad(const Expr& y, const Expr& g) { return G{g * sigmoid(X(y))}; }
G softsign_grad(const Expr& y, const Expr& g) { return G{g / square(1.0 + abs(X(y)))}; }
G relu_grad(const Expr& y, const Expr& g) { return G{g * cast(greater(X(y), scalar_like(0, X(y))), g.dtype())}; }

}  // namespace

Op unary_op(ew::UnaryOp op, Domain dom, const char* sig, const char* doc,
            std::function<std::vector<Expr>(const Expr&, const Expr&)> grad, uint32_t flags) {
  std::string name = std::string(sig).substr(0, std::string(sig).find('('));
  const uint32_t f = flags | kElementwise | (grad ? 0u : kNonDiff);
  return Op(sig, doc)
      .infer([name, dom](const std::vector<TypeInfo>& in, const Attrs&) {
        check_domain(name, in[0].dtype, dom);
        return TypeInfo{in[0].shape, unary_out_dtype(in[0].dtype, dom), in[0].rank_known};
      })
      .forward([op, dom](KernelCtx& ctx) { return unary_forward(ctx, op, dom); })
      .grad(std::move(grad))
      .flags(f)
      .ew(OpDef::EwForm::unary, static_cast<uint8_t>(op));
}

Expr abs(const Expr& x) { return make_node(kAbs, {x}); }
Expr negative(const Expr& x) { return make_node(kNegative, {x}); }
Expr square(const Expr& x) { return make_node(kSquare, {x}); }
Expr sqrt(const Expr& x) { return make_node(kSqrt, {x}); }
Expr exp(const Expr& x) { return make_node(kExp, {x}); }
Expr log(const Expr& x) { return make_node(kLog, {x}); }
Expr sin(const Expr& x) { return make_node(kSin, {x}); }
Expr cos(const Expr& x) { return make_node(kCos, {x}); }
Expr tanh(const Expr& x) { return make_node(kTanh, {x}); }
Expr sigmoid(const Expr& x) { return make_node(kSigmoid, {x}); }
Expr sign(const Expr& x) { return make_node(kSign, {x}); }
Expr round(const Expr& x) { return make_node(kRound, {x}); }
Expr softplus(const Expr& x) { return make_node(kSoftplus, {x}); }
Expr softsign(const Expr& x) { return make_node(kSoftsign, {x}); }
Expr logical_not(const Expr& x) { return make_node(kLogicalNot, {x}); }

Expr expm1(const Expr& x) { return make_node(kExpm1, {x}); }
Expr log1p(const Expr& x) { return make_node(kLog1p, {x}); }
Expr relu0(const Expr& x) { return make_node(kRelu, {x}); }

void register_unary() {
  register_op(kAbs, unary_op(ew::UnaryOp::abs, Domain::Numeric, "abs(x: tensor)", "Elementwise absolute value.", abs_grad));
  register_op(kNegative, unary_op(ew::UnaryOp::negative, Domain::Numeric, "negative(x: tensor)", "Elementwise -x.", negative_grad));
  register_op(kSquare, unary_op(ew::UnaryOp::square, Domain::Numeric, "square(x: tensor)", "Elementwise x**2.", square_grad));
  register_op(kSqrt, unary_op(ew::UnaryOp::sqrt, Domain::Float, "sqrt(x: tensor)", "Elementwise square root; negative inputs are clipped to 0 first (gradient 0 there).", sqrt_grad));
  register_op(kExp, unary_op(ew::UnaryOp::exp, Domain::Float, "exp(x: tensor)", "Elementwise e**x.", exp_grad));
  register_op(kExpm1, unary_op(ew::UnaryOp::expm1, Domain::Float, "_expm1(x: tensor)", "Elementwise exp(x) - 1, accurate near 0.", expm1_grad));
  register_op(kLog1p, unary_op(ew::UnaryOp::log1p, Domain::Float, "_log1p(x: tensor)", "Elementwise log(1 + x), accurate near 0.", log1p_grad));
  register_op(kLog, unary_op(ew::UnaryOp::log, Domain::Float, "log(x: tensor)", "Elementwise natural log (log(0) = -inf).", log_grad));
  register_op(kSin, unary_op(ew::UnaryOp::sin, Domain::Float, "sin(x: tensor)", "Elementwise sine.", sin_grad));
  register_op(kCos, unary_op(ew::UnaryOp::cos, Domain::Float, "cos(x: tensor)", "Elementwise cosine.", cos_grad));
  register_op(kTanh, unary_op(ew::UnaryOp::tanh, Domain::Float, "tanh(x: tensor)", "Elementwise tanh.", tanh_grad));
  register_op(kSigmoid, unary_op(ew::UnaryOp::sigmoid, Domain::Float, "sigmoid(x: tensor)", "Elementwise 1 / (1 + exp(-x)).", sigmoid_grad));
  register_op(kSign, unary_op(ew::UnaryOp::sign, Domain::Numeric, "sign(x: tensor)", "Elementwise -1, 0 or 1 (sign(0) = 0).", nullptr));
  register_op(kRound, unary_op(ew::UnaryOp::round, Domain::Numeric, "round(x: tensor)", "Elementwise round half to even.", nullptr));
  register_op(kSoftplus, unary_op(ew::UnaryOp::softplus, Domain::Float, "softplus(x: tensor)", "log(1 + exp(x)), overflow-safe.", softplus_grad));
  register_op(kSoftsign, unary_op(ew::UnaryOp::softsign, Domain::Float, "softsign(x: tensor)", "x / (1 + abs(x)).", softsign_grad));
  register_op(kRelu, unary_op(ew::UnaryOp::relu, Domain::Numeric, "_relu(x: tensor)", "max(x, 0).", relu_grad));
  register_op(kLogicalNot, unary_op(ew::UnaryOp::logical_not, Domain::Bool, "logical_not(x: tensor)", "Elementwise logical not (bool result).", nullptr));
}

}  // namespace keras_cpp
