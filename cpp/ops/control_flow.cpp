// cpp/ops/control_flow.cpp — map_fn, foldl/foldr and switch. The callable of map_fn/foldl/foldr
// (a C++ function, or a Python one wrapped by the binding) is traced once on placeholders into a
// body graph that a loop node holds in its attrs (layout in ops/loop.h); the kernel compiles the
// body once per plan into a Function and runs it per element in C++. Gradients:
// control_flow_grad.cpp.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include "graph/topo.h"
#include "ops/helpers.h"
#include "ops/loop.h"

namespace keras_cpp {
namespace {

constexpr int64_t kNone = INT64_MIN;  // None inside _getitem specs
OpRef kMapFn, kFold, kSwitch, kSwitchPick;

// Outer tensors the body reads: the loop-invariant inputs of body nodes that depend on the
// body's placeholders. Random and stateful ops made while tracing fn (node ids are creation
// order) count as per-element; ones made before fn ran are outer tensors, evaluated once.
// Constants stay inside; invariant subgraphs are hoisted out of the loop and computed once.
std::vector<Expr> find_captured(const std::vector<Expr>& outs, const std::vector<Expr>& params) {
  std::unordered_set<Node*> variant;
  uint64_t traced_from = UINT64_MAX;
  for (auto& p : params) {
    variant.insert(p.node().get());
    traced_from = std::min(traced_from, p->id);
  }
  std::vector<Node*> roots;
  for (auto& o : outs) roots.push_back(o.node().get());
  std::vector<Node*> order = topo_order(roots, variant);
  for (Node* n : order) {
    if (variant.count(n) || n->kind != NodeKind::op) continue;
    bool v = (n->op->flags & (kRandom | kStateful)) != 0 && n->id > traced_from;
    for (auto& in : n->inputs) v = v || variant.count(in.node().get());
    if (v) variant.insert(n);
  }
  std::vector<Expr> cap;
  std::unordered_set<Expr, ExprHash> seen;
  auto take = [&](const Expr& e) {
    if (!variant.count(e.node().get()) && e->kind != NodeKind::constant && seen.insert(e).second) cap.push_back(e);
  };
  for (Node* n : order)
    if (variant.count(n) && n->kind == NodeKind::op)
      for (auto& in : n->inputs) take(in);
  for (auto& o : outs) take(o);
  return cap;
}

// Build a map/fold loop node: `inputs` are elems (and init); `params` the placeholders fn was traced on.
Expr make_loop(const std::string& mode, std::vector<Expr> inputs, const std::vector<Expr>& params, const Expr& out,
               const Value& dtype) {
  Attrs a;
  a.set("mode", Value(mode));
  a.set("dtype", dtype);
  return make_loop_node(mode == "map" ? *kMapFn : *kFold, a, std::move(inputs), params, {out});
}


void check_elems(const Expr& elems, const char* op) {
  if (!elems.rank_known() || elems.ndim() < 1)
    fail_value(op, "elems must be a tensor of rank >= 1 (it is iterated along axis 0), got shape " +
                       (elems.rank_known() ? shape_str(elems.shape()) : std::string("<unknown rank>")));
}

// Static shapes agree where both are known.
bool compatible(const Expr& a, const Expr& b) {
  if (!a.rank_known() || !b.rank_known()) return true;
  if (a.ndim() != b.ndim()) return false;
  for (int i = 0; i < a.ndim(); ++i)
    if (a.shape()[i] >= 0 && b.shape()[i] >= 0 && a.shape()[i] != b.shape()[i]) return false;
  return true;
}

TypeInfo loop_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const auto& body = a.get("body").list;
  if (body.size() != in.size() + 1) fail_value(a.s("mode"), "internal: loop body and inputs disagree");
  if (!in[0].rank_known || in[0].ndim() < 1) fail_value(a.s("mode"), "elems must have rank >= 1");
  if (a.s("mode") != "map") return in[1];
  const Expr& out = body.back().t;
  TypeInfo r;
  r.dtype = a.has("dtype") ? a.dtype("dtype") : out.dtype();
  r.rank_known = out.rank_known();
  r.shape = {in[0].shape[0]};
  r.shape.insert(r.shape.end(), out.shape().begin(), out.shape().end());
  return r;
}

Tensor map_forward(KernelCtx& ctx) {
  const Node& n = ctx.node;
  Function& f = loop_function(ctx, false, [&] { return compile_loop_body(n); });
  const Tensor& xs = ctx.in[0];
  int64_t len = xs.shape()[0];
  std::vector<Tensor> feeds(ctx.in.begin(), ctx.in.end());
  Tensor out;
  Shape es;
  for (int64_t i = 0; i < len; ++i) {
    feeds[0] = loop_row(xs, i);
    Tensor y = f(feeds)[0];
    if (i == 0) {
      es = y.shape();
      Shape s{len};
      s.insert(s.end(), es.begin(), es.end());
      out = ctx.alloc_tensor(s, n.type().dtype);
    } else if (y.shape() != es) {
      fail_value("map_fn", "fn returned shape " + shape_str(y.shape()) + " for element " + std::to_string(i) + " but " +
                               shape_str(es) + " for element 0; all results must have one shape");
    }
    Tensor dst = loop_row(out, i);
    copy_into(y, dst);
  }
  if (len == 0) {  // nothing ran: the static shape of fn's result (unknown dims -> 0)
    Shape s{0};
    for (int64_t d : loop_body(n).back().shape()) s.push_back(std::max<int64_t>(d, 0));
    out = ctx.alloc_tensor(s, n.type().dtype);
  }
  return out;
}

// switch with a scalar condition: the whole chosen branch (a view, no elementwise work).
TypeInfo pick_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  if (in[0].rank_known && in[0].ndim() != 0) fail_value("switch", "internal: the condition of a whole-branch switch must be a scalar");
  Shape s = broadcast_shapes(in[1].shape, in[2].shape, "switch");
  return TypeInfo{s, promote_types(in[1].dtype, in[2].dtype), in[1].rank_known && in[2].rank_known};
}

