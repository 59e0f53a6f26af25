// cpp/ops/tuple.cpp — multi-result ops (layout and gradient convention in ops/tuple.h):
// _tuple_get, its VJP helper _tuple_put, and _make_tuple.
#include "ops/tuple.h"

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

constexpr uint64_t kTupleMagic = 0x6b635f7475706c65ull;  // "kc_tuple"

struct TupleBox {
  uint64_t magic = kTupleMagic;
  std::vector<Tensor> items;
};


TypeInfo type_from_value(const Value& v) {
  const auto& l = v.list;
  return TypeInfo{l[0].ints, dtype_from_name(l[1].s), l[2].b};
}

const Value& types_of(const Attrs& a, const char* op) {
  if (!a.has("tuple_types")) fail_value(op, "internal: input 0 is not a tuple-valued node");
  return a.get("tuple_types");
}

// Offsets of the float results inside a packed gradient (-1 for the others); returns the total.
int64_t packed_layout(const std::vector<Tensor>& items, const Value& types, std::vector<int64_t>& off) {
  int64_t total = 0;
  off.assign(types.list.size(), -1);
  for (size_t j = 0; j < types.list.size(); ++j) {
    if (!is_floating(type_from_value(types.list[j]).dtype)) continue;
    off[j] = total;
    total += items[j].numel();
  }
  return total;
}

}  // namespace

Tensor make_tuple_tensor(std::vector<Tensor> items, DType dtype) {
  auto* box = new TupleBox;
  box->items = std::move(items);
  auto st = Storage::wrap(box, sizeof(TupleBox), [box] { delete box; }, false);
  return Tensor(st, {0}, {1}, 0, dtype);
}

const std::vector<Tensor>& tuple_items(const Tensor& t, const char* op) {
  const auto& s = t.storage();
  auto* box = s && !s->owned() && s->nbytes() == sizeof(TupleBox) ? static_cast<TupleBox*>(s->data()) : nullptr;
  if (!box || box->magic != kTupleMagic) fail_value(op, "internal: expected a tuple value");
  return box->items;
}

Value tuple_types(const std::vector<TypeInfo>& likes) {
  std::vector<Value> r;
  for (auto& t : likes) r.push_back(Value(std::vector<Value>{Value(t.shape), Value(std::string(dtype_name(t.dtype))), Value(t.rank_known)}));
  return Value(r);
}

TypeInfo tuple_node_type(const Attrs& a) {
  const Value& types = types_of(a, "tuple");
  bool f64 = false;
  for (auto& v : types.list) f64 = f64 || type_from_value(v).dtype == DType::float64;
  return TypeInfo{{static_cast<int64_t>(types.list.size())}, f64 ? DType::float64 : DType::float32, true};
}

Expr tuple_get(const Expr& tup, int64_t i) { return call("_tuple_get", {tup, Value(i)}); }

Expr make_tuple(const std::vector<Expr>& parts) {
  std::vector<Value> v;
  for (auto& p : parts) v.push_back(Value(p));
  return call("_make_tuple", {Value(v)});
}

std::vector<Tensor> unpack_tuple_grad(const Tensor& packed, const Tensor& tup, const Attrs& a) {
  const auto& items = tuple_items(tup, "tuple gradient");
  const Value& types = types_of(a, "tuple gradient");
  std::vector<int64_t> off;
  int64_t total = packed_layout(items, types, off);
  if (packed.numel() != total) fail_value("tuple gradient", "internal: packed gradient has the wrong size");
  std::vector<Tensor> r(off.size());
  for (size_t j = 0; j < off.size(); ++j)
    if (off[j] >= 0) r[j] = packed.slice(0, off[j], off[j] + items[j].numel(), 1).reshape(items[j].shape());
  return r;
}

void register_tuple() {
  OpDef g = def("_tuple_get(tuple: tensor, index: int)", "Result `index` of a multi-result (tuple-valued) node, as a view.");
  g.build = [](const OpDef& op, std::vector<Value>& a) {
    Expr t(a[0].t);
    const Value& types = types_of(t->attrs, "_tuple_get");
    int64_t i = a[1].i;
    if (i < 0 || i >= static_cast<int64_t>(types.list.size())) fail_value("_tuple_get", "index out of range");
    if (t->op && t->op->name == "_make_tuple") return Expr(t->inputs[static_cast<size_t>(i)]);
    Attrs at;
    at.set("index", Value(i));
    at.set("type", types.list[static_cast<size_t>(i)]);
    return make_node(op, {t}, at);
  };
  g.infer = [](const std::vector<TypeInfo>&, const Attrs& a) { return type_from_value(a.get("type")); };
  g.forward = [](KernelCtx& ctx) { return tuple_items(ctx.in[0], "_tuple_get").at(static_cast<size_t>(ctx.attrs().i("index"))); };
  g.grad = [](const Expr& y, const Expr& gy) {
    if (!is_floating(y.dtype())) return std::vector<Expr>{Expr()};
    Attrs at;
    at.set("index", y->attrs.get("index"));
    at.set("tuple_types", y->inputs[0]->attrs.get("tuple_types"));
    return std::vector<Expr>{make_node("_tuple_put", {Expr(y->inputs[0]), gy}, at)};
  };
  g.flags = kView;
  register_op(g);

  OpDef p = def("_tuple_put(tuple: tensor, g: tensor)",
                "A packed tuple gradient (ops/tuple.h) holding g in result `index`'s slot and zeros elsewhere.");
  p.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return TypeInfo{{kUnknownDim}, in[0].dtype, true}; };
  p.forward = [](KernelCtx& ctx) {
    const auto& items = tuple_items(ctx.in[0], "_tuple_put");
    std::vector<int64_t> off;
    int64_t total = packed_layout(items, ctx.attrs().get("tuple_types"), off);
    size_t i = static_cast<size_t>(ctx.attrs().i("index"));
    Tensor out = Tensor::zeros({total}, ctx.in[0].dtype());
    Tensor dst = out.slice(0, off[i], off[i] + items[i].numel(), 1).reshape(items[i].shape());
    if (ctx.in[1].shape() != dst.shape()) fail_value("_tuple_put", "internal: gradient shape differs from its result's");
    copy_into(ctx.in[1], dst);
    return out;
  };
  p.flags = kNonDiff;
  register_op(p);

  // Only a build-time carrier: _tuple_get folds it away, so it is never run or differentiated.
  OpDef m = def("_make_tuple(parts: tensors)", "Several tensors as one tuple-valued node (read them with _tuple_get).");
  m.build = [](const OpDef& op, std::vector<Value>& a) {
    std::vector<Expr> ins;
    std::vector<TypeInfo> types;
    for (auto& v : a[0].list) {
      ins.push_back(Expr(v.t));
      types.push_back(type_of(ins.back()));
    }
    Attrs at;
    at.set("tuple_types", tuple_types(types));
    return make_node(op, ins, at);
  };
  m.infer = [](const std::vector<TypeInfo>&, const Attrs& a) { return tuple_node_type(a); };
  m.forward = [](KernelCtx& ctx) { return make_tuple_tensor(ctx.in, tuple_node_type(ctx.attrs()).dtype); };
  m.flags = kNonDiff;
  register_op(m);
}

}  // namespace keras_cpp
