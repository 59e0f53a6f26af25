// cpp/ops/binary.cpp — elementwise functions of two tensors with numpy broadcasting:
// arithmetic, maximum/minimum, pow, comparisons (bool results) and logical ops (`where` is in
// shape_ops.cpp).
// Mixed dtypes are promoted numpy-style; gradients are reduced back with sum_to.
#include <cmath>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

enum class Kind { Arith, TrueDiv, Compare, Logical, FloatOnly };

DType compute_dtype(DType a, DType b, Kind k) {
  if (k == Kind::Logical) return DType::bool_;
  DType t = promote_types(a, b);
  if ((k == Kind::TrueDiv || k == Kind::FloatOnly) && !is_floating(t)) return t == DType::bool_ || dtype_size(t) < 4 ? config::floatx() : DType::float64;
  if (k == Kind::Arith && t == DType::bool_) return DType::int32;  // numpy would keep bool for +; Keras never relies on it
  return t;
}

Tensor binary_forward(KernelCtx& ctx, ew::BinaryOp op, Kind k) {
  DType ct = compute_dtype(ctx.in[0].dtype(), ctx.in[1].dtype(), k);
  for (int i = 0; i < 2; ++i)
    if (ctx.in[i].dtype() != ct) ctx.in[i] = ctx.in[i].astype(ct);
  Shape shape = broadcast_shapes(ctx.in[0].shape(), ctx.in[1].shape(), ctx.node.op->name.c_str());
  const bool to_bool = k == Kind::Compare || k == Kind::Logical;
  if (ct == DType::float16) {  // computed in float32
    Tensor a = ctx.in[0].astype(DType::float32), b = ctx.in[1].astype(DType::float32);
    Tensor o = Tensor::empty(shape, to_bool ? DType::bool_ : DType::float32);
    binary_apply(op, a, b, o);
    return to_bool ? o : o.astype(DType::float16);
  }
  if (!ew::binary(op, ct)) {
    if (k == Kind::TrueDiv || k == Kind::FloatOnly) fail_type(ctx.node.op->name, "needs float inputs");
    fail_type(ctx.node.op->name, std::string("unsupported dtype ") + dtype_name(ct));
  }
  const DType od = to_bool ? DType::bool_ : ct;
  Tensor out = (!to_bool && ctx.in[0].shape() == shape) ? ctx.alloc_like_input(0, shape, od)
             : (!to_bool && ctx.in[1].shape() == shape) ? ctx.alloc_like_input(1, shape, od)
                                                        : ctx.alloc_tensor(shape, od);
  binary_apply(op, ctx.in[0], ctx.in[1], out);
  return out;
}

using GradFn = std::function<std::vector<Expr>(const Expr&, const Expr&)>;

Op binary_op(ew::BinaryOp op, Kind K, const char* sig, const char* doc, GradFn grad) {
  std::string name = std::string(sig).substr(0, std::string(sig).find('('));
  Op d = Op(sig, doc)
             .infer([name, K](const std::vector<TypeInfo>& in, const Attrs&) {
               Shape s = broadcast_shapes(in[0].shape, in[1].shape, name.c_str());
               DType ct = compute_dtype(in[0].dtype, in[1].dtype, K);
               return TypeInfo{s, K == Kind::Compare || K == Kind::Logical ? DType::bool_ : ct, in[0].rank_known && in[1].rank_known};
             })
             .forward([op, K](KernelCtx& ctx) { return binary_forward(ctx, op, K); })
             .flags(kElementwise | (grad ? 0u : kNonDiff))
             .ew(OpDef::EwForm::binary, static_cast<uint8_t>(op));
  if (grad)  // reduce each input's gradient back to that input's shape
    d.grad([grad](const Expr& y, const Expr& g) {
      std::vector<Expr> gs = grad(y, g);
      for (int i = 0; i < 2; ++i)
        if (gs[i]) gs[i] = sum_to(gs[i], Expr(y->inputs[i]));
      return gs;
    });
  return d;
}

using G = std::vector<Expr>;
Expr A(const Expr& y) { return Expr(y->inputs[0]); }
Expr B(const Expr& y) { return Expr(y->inputs[1]); }
Expr as(const Expr& mask, const Expr& like) { return cast(mask, like.dtype()); }

OpRef kAdd, kSubtract, kMultiply, kDivide, kFloordiv, kMod, kPow, kMaximum, kMinimum, kEqual, kNotEqual, kGreater,
    kGreaterEqual, kLess, kLessEqual, kLogicalAnd, kLogicalOr;