Tensor pick_forward(KernelCtx& ctx) {
  if (ctx.in[0].numel() != 1) fail_value("switch", "a scalar condition was expected, got shape " + shape_str(ctx.in[0].shape()));
  const int k = ctx.in[0].item() != 0 ? 1 : 2;
  if (!ctx.in[3 - k].defined()) return ctx.in[k];  // the plan skipped the other branch (same static type)
  Shape s = broadcast_shapes(ctx.in[1].shape(), ctx.in[2].shape(), "switch");
  DType dt = promote_types(ctx.in[1].dtype(), ctx.in[2].dtype());
  Tensor r = ctx.in[ctx.in[0].item() != 0 ? 1 : 2].astype(dt);
  return r.shape() == s ? r : r.broadcast_to(s);
}

Tensor fold_forward(KernelCtx& ctx) {
  Function& f = loop_function(ctx, false, [&] { return compile_loop_body(ctx.node); });
  return run_fold(ctx.node, f, ctx.in, nullptr);
}

std::vector<Expr> pick_grad(const Expr& y, const Expr& g) {
  Expr c(y->inputs[0]), z = zeros_like(g, g.dtype());
  return std::vector<Expr>{Expr(), sum_to(make_node(kSwitchPick, {c, g, z}), Expr(y->inputs[1])),
                           sum_to(make_node(kSwitchPick, {c, z, g}), Expr(y->inputs[2]))};
}

Expr switch_build(const OpDef&, std::vector<Value>& a) { return switch_(Expr(a[0].t), Expr(a[1].t), Expr(a[2].t)); }

}  // namespace

// ---------------------------------------------------------------- shared loop helpers (loop.h)
Function& loop_function(KernelCtx& ctx, bool backward, const std::function<Function*()>& make) {
  LoopState& st = ctx.state_as<LoopState>();
  std::unique_ptr<Function>& f = backward ? st.bwd : st.fwd;
  if (!f) f.reset(make());
  return *f;
}

std::vector<Expr> loop_body(const Node& n) {
  std::vector<Expr> r;
  for (auto& v : n.attrs.get("body").list) r.push_back(Expr(v.t));
  return r;
}

std::vector<Expr> loop_body_inputs(const Node& n) {
  std::vector<Expr> b = loop_body(n);
  b.resize(b.size() - loop_nouts(n));
  return b;
}

std::vector<Expr> loop_body_outputs(const Node& n) {
  std::vector<Expr> b = loop_body(n);
  return std::vector<Expr>(b.end() - static_cast<std::ptrdiff_t>(loop_nouts(n)), b.end());
}

Function* compile_loop_body(const Node& n) { return new Function(loop_body_inputs(n), loop_body_outputs(n)); }

