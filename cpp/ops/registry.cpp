// cpp/ops/registry.cpp — the op table, signature parsing, and `call` (Keras args -> node).
#include "ops/registry.h"

#include <cctype>
#include <map>
#include <mutex>

#include "keras_cpp/config.h"
#include "ops/families.h"

namespace keras_cpp {

namespace {

struct Table {
  std::map<std::string, OpDef*> by_name;
  std::vector<const OpDef*> list;
};

Table& table() {
  static Table* t = new Table();
  return *t;
}

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] { register_all_families(); });
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\n"), b = s.find_last_not_of(" \t\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Split at top-level commas (not inside brackets or quotes).
std::vector<std::string> split_top(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  bool quote = false;
  std::string cur;
  for (char c : s) {
    if (c == '\'') quote = !quote;
    if (!quote && (c == '(' || c == '[')) ++depth;
    if (!quote && (c == ')' || c == ']')) --depth;
    if (!quote && depth == 0 && c == ',') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

Value parse_default(const std::string& s) {
  if (s == "None") return Value();
  if (s == "True") return Value(true);
  if (s == "False") return Value(false);
  if (s.size() >= 2 && s.front() == '\'') return Value(s.substr(1, s.size() - 2));
  if (s.front() == '(' || s.front() == '[') {
    std::vector<Value> items;
    for (auto& p : split_top(s.substr(1, s.size() - 2))) items.push_back(parse_default(p));
    bool all_int = true;
    for (auto& v : items) all_int = all_int && v.kind == Value::Int;
    if (all_int) {
      std::vector<int64_t> ints;
      for (auto& v : items) ints.push_back(v.i);
      return Value(ints);
    }
    return Value(items);
  }
  if (s.find_first_of(".eE") != std::string::npos && s.find("inf") == std::string::npos) return Value(std::stod(s));
  return Value(static_cast<int64_t>(std::stoll(s)));
}

Param::Kind parse_kind(const std::string& k, const std::string& op) {
  static const std::map<std::string, Param::Kind> kinds = {
      {"tensor", Param::Tensor}, {"tensor?", Param::TensorOpt}, {"tensors", Param::Tensors},
      {"scalar", Param::Scalar}, {"int", Param::Int},            {"int?", Param::IntOpt},
      {"float", Param::Float},   {"float?", Param::FloatOpt},    {"bool", Param::Bool},
      {"str", Param::Str},       {"str?", Param::StrOpt},        {"axes", Param::Axes},
      {"ints", Param::Ints},     {"shape", Param::Shape},        {"dtype", Param::DTypeOpt},
      {"any", Param::Any}};
  auto it = kinds.find(k);
  if (it == kinds.end()) throw Error("op '" + op + "': unknown parameter kind '" + k + "'");
  return it->second;
}

void parse_signature(OpDef& d) {
  const std::string& sig = d.signature;
  size_t lp = sig.find('('), rp = sig.rfind(')');
  std::string name = trim(sig.substr(0, lp));
  if (d.name.empty()) d.name = name;
  d.py_signature = d.name + "(";
  bool first = true;
  for (auto& part : split_top(sig.substr(lp + 1, rp - lp - 1))) {
    Param p;
    size_t colon = part.find(':'), eq = part.find('=');
    p.name = trim(part.substr(0, colon));
    std::string kind = trim(part.substr(colon + 1, (eq == std::string::npos ? part.size() : eq) - colon - 1));
    p.kind = parse_kind(kind, d.name);
    std::string py = p.name;
    if (eq != std::string::npos) {
      p.has_default = true;
      std::string dv = trim(part.substr(eq + 1));
      p.def = parse_default(dv);
      py += "=" + dv;
    }
    d.py_signature += (first ? "" : ", ") + py;
    first = false;
    d.params.push_back(std::move(p));
  }
  d.py_signature += ")";
}

// The multi-result forms of a single-result op, so graph code needs only those.
void fill_multi_forms(OpDef& d) {
  if (d.infer && !d.infer_multi) {
    InferFn f = d.infer;
    d.infer_multi = [f](const std::vector<TypeInfo>& in, const Attrs& a) { return std::vector<TypeInfo>{f(in, a)}; };
  }
  if (d.forward && !d.forward_multi) {
    auto f = d.forward;
    d.forward_multi = [f](KernelCtx& ctx) { return std::vector<Tensor>{f(ctx)}; };
  }
  if (d.grad && !d.grad_multi) {
    GradFn f = d.grad;
    d.grad_multi = [f](const std::shared_ptr<Node>& n, const std::vector<Expr>& g) { return f(Expr(n), g[0]); };
  }
}

}  // namespace

static const OpDef* add_op(OpDef def) {
  parse_signature(def);
  fill_multi_forms(def);
  auto& t = table();
  if (t.by_name.count(def.name)) throw Error("op '" + def.name + "' registered twice");
  auto* p = new OpDef(std::move(def));
  t.by_name[p->name] = p;
  t.list.push_back(p);
  return p;
}

void register_op(OpDef def) { add_op(std::move(def)); }

void register_op(OpRef& ref, OpDef def) {
  if (ref.def_) throw Error("op handle of '" + ref.def_->name + "' bound twice");
  ref.def_ = add_op(std::move(def));
}

const OpDef& OpRef::operator*() const {
  ensure_registered();
  if (!def_) throw Error("an op handle was used but never registered");
  return *def_;  // bound by its family's register_* (registry_list.cpp), which ensure_registered ran
}

const OpDef* find_op(const std::string& name) {
  ensure_registered();
  auto& t = table();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : it->second;
}

const OpDef& get_op(const std::string& name) {
  const OpDef* d = find_op(name);
  if (!d) throw Error("no op named '" + name + "'");
  return *d;
}

const std::vector<const OpDef*>& all_ops() {
  ensure_registered();
  return table().list;
}

Expr make_node(const std::string& op, std::vector<Expr> inputs, Attrs attrs) {
  return make_node(get_op(op), std::move(inputs), std::move(attrs));
}

// Numbers given where a tensor is expected become constants: of the dtype of the call's first
// tensor argument when there is one (Keras: `1. - y` keeps y's dtype), else floatx / int32.
static Expr number_to_tensor(const Value& v, const Expr& ref) {
  DType t;
  if (ref && (is_floating(ref.dtype()) || v.kind != Value::Float)) t = ref.dtype();
  else t = v.kind == Value::Float ? config::floatx() : (v.kind == Value::Bool ? DType::bool_ : DType::int32);
  return constant(Tensor::scalar(v.as_double(), t));
}

static Expr default_build(const OpDef& op, std::vector<Value>& args) {
  std::vector<Expr> inputs;
  Attrs attrs;
  for (size_t k = 0; k < op.params.size(); ++k) {
    const Param& p = op.params[k];
    Value& v = args[k];
    switch (p.kind) {
      case Param::Tensor: inputs.push_back(Expr(v.t)); break;
      case Param::Tensors:
        for (auto& e : v.list) inputs.push_back(Expr(e.t));
        attrs.set("n", Value(static_cast<int64_t>(v.list.size())));
        break;
      default: attrs.set(p.name, v);
    }
  }
  return make_node(op, std::move(inputs), std::move(attrs));
}

// Errors raised inside an op's body (a composite's inner ops, dtype names) also name the op the
// user called: "[clip] [maximum] shapes (2, 3) and (4,) cannot be broadcast together".
template <class E>
[[noreturn]] static void rethrow_named(const std::string& op, const E& e) {
  std::string m = e.what();
  if (m.rfind("[" + op + "]", 0) == 0) throw e;
  throw E("[" + op + "] " + m);
}

static Expr call_checked(const OpDef& op, std::vector<Value> args);

Expr call(const std::string& name, std::vector<Value> args) {
  const OpDef& op = get_op(name);
  try {
    return call_checked(op, std::move(args));
  } catch (const ValueError& e) {
    rethrow_named(op.name, e);
  } catch (const TypeError& e) {
    rethrow_named(op.name, e);
  }
}

static Expr call_checked(const OpDef& op, std::vector<Value> args) {
  if (args.size() > op.params.size())
    fail_type(op.name, "takes " + std::to_string(op.params.size()) + " arguments but " + std::to_string(args.size()) +
                           " were given; signature " + op.py_signature);
  Expr ref;
  for (size_t k = 0; k < args.size() && !ref; ++k)
    if (args[k].kind == Value::Tensor) ref = Expr(args[k].t);
  for (size_t k = 0; k < op.params.size(); ++k) {
    const Param& p = op.params[k];
    if (k >= args.size()) {
      if (!p.has_default) fail_type(op.name, "missing required argument '" + p.name + "'; signature " + op.py_signature);
      args.push_back(p.def);
    }
    Value& v = args[k];
    switch (p.kind) {
      case Param::Tensor:
        if (v.kind == Value::Int || v.kind == Value::Float || v.kind == Value::Bool) v = Value(number_to_tensor(v, ref));
        else if (v.kind != Value::Tensor)
          fail_type(op.name, "argument '" + p.name + "' must be a tensor, got " + v.repr());
        break;
      case Param::TensorOpt:
        if (v.kind == Value::Int || v.kind == Value::Float || v.kind == Value::Bool) v = Value(number_to_tensor(v, ref));
        break;
      case Param::Tensors:
        if (v.kind != Value::List) fail_type(op.name, "argument '" + p.name + "' must be a list of tensors");
        for (auto& e : v.list) {
          if (e.kind == Value::Int || e.kind == Value::Float) e = Value(number_to_tensor(e, ref));
          if (e.kind != Value::Tensor) fail_type(op.name, "argument '" + p.name + "' must hold tensors, got " + e.repr());
        }
        break;
      case Param::Axes:
        if (v.kind == Value::Int) v = Value(std::vector<int64_t>{v.i});
        else if (v.kind == Value::List && v.list.empty()) v = Value(std::vector<int64_t>{});
        else if (v.kind != Value::None && v.kind != Value::Ints)
          fail_type(op.name, "'" + p.name + "' must be None, an int or a list of ints, got " + v.repr());
        break;
      case Param::Ints:
        if (v.kind == Value::Int) v = Value(std::vector<int64_t>{v.i});
        else if (v.kind == Value::List && v.list.empty()) v = Value(std::vector<int64_t>{});
        else if (v.kind != Value::Ints) fail_type(op.name, "'" + p.name + "' must be an int or a list of ints, got " + v.repr());
        break;
      case Param::Int:
        if (v.kind == Value::Float && v.f == static_cast<int64_t>(v.f)) v = Value(static_cast<int64_t>(v.f));
        if (v.kind != Value::Int && v.kind != Value::Bool)
          fail_type(op.name, "'" + p.name + "' must be an int, got " + v.repr());
        break;
      case Param::IntOpt:
        if (v.kind != Value::None && v.kind != Value::Int) fail_type(op.name, "'" + p.name + "' must be an int or None, got " + v.repr());
        break;
      case Param::Float:
        if (v.kind == Value::Int || v.kind == Value::Bool) v = Value(v.as_double());
        if (v.kind != Value::Float) fail_type(op.name, "'" + p.name + "' must be a number, got " + v.repr());
        break;
      case Param::FloatOpt:
        if (v.kind == Value::Int || v.kind == Value::Bool) v = Value(v.as_double());
        if (v.kind != Value::None && v.kind != Value::Float)
          fail_type(op.name, "'" + p.name + "' must be a number or None, got " + v.repr());
        break;
      case Param::Bool:
        if (v.kind == Value::Int) v = Value(v.i != 0);
        if (v.kind != Value::Bool) fail_type(op.name, "'" + p.name + "' must be a bool, got " + v.repr());
        break;
      case Param::Str:
        if (v.kind != Value::Str) fail_type(op.name, "'" + p.name + "' must be a string, got " + v.repr());
        break;
      case Param::StrOpt:
        if (v.kind != Value::None && v.kind != Value::Str) fail_type(op.name, "'" + p.name + "' must be a string or None, got " + v.repr());
        break;
      case Param::DTypeOpt:
        if (v.kind == Value::None) v = Value(std::string(dtype_name(config::floatx())));
        else if (v.kind != Value::Str) fail_type(op.name, "'" + p.name + "' must be a dtype name, got " + v.repr());
        else v = Value(std::string(dtype_name(dtype_from_name(v.s))));
        break;
      case Param::Scalar:
        if (v.kind == Value::Int || v.kind == Value::Bool) v = Value(v.as_double());
        if (v.kind != Value::None && v.kind != Value::Float && v.kind != Value::Tensor)
          fail_type(op.name, "'" + p.name + "' must be a number, a tensor or None, got " + v.repr());
        break;
      case Param::Shape:
      case Param::Any: break;
    }
  }
  return op.build ? op.build(op, args) : default_build(op, args);
}

}  // namespace keras_cpp
