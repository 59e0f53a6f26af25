// cpp/ops/state.cpp — ops with side effects: variable updates and print_tensor.
// An update op (`_assign`, `_assign_add`, `_assign_sub`) reads a variable and yields its new
// value, like TF's assign ops. Its kernel only computes that value from the current one (input 0,
// which the executor provides); the executor stages it and commits every update of a call at the
// end, so a call's updates apply all or nothing (exec/function.cpp has the ordering rules).
#include <iomanip>
#include <iostream>
#include <sstream>

#include "ops/helpers.h"
#include "ops/state.h"

namespace keras_cpp {
namespace {

PrintFunction& printer() {
  static PrintFunction p = [](const std::string& message, const Tensor& t) {
    std::cout << message << " " << tensor_to_string(t) << "\n" << std::flush;
  };
  return p;
}

void format_value(std::ostringstream& o, const Tensor& t, int64_t i) {
  double v = t.item(i);
  if (!is_floating(t.dtype())) {
    if (t.dtype() == DType::bool_) o << (v != 0 ? "True" : "False");
    else o << static_cast<int64_t>(v);
  } else if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e16) {
    o << static_cast<int64_t>(v) << ".";  // numpy prints a float 1 as "1."
  } else if (std::isnan(v)) {
    o << "nan";
  } else if (std::isinf(v)) {
    o << (v < 0 ? "-inf" : "inf");
  } else {
    o << std::setprecision(8) << v;
  }
}

void format_tensor(std::ostringstream& o, const Tensor& t, int dim, int64_t off) {
  if (t.ndim() == 0) { format_value(o, t, 0); return; }
  o << "[";
  for (int64_t i = 0; i < t.shape()[dim]; ++i) {
    if (i) o << (dim == t.ndim() - 1 ? " " : "\n" + std::string(dim + 1, ' '));
    if (dim == t.ndim() - 1) format_value(o, t, off + i);
    else {
      int64_t stride = 1;
      for (int d = dim + 1; d < t.ndim(); ++d) stride *= t.shape()[d];
      format_tensor(o, t, dim + 1, off + i * stride);
    }
  }
  o << "]";
}

const std::string& public_name(const Node& n) { return n.attrs.s("op"); }

// The new value as a private, contiguous tensor of the variable's dtype.
Tensor own(Tensor v) {
  if (v.storage()->borrowed() || !v.is_contiguous()) v = v.clone();
  return v;
}

Tensor assign_forward(KernelCtx& ctx) {
  const Node& var = *ctx.node.inputs[0].node();
  Tensor v = ctx.in[1].astype(var.type().dtype);
  if (v.shape() != var.type().shape)
    fail_value(public_name(ctx.node), "new value of shape " + shape_str(v.shape()) + " does not match variable '" + var.name +
                                          "' of shape " + shape_str(var.type().shape));
  return own(v);
}

// current (+|-) value, computed in the variable's dtype (float16 through float32).
template <ew::BinaryOp Op>
Tensor assign_arith_forward(KernelCtx& ctx) {
  const Node& var = *ctx.node.inputs[0].node();
  const std::string& op = public_name(ctx.node);
  if (var.type().dtype == DType::bool_) fail_type(op, "variable '" + var.name + "' is bool; it cannot be incremented");
  Shape s = broadcast_shapes(ctx.in[0].shape(), ctx.in[1].shape(), op.c_str());
  if (s != var.type().shape)
    fail_value(op, "a value of shape " + shape_str(ctx.in[1].shape()) + " does not broadcast to variable '" + var.name +
                       "' of shape " + shape_str(var.type().shape));
  DType ct = var.type().dtype == DType::float16 ? DType::float32 : var.type().dtype;
  Tensor cur = ctx.in[0].astype(ct), v = ctx.in[1].astype(ct);
  Tensor out = Tensor::empty(var.type().shape, ct);
  binary_apply(Op, cur, v, out);
  return out.astype(var.type().dtype);
}

TypeInfo assign_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const TypeInfo& x = in[0];
  const TypeInfo& v = in[1];
  if (v.rank_known && a.s("op") == "update") {
    bool ok = v.ndim() == x.ndim();
    for (int i = 0; ok && i < x.ndim(); ++i) ok = v.shape[i] < 0 || v.shape[i] == x.shape[i];
    if (!ok) fail_value("update", "new value of shape " + shape_str(v.shape) + " does not match the variable's shape " + shape_str(x.shape));
  } else if (v.rank_known) {
    Shape s = broadcast_shapes(x.shape, v.shape, a.s("op").c_str());
    if (s != x.shape)
      fail_value(a.s("op"), "a value of shape " + shape_str(v.shape) + " does not broadcast to the variable's shape " + shape_str(x.shape));
  }
  return x;
}