// Copy the body with `remap`ped leaves (captured tensors -> placeholders), so the stored body is
// closed: its gradient graph stops at the captured tensors and nested loops clone safely.
std::vector<Expr> clone_graph(const std::vector<Expr>& outs, std::unordered_map<Expr, Expr, ExprHash>& remap) {
  ControlDependencies none({}, true);  // copies never pick up the caller's control_dependencies scope
  std::unordered_set<Node*> stop;
  for (auto& [k, v] : remap) stop.insert(k.node().get());
  std::vector<Node*> roots;
  std::unordered_map<Node*, std::shared_ptr<Node>> owner;
  for (auto& o : outs) {
    roots.push_back(o.node().get());
    owner[o.node().get()] = o.node();
  }
  std::vector<Node*> order = topo_order(roots, stop);
  for (Node* n : order)
    for (auto& in : n->inputs) owner.emplace(in.node().get(), in.node());
  for (Node* n : order) {
    if (stop.count(n) || n->kind != NodeKind::op) continue;
    if ((n->op->flags & kAssign) && remap.count(n->inputs[0]))
      fail_value(n->attrs.s("op"), "updating a variable inside a map_fn/foldl/foldr/rnn body is not supported");
    std::vector<Expr> ins;
    for (auto& in : n->inputs) ins.push_back(remap.count(in) ? remap[in] : in);
    Expr c = make_node(*n->op, ins, n->attrs);
    c->name = n->name;
    for (uint32_t k = 0; k < n->num_outputs(); ++k) remap[Expr(owner.at(n), k)] = Expr(c.node(), k);
  }
  std::vector<Expr> r;
  for (auto& o : outs) r.push_back(remap.count(o) ? remap[o] : o);
  return r;
}
Expr make_loop_node(const OpDef& op, Attrs a, std::vector<Expr> inputs, const std::vector<Expr>& params,
                    const std::vector<Expr>& outs) {
  std::vector<Expr> cap = find_captured(outs, params);
  std::unordered_map<Expr, Expr, ExprHash> remap;
  std::vector<Value> body;
  for (auto& p : params) {
    remap[p] = p;
    body.push_back(Value(p));
  }
  for (auto& c : cap) {
    Expr ph = placeholder(c.shape(), c.dtype(), "captured", c.rank_known());
    remap[c] = ph;
    body.push_back(Value(ph));
    inputs.push_back(c);
  }
  for (auto& o : clone_graph(outs, remap)) body.push_back(Value(o));
  a.set("body", Value(body));
  a.set("nparams", Value(static_cast<int64_t>(params.size())));
  a.set("nouts", Value(static_cast<int64_t>(outs.size())));
  return make_node(op, inputs, a);
}

const char* loop_name(const Node& n) {
  const std::string& m = n.attrs.s("mode");
  return m == "map" ? "map_fn" : m == "foldl" ? "foldl" : m == "foldr" ? "foldr" : "rnn";
}

Tensor loop_slice(const Tensor& t, int axis, int64_t i) {
  Shape sh = t.shape(), st = t.strides();
  int64_t off = t.offset() + i * st[axis];
  sh.erase(sh.begin() + axis);
  st.erase(st.begin() + axis);
  return Tensor(t.storage(), sh, st, off, t.dtype());
}

int64_t fold_index(const Node& n, int64_t t, int64_t len) { return n.attrs.s("mode") == "foldr" ? len - 1 - t : t; }

Tensor run_fold(const Node& n, Function& body, const std::vector<Tensor>& in, std::vector<Tensor>* trace) {
  const Tensor& xs = in[0];
  int64_t len = xs.shape()[0];
  size_t nfeeds = loop_body_inputs(n).size();
  std::vector<Tensor> feeds(in.begin(), in.begin() + nfeeds);  // (acc, element, captured...)
  Tensor acc = in[1];
  for (int64_t t = 0; t < len; ++t) {
    if (trace) trace->push_back(acc);
    feeds[0] = acc;
    feeds[1] = loop_row(xs, fold_index(n, t, len));
    Tensor y = body(feeds)[0];
    if (y.shape() != acc.shape())
      fail_value(loop_name(n), "fn returned shape " + shape_str(y.shape()) + " for an accumulator of shape " + shape_str(acc.shape()) +
                                   " (the result must keep the accumulator's shape)");
    acc = y;
  }
  return acc;
}

// ---------------------------------------------------------------- C++ API
Expr map_fn(const std::function<Expr(const Expr&)>& fn, const Expr& elems, std::optional<DType> dtype, const std::string& name) {
  check_elems(elems, "map_fn");
  Shape es(elems.shape().begin() + 1, elems.shape().end());
  Expr x = placeholder(es, elems.dtype(), (name.empty() ? "map_fn" : name) + "/element");
  Expr out = fn(x);
  if (!out) fail_type("map_fn", "fn must return a tensor, got None");
  return make_loop("map", {elems}, {x}, out, dtype ? dtype_value(*dtype) : Value());
}

