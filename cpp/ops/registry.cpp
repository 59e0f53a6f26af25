// cpp/ops/registry.cpp — the op table, signature parsing, and `call` (Keras args -> node).
#include "ops/registry.h"

#include <cctype>
#include <cmath>
#include <map>
#include <mutex>

#include "keras_cpp/config.h"
#include "ops/families.h"
#include "ops/helpers.h"

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

// A kind name: "int", "tensor?", "ints[2]", "pairs[3]", "ints[2]?"...
void parse_kind(const std::string& k, const std::string& op, Param& p) {
  static const std::map<std::string, Param::Kind> kinds = {
      {"tensor", Param::Tensor},   {"tensor?", Param::TensorOpt}, {"tensors", Param::Tensors},
      {"scalar", Param::Scalar},   {"number", Param::Number},     {"int", Param::Int},
      {"int?", Param::IntOpt},     {"float", Param::Float},       {"float?", Param::FloatOpt},
      {"bool", Param::Bool},       {"str", Param::Str},           {"str?", Param::StrOpt},
      {"axes", Param::Axes},       {"ints", Param::Ints},         {"shape", Param::Shape},
      {"indices", Param::Indices}, {"dtype", Param::DTypeOpt},    {"data_format", Param::DataFormat},
      {"ints[]", Param::IntsN},    {"pairs[]", Param::Pairs}};
  std::string base = k;
  if (base.size() > 1 && base.back() == '?' && base != "tensor?" && base != "int?" && base != "float?" && base != "str?") {
    p.optional = true;
    base.pop_back();
  }
  size_t lb = base.find('['), rb = base.find(']');
  if (lb != std::string::npos && rb == base.size() - 1 && rb > lb + 1) {
    p.n = std::stoi(base.substr(lb + 1, rb - lb - 1));
    base = base.substr(0, lb) + "[]";
  }
  auto it = kinds.find(base);
  if (it == kinds.end()) throw Error("op '" + op + "': unknown parameter kind '" + k + "'");
  p.kind = it->second;
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
    parse_kind(kind, d.name, p);
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

// Errors raised inside an op's body (a composite's inner ops, dtype names) also name the op the
// user called: "[clip] [maximum] shapes (2, 3) and (4,) cannot be broadcast together".
// Not prefixed again when the leading "[a] [b] " chain already names op, nor by a private op
// (leading underscore) when some op is named already.
template <class E>
[[noreturn]] static void rethrow_named(const std::string& op, const E& e) {
  std::string m = e.what();
  for (size_t i = 0; i < m.size() && m[i] == '[';) {
    size_t j = m.find(']', i);
    if (j == std::string::npos) break;
    if (m.compare(i + 1, j - i - 1, op) == 0) throw e;
    i = j + 1;
    while (i < m.size() && m[i] == ' ') ++i;
  }
  if (op[0] == '_' && !m.empty() && m[0] == '[') throw e;
  throw E("[" + op + "] " + m);
}

// A result that contradicts its node's static type raises instead of flowing on silently.
static void check_result(const Node& n, size_t k, const Tensor& out) {
  if (!out.defined()) return;  // an unused result the kernel skipped
  const TypeInfo& t = n.type(k);
  bool ok = (!t.rank_known || out.ndim() == t.ndim()) && out.dtype() == t.dtype;
  for (int i = 0; ok && t.rank_known && i < t.ndim(); ++i) ok = t.shape[i] < 0 || t.shape[i] == out.shape()[i];
  if (!ok)
    fail_value(n.op->name, "inputs of shapes that differ from the static ones gave a result" +
                               (n.num_outputs() > 1 ? " " + std::to_string(k) : std::string()) + " of shape " +
                               shape_str(out.shape()) + " " + dtype_name(out.dtype()) + ", but the static type is " +
                               shape_str(t.shape) + " " + dtype_name(t.dtype));
}

// Runs one kernel call: errors name the op; a node built on an input of unknown rank is checked
// by infer again on the concrete types (build time could not check the rank).
template <class F>
static auto guarded(KernelCtx& ctx, F&& body) -> decltype(body()) {
  const Node& n = ctx.node;
  try {
    for (const auto& in : n.inputs)
      if (!in.rank_known()) {
        std::vector<TypeInfo> ins;
        ins.reserve(ctx.in.size());
        for (auto& t : ctx.in) ins.push_back(type_of(t));
        n.op->infer_multi(ins, n.attrs);
        break;
      }
    return body();
  } catch (const ValueError& e) {
    if (e.what()[0] == '[') throw;  // already names an op (a composite's checks name the public one)
    rethrow_named(n.op->name, e);
  } catch (const TypeError& e) {
    if (e.what()[0] == '[') throw;
    rethrow_named(n.op->name, e);
  }
}

// Wraps the kernel in those run-time guards. Runs before fill_multi_forms, which then derives
// forward_multi from the guarded forward.
static void guard_forward(OpDef& d) {
  if (d.forward) {
    d.forward = [f = std::move(d.forward)](KernelCtx& ctx) -> Tensor {
      return guarded(ctx, [&] {
        Tensor out = f(ctx);
        check_result(ctx.node, 0, out);
        return out;
      });
    };
  } else if (d.forward_multi) {
    d.forward_multi = [f = std::move(d.forward_multi)](KernelCtx& ctx) -> std::vector<Tensor> {
      return guarded(ctx, [&] {
        std::vector<Tensor> outs = f(ctx);
        for (size_t k = 0; k < outs.size() && k < ctx.node.num_outputs(); ++k) check_result(ctx.node, k, outs[k]);
        return outs;
      });
    };
  }
}

static const OpDef* add_op(OpDef def) {
  parse_signature(def);
  guard_forward(def);
  fill_multi_forms(def);
  if (def.ew.kind != OpDef::EwForm::none || (def.flags & kElementwise)) def.flags |= kShapeFromShapes;
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

namespace {

[[noreturn]] void bad_kind(const OpDef& op, const Param& p, const std::string& what, const Value& v) {
  fail_type(op.name, "'" + p.name + "' must be " + what + ", got " + v.repr());
}

bool is_number(const Value& v) { return v.kind == Value::Int || v.kind == Value::Float || v.kind == Value::Bool; }

void convert_tensors(const OpDef& op, const Param& p, Value& v, const Expr& ref) {
  if (v.kind != Value::List) fail_type(op.name, "argument '" + p.name + "' must be a list of tensors");
  for (auto& e : v.list) {
    if (e.kind == Value::Int || e.kind == Value::Float) e = Value(number_to_tensor(e, ref));
    if (e.kind != Value::Tensor) fail_type(op.name, "argument '" + p.name + "' must hold tensors, got " + e.repr());
  }
}

// int or list of ints -> Ints (Axes also takes None).
void convert_ints(const OpDef& op, const Param& p, Value& v, bool none_ok) {
  if (v.kind == Value::Int) v = Value(std::vector<int64_t>{v.i});
  else if (v.kind == Value::List && v.list.empty()) v = Value(std::vector<int64_t>{});
  else if (v.kind != Value::Ints && !(none_ok && v.kind == Value::None))
    bad_kind(op, p, none_ok ? "None, an int or a list of ints" : "an int or a list of ints", v);
}

// ints[n]: an int stands for n copies (Keras: strides=2 is (2, 2)); None only where it is the
// default (batch_dot's axes). A sequence of the wrong length or content is a ValueError.
void convert_ints_n(const OpDef& op, const Param& p, Value& v) {
  if (v.is_none() && p.has_default && p.def.is_none()) return;
  const std::string n = std::to_string(p.n);
  if (v.kind == Value::Int) v = Value(std::vector<int64_t>(p.n, v.i));
  if (v.kind == Value::List) {  // numpy ints arrive as a list of Int values
    std::vector<int64_t> r;
    for (auto& e : v.list)
      if (e.kind == Value::Int) r.push_back(e.i);
    if (r.size() != v.list.size()) fail_value(op.name, "'" + p.name + "' must be an int or a tuple of " + n + " ints, got " + v.repr());
    v = Value(r);
  }
  if (v.kind != Value::Ints) bad_kind(op, p, "an int or a tuple of " + n + " ints", v);
  if (static_cast<int>(v.ints.size()) != p.n) fail_value(op.name, "'" + p.name + "' must have " + n + " entries, got " + v.repr());
}

// An int pair given as a tuple/list (numpy ints arrive as a list of Int values).
bool pair_of(const Value& v, std::vector<int64_t>& out) {
  if (v.kind == Value::Ints && v.ints.size() == 2) {
    out.insert(out.end(), v.ints.begin(), v.ints.end());
    return true;
  }
  if (v.kind == Value::List && v.list.size() == 2 && v.list[0].kind == Value::Int && v.list[1].kind == Value::Int) {
    out.insert(out.end(), {v.list[0].i, v.list[1].i});
    return true;
  }
  return false;
}

// pairs[n]: n (before, after) pairs, flattened; pairs[1] is the pair itself (temporal padding).
void convert_pairs(const OpDef& op, const Param& p, Value& v) {
  std::vector<int64_t> out;
  const int n = p.n;
  bool ok = n == 1 ? pair_of(v, out) : (v.kind == Value::List && static_cast<int>(v.list.size()) == n);
  for (int i = 0; ok && n > 1 && i < n; ++i) ok = pair_of(v.list[i], out);
  for (int64_t e : out) ok = ok && e >= 0;
  if (!ok)
    fail_value(op.name, "'" + p.name + "' must be " + (n == 1 ? "a pair (left, right)" : std::to_string(n) + " (before, after) pairs") +
                            " of non-negative ints, got " + v.repr());
  v = Value(out);
}

void convert_number(const OpDef& op, const Param& p, Value& v) {
  if (v.kind == Value::Bool) v = Value(static_cast<int64_t>(v.b));
  if (p.optional && v.is_none()) return;
  if (v.kind == Value::Tensor) {
    Expr t(v.t);
    if (!t.rank_known() || t.ndim() != 0) fail_value(op.name, "'" + p.name + "' must be a scalar tensor, got shape " + shape_str(t.shape()));
    if (t.dtype() == DType::bool_) fail_type(op.name, "'" + p.name + "' must be numeric, got a bool tensor");
  } else if (v.kind != Value::Int && v.kind != Value::Float) {
    bad_kind(op, p, "a number or a scalar tensor", v);
  }
}

Shape nested_shape(const Value& v) {
  Shape s;
  const Value* q = &v;
  while (q->kind == Value::List || q->kind == Value::Ints) {
    if (q->kind == Value::Ints) { s.push_back(static_cast<int64_t>(q->ints.size())); break; }
    s.push_back(static_cast<int64_t>(q->list.size()));
    if (q->list.empty()) break;
    q = &q->list[0];
  }
  return s;
}

bool flatten_nested(const Value& v, const Shape& s, size_t d, std::vector<int32_t>& out) {
  if (d == s.size() && v.kind == Value::Int) { out.push_back(static_cast<int32_t>(v.i)); return true; }
  if (d + 1 == s.size() && v.kind == Value::Ints && static_cast<int64_t>(v.ints.size()) == s[d]) {
    for (int64_t i : v.ints) out.push_back(static_cast<int32_t>(i));
    return true;
  }
  if (d < s.size() && v.kind == Value::List && static_cast<int64_t>(v.list.size()) == s[d]) {
    for (const Value& e : v.list)
      if (!flatten_nested(e, s, d + 1, out)) return false;
    return true;
  }
  return false;
}

// indices: an int tensor as it is; an int or a rectangular nested list of ints -> int32 constant.
void convert_indices(const OpDef& op, const Param& p, Value& v) {
  if (v.kind == Value::Tensor) return;
  if (v.kind != Value::Int && v.kind != Value::Ints && v.kind != Value::List)
    bad_kind(op, p, "an int tensor or a (nested) list of ints", v);
  Shape s = v.kind == Value::Int ? Shape{} : nested_shape(v);
  std::vector<int32_t> flat;
  if (!flatten_nested(v, s, 0, flat)) bad_kind(op, p, "an int tensor or a rectangular nested list of ints", v);
  v = Value(constant(Tensor::from_data(flat.data(), s, DType::int32)));
}

// Keras normalize_data_format: None -> image_data_format(); case-insensitive.
void convert_data_format(const OpDef& op, const Param& p, Value& v) {
  if (v.kind != Value::None && v.kind != Value::Str) bad_kind(op, p, "'channels_first', 'channels_last' or None", v);
  v = Value(data_format_arg(op.name, v.is_none() ? "" : v.s));
}

void convert_int(const OpDef& op, const Param& p, Value& v) {
  if (v.kind == Value::Bool) v = Value(int64_t{v.b});  // Python and numpy: True is 1
  if (p.kind == Param::IntOpt) {
    if (v.kind != Value::None && v.kind != Value::Int) bad_kind(op, p, "an int or None", v);
    return;
  }
  // a whole float in int64 range (static_cast of a larger one is undefined)
  if (v.kind == Value::Float && v.f == std::trunc(v.f) && std::abs(v.f) < 9.2e18) v = Value(static_cast<int64_t>(v.f));
  if (v.kind != Value::Int) bad_kind(op, p, "an int", v);
}

void convert_float(const OpDef& op, const Param& p, Value& v) {
  if (v.kind == Value::Int || v.kind == Value::Bool) v = Value(v.as_double());
  if (p.kind == Param::Scalar) {
    if (v.kind != Value::None && v.kind != Value::Float && v.kind != Value::Tensor) bad_kind(op, p, "a number, a tensor or None", v);
  } else if (v.kind != Value::Float && !(p.kind == Param::FloatOpt && v.is_none())) {
    bad_kind(op, p, p.kind == Param::Float ? "a number" : "a number or None", v);
  }
}

void convert_scalars(const OpDef& op, const Param& p, Value& v) {
  switch (p.kind) {
    case Param::Int:
    case Param::IntOpt: convert_int(op, p, v); break;
    case Param::Float:
    case Param::FloatOpt:
    case Param::Scalar: convert_float(op, p, v); break;
    case Param::Bool:
      if (v.kind == Value::Int) v = Value(v.i != 0);
      if (v.kind != Value::Bool) bad_kind(op, p, "a bool", v);
      break;
    case Param::Str:
    case Param::StrOpt:
      if (v.kind != Value::Str && !(p.kind == Param::StrOpt && v.is_none()))
        bad_kind(op, p, p.kind == Param::Str ? "a string" : "a string or None", v);
      break;
    default: break;
  }
}

// Argument v of parameter p in its canonical form (Param's comments), or a TypeError/ValueError
// naming the op and the parameter.
void convert_arg(const OpDef& op, const Param& p, Value& v, const Expr& ref) {
  switch (p.kind) {
    case Param::Tensor:
      if (is_number(v)) v = Value(number_to_tensor(v, ref));
      else if (v.kind != Value::Tensor) fail_type(op.name, "argument '" + p.name + "' must be a tensor, got " + v.repr());
      break;
    case Param::TensorOpt:
      if (is_number(v)) v = Value(number_to_tensor(v, ref));
      else if (v.kind != Value::Tensor && v.kind != Value::None)
        fail_type(op.name, "argument '" + p.name + "' must be a tensor or None, got " + v.repr());
      break;
    case Param::Tensors: convert_tensors(op, p, v, ref); break;
    case Param::Axes: convert_ints(op, p, v, true); break;
    case Param::Ints: convert_ints(op, p, v, false); break;
    case Param::IntsN: convert_ints_n(op, p, v); break;
    case Param::Pairs: convert_pairs(op, p, v); break;
    case Param::Number: convert_number(op, p, v); break;
    case Param::Indices: convert_indices(op, p, v); break;
    case Param::DataFormat: convert_data_format(op, p, v); break;
    case Param::DTypeOpt:  // None (floatx) only where the parameter has a default (cast's dtype is required)
      if ((v.kind != Value::None || !p.has_default) && v.kind != Value::Str) bad_kind(op, p, "a dtype name", v);
      v = dtype_value(v.is_none() ? config::floatx() : dtype_from_name(v.s));
      break;
    case Param::Shape: break;  // parsed with the op's other shape arguments (ops/shape_arg.cpp, encode_ints)
    default: convert_scalars(op, p, v);
  }
}

}  // namespace

std::string data_format_arg(const std::string& op, const std::string& given) {
  std::string f = given.empty() ? config::image_data_format() : given, low;
  for (char c : f) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (low != "channels_first" && low != "channels_last")
    fail_value(op, "Unknown data_format: '" + f + "' (expected 'channels_first' or 'channels_last')");
  return low;
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
    convert_arg(op, p, args[k], ref);
  }
  return op.build ? op.build(op, args) : default_build(op, args);
}

}  // namespace keras_cpp
