// cpp/graph/node.cpp — Expr/Value/Attrs helpers, leaves, control-dependency scopes, and
// make_node (runs an op's infer).
#include "graph/node.h"

#include <algorithm>
#include <sstream>

#include "graph/op.h"
#include "keras_cpp/sparse.h"

namespace keras_cpp {

namespace {
std::atomic<uint64_t> g_next_id{1};
// This thread's control_dependencies scopes; each level holds the accumulated dependencies.
thread_local std::vector<std::vector<std::shared_ptr<Node>>> t_deps;
}

void push_control_dependencies(const std::vector<Expr>& ops, bool replace) {
  std::vector<std::shared_ptr<Node>> level;
  if (!replace && !t_deps.empty()) level = t_deps.back();
  for (auto& e : ops)
    if (e && std::find(level.begin(), level.end(), e.node()) == level.end()) level.push_back(e.node());
  t_deps.push_back(std::move(level));
}

void pop_control_dependencies() {
  if (t_deps.empty()) throw ValueError("[control_dependencies] exited more scopes than were entered");
  t_deps.pop_back();
}

ControlDependencies::ControlDependencies(const std::vector<Expr>& ops, bool replace) { push_control_dependencies(ops, replace); }
ControlDependencies::~ControlDependencies() { t_deps.pop_back(); }

Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

double Value::as_double() const {
  switch (kind) {
    case Int: return static_cast<double>(i);
    case Float: return f;
    case Bool: return b ? 1.0 : 0.0;
    default: throw TypeError("expected a number, got " + repr());
  }
}

// "(1, 2)" / "[a, b]": items of a sequence between brackets.
template <class C, class F>
static std::string join_repr(const C& items, const char* open, const char* close, F item) {
  std::ostringstream o;
  o << open;
  for (size_t k = 0; k < items.size(); ++k) o << (k ? ", " : "") << item(items[k]);
  o << close;
  return o.str();
}

std::string Value::repr() const {
  auto same = [](const auto& v) { return v; };
  switch (kind) {
    case None: return "None";
    case Tensor: return "<tensor " + std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape()) + ">";
    case Int: return std::to_string(i);
    case Float: return join_repr(std::vector<double>{f}, "", "", same);
    case Bool: return b ? "True" : "False";
    case Str: return "'" + s + "'";
    case Ints: return join_repr(ints, "(", ints.size() == 1 ? ",)" : ")", same);
    case Floats: return join_repr(floats, "(", ")", same);
    case List: return join_repr(list, "[", "]", [](const Value& v) { return v.repr(); });
  }
  return "?";
}

Attrs::Attrs() = default;
Attrs::Attrs(const Attrs&) = default;
Attrs::Attrs(Attrs&&) noexcept = default;
Attrs& Attrs::operator=(const Attrs&) = default;
Attrs& Attrs::operator=(Attrs&&) noexcept = default;
Attrs::~Attrs() = default;

void Attrs::set(const std::string& k, Value v) {
  for (auto& kv : items_)
    if (kv.first == k) {
      kv.second = std::move(v);
      return;
    }
  items_.emplace_back(k, std::move(v));
}
bool Attrs::has(const std::string& k) const { return !get(k).is_none(); }
const Value& Attrs::get(const std::string& k) const {
  static const Value none;
  for (auto& kv : items_)
    if (kv.first == k) return kv.second;
  return none;
}
int64_t Attrs::i(const std::string& k, int64_t def) const {
  const Value& v = get(k);
  if (v.kind == Value::Int) return v.i;
  if (v.kind == Value::Bool) return v.b;
  if (v.kind == Value::Float) return static_cast<int64_t>(v.f);
  return def;
}
double Attrs::f(const std::string& k, double def) const {
  const Value& v = get(k);
  return v.is_none() ? def : v.as_double();
}
bool Attrs::b(const std::string& k, bool def) const {
  const Value& v = get(k);
  if (v.kind == Value::Bool) return v.b;
  if (v.kind == Value::Int) return v.i != 0;
  return def;
}
const std::string& Attrs::s(const std::string& k) const { return get(k).s; }
const std::vector<int64_t>& Attrs::ints(const std::string& k) const { return get(k).ints; }
DType Attrs::dtype(const std::string& k) const { return static_cast<DType>(get(k).i); }