// foldl/foldr: trace fn on (accumulator, element) placeholders, then loop over elems (without an
// initializer, from the first (foldr: last) element over the others).
static Expr fold(const char* op, const std::function<Expr(const Expr&, const Expr&)>& fn, const Expr& elems,
                 Expr init, const std::string& name) {
  check_elems(elems, op);
  bool reverse = std::string(op) == "foldr";
  std::string prefix = name.empty() ? op : name;
  Shape es(elems.shape().begin() + 1, elems.shape().end());
  Expr acc = init ? placeholder(init.shape(), init.dtype(), prefix + "/accumulator", init.rank_known())
                  : placeholder(es, elems.dtype(), prefix + "/accumulator");
  Expr x = placeholder(es, elems.dtype(), prefix + "/element");
  Expr out = fn(acc, x), rest = elems;
  if (!out) fail_type(op, "fn must return a tensor, got None");
  if (!init) {
    init = getitem(elems, {0, reverse ? -1 : 0, 0, 0});
    rest = getitem(elems, reverse ? std::vector<int64_t>{1, kNone, -1, kNone} : std::vector<int64_t>{1, 1, kNone, kNone});
  }
  if (out.dtype() != init.dtype())
    fail_type(op, std::string("fn returned a ") + dtype_name(out.dtype()) + " tensor for a " + dtype_name(init.dtype()) +
                      " accumulator; cast it, or pass an initializer of that dtype");
  if (!compatible(out, init))
    fail_value(op, "fn returned shape " + shape_str(out.shape()) + " for an accumulator of shape " + shape_str(init.shape()) +
                       " (the result must keep the accumulator's shape)");
  return make_loop(op, {rest, init}, {acc, x}, out, Value());
}
Expr foldl(const std::function<Expr(const Expr&, const Expr&)>& fn, const Expr& elems, const Expr& initializer,
           const std::string& name) {
  return fold("foldl", fn, elems, initializer, name);
}
Expr foldr(const std::function<Expr(const Expr&, const Expr&)>& fn, const Expr& elems, const Expr& initializer,
           const std::string& name) {
  return fold("foldr", fn, elems, initializer, name);
}
Expr switch_(const Expr& condition, const Expr& t, const Expr& e) {
  Expr c = condition;
  if (c.rank_known() && c.ndim() == 0) return make_node(kSwitchPick, {c, t, e});
  if (c.rank_known() && t.rank_known() && e.rank_known()) {
    int er = std::max(t.ndim(), e.ndim());
    if (c.ndim() > er)
      fail_value("switch", "rank of condition (" + std::to_string(c.ndim()) + ", shape " + shape_str(c.shape()) +
                               ") must not exceed the rank of the expressions (" + std::to_string(er) + ")");
    while (c.ndim() < er) c = expand_dims(c, -1);
  }
  return where(c, t, e);
}

void register_control_flow() {
  // The loop nodes; map_fn/foldl/foldr above trace the callable and make them.
  register_op(kMapFn, Op("_map_fn(inputs: tensors)", "map_fn's loop (layout in ops/loop.h): the body once per row of elems, "
                                                     "results stacked on axis 0 (cast to attr dtype when given).")
                          .infer(loop_infer).forward(map_forward).grad_multi(loop_grad));
  register_op(kFold, Op("_fold(inputs: tensors)", "foldl/foldr's loop (layout in ops/loop.h): acc = body(acc, elems[i]) from "
                                                  "the first (foldr: last) row.")
                         .infer(loop_infer).forward(fold_forward).grad_multi(loop_grad));
  register_op(kSwitch, Op("switch(condition: tensor, then_expression: tensor, else_expression: tensor)",
                          "Select by condition (cast to bool): a scalar picks a whole branch; a rank-r condition (r <= rank of the "
                          "expressions) selects elementwise along the leading axes, broadcast over the trailing ones.")
                           .build(switch_build));
  register_op(kSwitchPick, Op("_switch_pick(condition: tensor, then_expression: tensor, else_expression: tensor)",
                              "then_expression if the scalar condition is nonzero, else else_expression (whole tensors).")
                               .infer(pick_infer).forward(pick_forward).grad(pick_grad));
}

}  // namespace keras_cpp
