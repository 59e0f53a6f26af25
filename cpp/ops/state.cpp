// cpp/ops/state.cpp — ops with side effects: variable update handles and print_tensor.
// An update handle assigns when evaluated on its own; listed in Function updates it is split
// into (variable, new value) so every new value is computed from the pre-call state.
#include <iostream>
#include <sstream>

#include "ops/helpers.h"
#include "ops/state.h"

namespace keras_cpp {
namespace {

std::function<void(const std::string&)>& printer() {
  static std::function<void(const std::string&)> p = [](const std::string& s) { std::cout << s << std::flush; };
  return p;
}

void format_tensor(std::ostringstream& o, const Tensor& t, int dim, int64_t off) {
  if (t.ndim() == 0) { o << t.item(); return; }
  o << "[";
  for (int64_t i = 0; i < t.shape()[dim]; ++i) {
    if (i) o << (dim == t.ndim() - 1 ? " " : "\n" + std::string(dim + 1, ' '));
    if (dim == t.ndim() - 1) o << t.item(off + i);
    else {
      int64_t stride = 1;
      for (int d = dim + 1; d < t.ndim(); ++d) stride *= t.shape()[d];
      format_tensor(o, t, dim + 1, off + i * stride);
    }
  }
  o << "]";
}

}  // namespace

void set_print_function(std::function<void(const std::string&)> f) { printer() = std::move(f); }

std::string tensor_to_string(const Tensor& t) {
  std::ostringstream o;
  format_tensor(o, t.contiguous(), 0, 0);
  return o.str();
}

Expr update(const Expr& x, const Expr& v) { return call("update", {x, v}); }
Expr update_add(const Expr& x, const Expr& v) { return call("update_add", {x, v}); }
Expr update_sub(const Expr& x, const Expr& v) { return call("update_sub", {x, v}); }

bool is_update_handle(const Expr& e) { return e && e->op && e->op->name == "_assign"; }

void register_state() {
  OpDef as;
  as.signature = "_assign(x: tensor, value: tensor)";
  as.doc = "Assign value to variable x when evaluated; returns the new value.";
  as.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; };
  as.forward = [](KernelCtx& ctx) {
    const Node& var = *ctx.node.inputs[0].node();
    const TypeInfo& vt = var.type();
    Tensor v = ctx.in[1].astype(vt.dtype);
    if (v.shape() != vt.shape) fail_value("update", "new value of shape " + shape_str(v.shape()) + " does not match variable '" + var.name + "' of shape " + shape_str(vt.shape));
    if (v.storage()->borrowed()) v = v.clone();
    v = v.contiguous();
    std::lock_guard<std::mutex> lk(var.var->mu);
    var.var->value = v;
    return v;
  };
  as.flags = kNonDiff | kStateful;
  register_op(as);

  auto check_var = [](const Expr& x, const char* op) {
    if (x->kind != NodeKind::variable) fail_type(op, "the first argument must be a variable, got a " + std::string(x->op ? x->op->name : "placeholder") + " tensor");
  };
  OpDef u;
  u.signature = "update(x: tensor, new_x: tensor)";
  u.doc = "An update handle setting x to new_x.";
  u.build = [check_var](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t), v(a[1].t);
    check_var(x, "update");
    return make_node("_assign", {x, v});
  };
  register_op(u);
  OpDef ua;
  ua.signature = "update_add(x: tensor, increment: tensor)";
  ua.doc = "An update handle setting x to x + increment.";
  ua.build = [check_var](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t), v(a[1].t);
    check_var(x, "update_add");
    return make_node("_assign", {x, x + v});
  };
  register_op(ua);
  OpDef us;
  us.signature = "update_sub(x: tensor, decrement: tensor)";
  us.doc = "An update handle setting x to x - decrement.";
  us.build = [check_var](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t), v(a[1].t);
    check_var(x, "update_sub");
    return make_node("_assign", {x, x - v});
  };
  register_op(us);
  OpDef ma;
  ma.signature = "moving_average_update(x: tensor, value: tensor, momentum: scalar)";
  ma.doc = "An update handle setting x to momentum * x + (1 - momentum) * value.";
  ma.build = [check_var](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t), v(a[1].t);
    check_var(x, "moving_average_update");
    if (v.dtype() != x.dtype()) v = cast(v, x.dtype());
    Expr m = a[2].kind == Value::Tensor ? cast(Expr(a[2].t), x.dtype()) : scalar_like(a[2].f, x);
    return make_node("_assign", {x, x - (x - v) * (1.0 - m)});
  };
  register_op(ma);

  OpDef pt;
  pt.signature = "print_tensor(x: tensor, message: str = '')";
  pt.doc = "Same value as x; when evaluated, prints message and the value to stdout.";
  pt.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; };
  pt.forward = [](KernelCtx& ctx) {
    printer()(ctx.attrs().s("message") + " " + tensor_to_string(ctx.in[0]) + "\n");
    return ctx.in[0];
  };
  pt.grad = [](const Expr&, const Expr& g) { return std::vector<Expr>{g}; };
  pt.flags = kStateful | kView;
  register_op(pt);
}

}  // namespace keras_cpp