// The VJPs before sum_to (binary_op reduces each to its input's shape): y is the result, g its cotangent.
G add_grad(const Expr&, const Expr& g) { return G{g, g}; }
G subtract_grad(const Expr&, const Expr& g) { return G{g, -g}; }
// A cotangent that is all ones whatever the run-time shape: the seed ones_like(loss), broadcast
// or expanded (the gradient of sum). Multiplying by it changes no bit.
bool all_ones(const Expr& e) {
  if (e->kind == NodeKind::constant) {
    const Tensor& v = e->value;
    if (v.is_sparse() || v.numel() != 1 || !is_floating(v.dtype())) return false;
    return v.item() == 1.0;
  }
  if (e->kind != NodeKind::op) return false;
  const std::string& n = e->op->name;
  if (n == "ones_like") return true;
  return (n == "_broadcast_like" || n == "expand_dims" || n == "_reshape_like") && all_ones(Expr(e->inputs[0]));
}

// d(a*b) = g*b, g*a; with g all ones (sum(a * b)'s gradient) that is b (a) broadcast to y's shape
// as a view, which spares a pass over y-sized tensors.
G multiply_grad(const Expr& y, const Expr& g) {
  if (all_ones(g) && g.dtype() == y.dtype() && A(y).dtype() == y.dtype() && B(y).dtype() == y.dtype())
    return G{broadcast_like(B(y), g), broadcast_like(A(y), g)};
  return G{g * B(y), g * A(y)};
}
G divide_grad(const Expr& y, const Expr& g) { return G{g / B(y), -(g * y / B(y))}; }

G pow_grad(const Expr& y, const Expr& g) {
  Expr x = A(y), a = B(y);
  Expr ga;
  if (a->kind != NodeKind::constant) {  // exponent gradient only when it can vary
    Expr safe = where(greater(x, scalar_like(0, x)), x, ones_like(x, x.dtype()));
    ga = g * y * log(safe);
  }
  return G{g * a * pow(x, a - 1.0), ga};
}

G maximum_grad(const Expr& y, const Expr& g) {
  Expr m = greater_equal(A(y), B(y));
  return G{g * as(m, g), g * as(logical_not(m), g)};
}

G minimum_grad(const Expr& y, const Expr& g) {
  Expr m = less_equal(A(y), B(y));
  return G{g * as(m, g), g * as(logical_not(m), g)};
}

// A number operand as a constant (Keras: `1. - y` keeps y's float dtype; next to an int tensor it is floatx).
Expr number_like(double v, const Expr& ref) {
  return constant(Tensor::scalar(v, ref && is_floating(ref.dtype()) ? ref.dtype() : config::floatx()));
}

}  // namespace

Expr add(const Expr& a, const Expr& b) { return make_node(kAdd, {a, b}); }
Expr subtract(const Expr& a, const Expr& b) { return make_node(kSubtract, {a, b}); }
Expr multiply(const Expr& a, const Expr& b) { return make_node(kMultiply, {a, b}); }
Expr divide(const Expr& a, const Expr& b) { return make_node(kDivide, {a, b}); }
Expr floordiv(const Expr& a, const Expr& b) { return make_node(kFloordiv, {a, b}); }
Expr mod(const Expr& a, const Expr& b) { return make_node(kMod, {a, b}); }
Expr pow(const Expr& x, const Expr& a) { return make_node(kPow, {x, a}); }
Expr pow(const Expr& x, double a) { return make_node(kPow, {x, number_like(a, x)}); }
Expr maximum(const Expr& a, const Expr& b) { return make_node(kMaximum, {a, b}); }
Expr minimum(const Expr& a, const Expr& b) { return make_node(kMinimum, {a, b}); }
Expr equal(const Expr& a, const Expr& b) { return make_node(kEqual, {a, b}); }
Expr not_equal(const Expr& a, const Expr& b) { return make_node(kNotEqual, {a, b}); }
Expr greater(const Expr& a, const Expr& b) { return make_node(kGreater, {a, b}); }
Expr greater_equal(const Expr& a, const Expr& b) { return make_node(kGreaterEqual, {a, b}); }
Expr less(const Expr& a, const Expr& b) { return make_node(kLess, {a, b}); }
Expr less_equal(const Expr& a, const Expr& b) { return make_node(kLessEqual, {a, b}); }
Expr logical_and(const Expr& a, const Expr& b) { return make_node(kLogicalAnd, {a, b}); }
Expr logical_or(const Expr& a, const Expr& b) { return make_node(kLogicalOr, {a, b}); }