const Shape& Expr::shape() const { return node_->outputs[index_].type.shape; }
DType Expr::dtype() const { return node_->outputs[index_].type.dtype; }
bool Expr::rank_known() const { return node_->outputs[index_].type.rank_known; }
bool Expr::sparse() const { return node_->outputs[index_].type.sparse; }
const std::string& Expr::name() const { return node_->name; }

// A node with `types.size()` results (Output::node points back at it).
static std::shared_ptr<Node> new_node(NodeKind kind, std::vector<TypeInfo> types, const std::string& name) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->outputs.resize(types.size());
  for (size_t k = 0; k < types.size(); ++k) n->outputs[k] = Output{std::move(types[k]), n.get(), static_cast<uint32_t>(k)};
  n->name = name;
  n->id = g_next_id++;
  return n;
}

Expr placeholder(const Shape& shape, DType dtype, const std::string& name, bool rank_known) {
  check_shape_size(shape, dtype_size(dtype), "placeholder");  // size formulas over its dims must not overflow
  return Expr(new_node(NodeKind::placeholder, {TypeInfo{shape, dtype, rank_known}}, name.empty() ? "placeholder" : name));
}

Expr variable(const Tensor& value, const std::string& name) {
  auto n = new_node(NodeKind::variable, {type_of(value)}, name.empty() ? "variable" : name);
  n->var = std::make_shared<VarState>();
  n->var->value = value.contiguous();
  return Expr(n);
}

Expr constant(const Tensor& value, const std::string& name) {
  auto n = new_node(NodeKind::constant, {type_of(value)}, name.empty() ? "Const" : name);
  n->value = value;
  return Expr(n);
}

Expr scalar_like(double v, const Expr& like) { return constant(Tensor::scalar(v, like.dtype())); }

Tensor get_value(const Expr& var) {
  if (!var || var->kind != NodeKind::variable) throw TypeError("[get_value] expected a variable");
  std::lock_guard<ForkAwareMutex> lk(var->var->mu);
  return var->var->value;
}

void set_value(const Expr& var, const Tensor& value) {
  if (!var || var->kind != NodeKind::variable) throw TypeError("[set_value] expected a variable");
  if (value.shape() != var.shape())
    throw ValueError("[set_value] value of shape " + shape_str(value.shape()) + " does not match variable '" +
                     var->name + "' of shape " + shape_str(var.shape()));
  Tensor t = match_sparsity(value.astype(var.dtype()), var.sparse());
  if (t.storage() == value.storage()) t = t.clone();  // never alias the caller's memory
  std::lock_guard<ForkAwareMutex> lk(var->var->mu);
  var->var->value = t;
}

TypeInfo type_of(const Expr& e) { return e->type(e.index()); }
TypeInfo type_of(const Tensor& t) { return TypeInfo{t.shape(), t.dtype(), true, t.is_sparse()}; }

void fail_value(const std::string& op, const std::string& msg) { throw ValueError("[" + op + "] " + msg); }
void fail_type(const std::string& op, const std::string& msg) { throw TypeError("[" + op + "] " + msg); }

Expr make_node(const OpDef& op, std::vector<Expr> inputs, Attrs attrs) {
  std::vector<TypeInfo> ins;
  ins.reserve(inputs.size());
  for (auto& e : inputs) {
    if (!e) fail_value(op.name, "got None where a tensor was expected");
    if (e.sparse() && !(op.flags & kSparse))
      fail_type(op.name, "does not accept sparse tensors (got '" + e->name + "' " + shape_str(e.shape()) +
                             "); convert it with to_dense first");
    ins.push_back(type_of(e));
  }
  std::vector<TypeInfo> outs = op.infer_multi(ins, attrs);
  if (outs.empty()) fail_value(op.name, "internal: infer gave the node no results");
  for (const TypeInfo& t : outs) check_shape_size(t.shape, dtype_size(t.dtype), op.name.c_str());
  auto n = new_node(NodeKind::op, std::move(outs), op.name);
  n->op = &op;
  n->inputs = std::move(inputs);
  n->attrs = std::move(attrs);
  if (!t_deps.empty()) n->deps = t_deps.back();
  return Expr(n);
}

std::vector<Expr> outputs_of(const Expr& e) {
  std::vector<Expr> r;
  for (size_t k = 0; k < e->num_outputs(); ++k) r.emplace_back(e.node(), static_cast<uint32_t>(k));
  return r;
}

}  // namespace keras_cpp