void check_var(const Expr& x, const char* op) {
  if (x->kind != NodeKind::variable)
    fail_type(op, "the first argument must be a variable, got a " + std::string(x->op ? x->op->name : "placeholder") + " tensor");
}

OpRef kAssignOp, kAssignAddOp, kAssignSubOp, kUpdate, kUpdateAdd, kUpdateSub, kMovingAverageUpdate, kPrintTensor;

Expr make_update(const OpRef& prim, const char* op, const Expr& x, const Expr& v) {
  check_var(x, op);
  Attrs a;
  a.set("op", Value(op));
  return make_node(prim, {x, v}, a);
}

Expr update_build(const OpDef&, std::vector<Value>& a) { return update(Expr(a[0].t), Expr(a[1].t)); }
Expr update_add_build(const OpDef&, std::vector<Value>& a) { return update_add(Expr(a[0].t), Expr(a[1].t)); }
Expr update_sub_build(const OpDef&, std::vector<Value>& a) { return update_sub(Expr(a[0].t), Expr(a[1].t)); }

Expr moving_average_update_build(const OpDef&, std::vector<Value>& a) {
  Expr x(a[0].t), v(a[1].t);
  check_var(x, "moving_average_update");
  if (v.dtype() != x.dtype()) v = cast(v, x.dtype());
  // TF's order: decay = 1 - momentum computed first (for a Python number, in double; TF then
  // rounds it to float32, we to x's dtype, so float64 variables keep full precision).
  Expr decay = a[2].kind == Value::Tensor ? 1.0 - Expr(a[2].t) : constant(Tensor::scalar(1.0 - a[2].as_double(), x.dtype()));
  if (decay.dtype() != x.dtype()) decay = cast(decay, x.dtype());
  return make_update(kAssignSubOp, "moving_average_update", x, (x - v) * decay);
}

TypeInfo print_tensor_infer(const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; }

Tensor print_tensor_forward(KernelCtx& ctx) {
  printer()(ctx.attrs().s("message"), ctx.in[0]);
  return ctx.in[0];
}

std::vector<Expr> print_tensor_grad(const Expr&, const Expr& g) { return std::vector<Expr>{g}; }

}  // namespace

void set_print_function(PrintFunction f) { printer() = std::move(f); }

std::string tensor_to_string(const Tensor& t) {
  std::ostringstream o;
  format_tensor(o, t.contiguous(), 0, 0);
  return o.str();
}

Expr update(const Expr& x, const Expr& v) { return make_update(kAssignOp, "update", x, v); }
Expr update_add(const Expr& x, const Expr& v) { return make_update(kAssignAddOp, "update_add", x, v); }
Expr update_sub(const Expr& x, const Expr& v) { return make_update(kAssignSubOp, "update_sub", x, v); }

bool is_update_handle(const Expr& e) { return e && e->op && (e->op->flags & kAssign); }

void register_state() {
  const uint32_t assign_flags = kNonDiff | kStateful | kAssign;
  register_op(kAssignOp, Op("_assign(x: tensor, value: tensor)", "x <- value when evaluated; yields the new value.")
                           .infer(assign_infer).forward(assign_forward).flags(assign_flags));
  register_op(kAssignAddOp, Op("_assign_add(x: tensor, value: tensor)", "x <- x + value when evaluated; yields the new value.")
                              .infer(assign_infer).forward(assign_arith_forward<ew::BinaryOp::add>).flags(assign_flags));
  register_op(kAssignSubOp, Op("_assign_sub(x: tensor, value: tensor)", "x <- x - value when evaluated; yields the new value.")
                              .infer(assign_infer).forward(assign_arith_forward<ew::BinaryOp::subtract>).flags(assign_flags));
  register_op(kUpdate, Op("update(x: tensor, new_x: tensor)", "An update op: evaluating it sets variable x to new_x and yields the new value.")
                           .build(update_build));
  register_op(kUpdateAdd, Op("update_add(x: tensor, increment: tensor)",
                             "An update op: evaluating it adds increment to variable x (atomically) and yields the new value.")
                              .build(update_add_build));
  register_op(kUpdateSub, Op("update_sub(x: tensor, decrement: tensor)",
                             "An update op: evaluating it subtracts decrement from variable x (atomically) and yields the new value.")
                              .build(update_sub_build));
  register_op(kMovingAverageUpdate, Op("moving_average_update(x: tensor, value: tensor, momentum: scalar)",
                                       "An update op: x <- x - (x - value) * (1 - momentum), i.e. momentum * x + (1 - momentum) * value.")
                                        .build(moving_average_update_build));
  register_op(kPrintTensor, Op("print_tensor(x: tensor, message: str = '')", "Same value as x; when evaluated, prints message and the value to stdout.")
                                .infer(print_tensor_infer).forward(print_tensor_forward).grad(print_tensor_grad).flags(kStateful | kView));
}

}  // namespace keras_cpp