Expr operator+(const Expr& a, const Expr& b) { return add(a, b); }
Expr operator-(const Expr& a, const Expr& b) { return subtract(a, b); }
Expr operator*(const Expr& a, const Expr& b) { return multiply(a, b); }
Expr operator/(const Expr& a, const Expr& b) { return divide(a, b); }
Expr operator-(const Expr& a) { return negative(a); }
Expr operator+(const Expr& a, double b) { return make_node(kAdd, {a, number_like(b, a)}); }
Expr operator-(const Expr& a, double b) { return make_node(kSubtract, {a, number_like(b, a)}); }
Expr operator*(const Expr& a, double b) { return make_node(kMultiply, {a, number_like(b, a)}); }
Expr operator/(const Expr& a, double b) { return make_node(kDivide, {a, number_like(b, a)}); }
Expr operator+(double a, const Expr& b) { return make_node(kAdd, {number_like(a, b), b}); }
Expr operator-(double a, const Expr& b) { return make_node(kSubtract, {number_like(a, b), b}); }
Expr operator*(double a, const Expr& b) { return make_node(kMultiply, {number_like(a, b), b}); }
Expr operator/(double a, const Expr& b) { return make_node(kDivide, {number_like(a, b), b}); }

void register_binary() {
  register_op(kAdd, binary_op(ew::BinaryOp::add, Kind::Arith, "add(x: tensor, y: tensor)",
                                "x + y with broadcasting.", add_grad));
  register_op(kSubtract, binary_op(ew::BinaryOp::subtract, Kind::Arith, "subtract(x: tensor, y: tensor)",
                                "x - y with broadcasting.", subtract_grad));
  register_op(kMultiply, binary_op(ew::BinaryOp::multiply, Kind::Arith, "multiply(x: tensor, y: tensor)",
                                "x * y with broadcasting.", multiply_grad));
  register_op(kDivide, binary_op(ew::BinaryOp::divide, Kind::TrueDiv, "divide(x: tensor, y: tensor)",
                                "x / y (true division).", divide_grad));
  register_op(kFloordiv, binary_op(ew::BinaryOp::floordiv, Kind::Arith, "floordiv(x: tensor, y: tensor)",
                                "x // y (floor division).", nullptr));
  register_op(kMod, binary_op(ew::BinaryOp::mod, Kind::Arith, "mod(x: tensor, y: tensor)",
                                "x % y with the sign of y (Python's rule).", nullptr));
  register_op(kPow, binary_op(ew::BinaryOp::pow, Kind::FloatOnly, "pow(x: tensor, a: tensor)",
                                "x ** a elementwise; a may be a number or a tensor.", pow_grad));
  register_op(kMaximum, binary_op(ew::BinaryOp::maximum, Kind::Arith, "maximum(x: tensor, y: tensor)",
                                "Elementwise maximum with broadcasting; NaN in either operand gives NaN.", maximum_grad));
  register_op(kMinimum, binary_op(ew::BinaryOp::minimum, Kind::Arith, "minimum(x: tensor, y: tensor)",
                                "Elementwise minimum with broadcasting; NaN in either operand gives NaN.", minimum_grad));
  register_op(kEqual, binary_op(ew::BinaryOp::equal, Kind::Compare, "equal(x: tensor, y: tensor)",
                                "x == y elementwise (bool).", nullptr));
  register_op(kNotEqual, binary_op(ew::BinaryOp::not_equal, Kind::Compare, "not_equal(x: tensor, y: tensor)",
                                "x != y elementwise (bool).", nullptr));
  register_op(kGreater, binary_op(ew::BinaryOp::greater, Kind::Compare, "greater(x: tensor, y: tensor)",
                                "x > y elementwise (bool).", nullptr));
  register_op(kGreaterEqual, binary_op(ew::BinaryOp::greater_equal, Kind::Compare, "greater_equal(x: tensor, y: tensor)",
                                "x >= y elementwise (bool).", nullptr));
  register_op(kLess, binary_op(ew::BinaryOp::less, Kind::Compare, "less(x: tensor, y: tensor)",
                                "x < y elementwise (bool).", nullptr));
  register_op(kLessEqual, binary_op(ew::BinaryOp::less_equal, Kind::Compare, "less_equal(x: tensor, y: tensor)",
                                "x <= y elementwise (bool).", nullptr));
  register_op(kLogicalAnd, binary_op(ew::BinaryOp::logical_and, Kind::Logical, "logical_and(x: tensor, y: tensor)",
                                "Elementwise logical and.", nullptr));
  register_op(kLogicalOr, binary_op(ew::BinaryOp::logical_or, Kind::Logical, "logical_or(x: tensor, y: tensor)",
                                "Elementwise logical or.", nullptr));
}

}  // namespace keras_cpp
