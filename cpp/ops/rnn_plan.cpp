// cpp/ops/rnn_plan.cpp — build-time rewrites of rnn's `_scan` loop node that keep any step
// function general but make the recurrent layers' steps cheap:
// - input products hoisted: matmul(x_t, W) with x_t a sequence and W loop-invariant becomes a
//   slice of one matmul over all time steps, computed before the loop (and its gradient, dx and
//   dW, one product each after the backward loop);
// - loop-invariant weights marked, so the step's products pack them once (ops/weights.h);
// - saved activations: the body nodes its VJP reads are extra per-step results of the forward
//   loop (filled only when a gradient reads them), so BPTT does not recompute the step; those it
//   reads only for their shape are kept as a shape (attr saved_shape_only), with no values.
#include <unordered_set>

#include "graph/topo.h"
#include "keras_cpp/autodiff.h"
#include "ops/helpers.h"
#include "ops/loop.h"
#include "ops/weights.h"

namespace keras_cpp {
namespace {

bool is_op(const Node* n, const char* name) { return n->kind == NodeKind::op && n->op && n->op->name == name; }

bool static_rank2(const Expr& e) { return e.rank_known() && e.ndim() == 2 && e.shape()[1] >= 0; }

// The loop node `n` with a new body and inputs (the other attrs kept).
Expr remake_scan(const Node& n, std::vector<Expr> inputs, const std::vector<Expr>& body, int64_t nseq) {
  Attrs a = n.attrs;
  std::vector<Value> b;
  for (auto& e : body) b.push_back(Value(e));
  a.set("body", Value(b));
  a.set("nseq", Value(nseq));
  a.set("nparams", Value(nseq + a.i("ncarry")));
  return make_node(scan_op(), std::move(inputs), a);
}

// Every node reachable from outs (stopping at `leaves`), inputs first, with its owning pointer.
std::vector<std::shared_ptr<Node>> body_nodes(const std::vector<Expr>& outs, const std::unordered_set<Node*>& leaves) {
  std::vector<Node*> roots;
  std::unordered_map<Node*, std::shared_ptr<Node>> owner;
  for (auto& o : outs) {
    roots.push_back(o.node().get());
    owner[o.node().get()] = o.node();
  }
  std::vector<Node*> order = topo_order(roots, leaves);
  for (Node* m : order)
    if (!leaves.count(m))
      for (auto& in : m->inputs) owner.emplace(in.node().get(), in.node());
  std::vector<std::shared_ptr<Node>> r;
  for (Node* m : order) r.push_back(owner.at(m));
  return r;
}

// matmul(sequence param, captured weight) in the body -> a new sequence: one matmul over all
// steps before the loop, sliced per step. Returns the loop unchanged when there is none.
Expr hoist_input_products(const Expr& loop) {
  const Node& n = *loop.node();
  ScanLayout L = scan_layout(n);
  std::vector<Expr> body = loop_body(n);
  const size_t nin = n.inputs.size(), ncap0 = L.nseq + L.ncarry;
  std::vector<Expr> outs(body.begin() + static_cast<std::ptrdiff_t>(nin), body.end());
  std::unordered_map<Node*, size_t> slot;  // body placeholder -> its index
  std::unordered_set<Node*> leaves;
  for (size_t k = 0; k < nin; ++k) {
    slot[body[k].node().get()] = k;
    leaves.insert(body[k].node().get());
  }
  std::unordered_map<Expr, Expr, ExprHash> remap;
  std::vector<Expr> seqs, params;
  for (auto& m : body_nodes(outs, leaves)) {
    if (!is_op(m.get(), "matmul") || m->inputs.size() != 2) continue;
    auto sa = slot.find(m->inputs[0].node().get()), sb = slot.find(m->inputs[1].node().get());
    if (sa == slot.end() || sb == slot.end() || sa->second >= L.nseq || sb->second < ncap0) continue;
    const Expr &x = body[sa->second], &w = body[sb->second], &xs = n.inputs[sa->second];
    if (!is_floating(x.dtype()) || !static_rank2(x) || !static_rank2(w) || !xs.rank_known() || xs.ndim() != 3) continue;
    seqs.push_back(matmul(xs, n.inputs[sb->second]));  // (batch, time, N)
    Expr mm(m, 0), p = placeholder(mm.shape(), mm.dtype(), "rnn/input_product");
    params.push_back(p);
    remap[mm] = p;
  }
  if (seqs.empty()) return loop;
  std::vector<Expr> new_outs = clone_graph(outs, remap);
  std::vector<Expr> ins(n.inputs.begin(), n.inputs.begin() + static_cast<std::ptrdiff_t>(L.nseq)), nb(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(L.nseq));
  ins.insert(ins.end(), seqs.begin(), seqs.end());
  nb.insert(nb.end(), params.begin(), params.end());
  ins.insert(ins.end(), n.inputs.begin() + static_cast<std::ptrdiff_t>(L.nseq), n.inputs.end());
  nb.insert(nb.end(), body.begin() + static_cast<std::ptrdiff_t>(L.nseq), body.begin() + static_cast<std::ptrdiff_t>(nin));
  nb.insert(nb.end(), new_outs.begin(), new_outs.end());
  return remake_scan(n, ins, nb, static_cast<int64_t>(L.nseq + seqs.size()));
}

// Captured inputs that are weights (variables or constants through views) keep their storage for
// the whole loop run: their body placeholders are marked so the step's products pack them once.
void mark_loop_weights(const Node& n) {
  ScanLayout L = scan_layout(n);
  std::vector<Expr> body = loop_body(n);
  for (size_t k = L.nseq + L.ncarry; k < n.inputs.size(); ++k)
    if (weight_input(n, k)) body[k].node()->attrs.set("loop_weight", Value(true));
}

// Input k of VJP node m is read for its shape alone (_getitem_grad's `like`: the zeros it scatters into).
bool shape_only_input(const Node& m, size_t k) { return k == 1 && is_op(&m, "_getitem_grad"); }

// The body nodes (results) that the body's VJP reads: op results of the forward step, with views
// walked down to what they view (recomputing a view is free). `shape_only[j]`: saved j is read
// for its shape alone (an LSTM's gate pre-activations z, read by the slices' gradients), so the
// loop keeps no values for it. Empty when the VJP cannot be built.
std::vector<Expr> saved_activations(const Node& n, std::vector<int64_t>& shape_only) {
  std::vector<Expr> ins = loop_body_inputs(n), outs = loop_body_outputs(n), ys, seeds;
  for (auto& o : outs) {
    if (!is_floating(o.dtype())) continue;
    ys.push_back(o);
    seeds.push_back(placeholder(o.shape(), o.dtype(), "rnn_grad/seed", o.rank_known()));
  }
  if (ys.empty()) return {};
  std::vector<Expr> gs;
  try {
    gs = gradients(ys, seeds, ins);  // as scan_grad builds the VJP
  } catch (const std::exception&) {
    return {};  // scan_grad reports it if a gradient is ever asked for
  }
  std::unordered_set<Node*> leaves, fwd;
  for (auto& e : ins) leaves.insert(e.node().get());
  for (auto& m : body_nodes(outs, leaves))
    if (m->kind == NodeKind::op) fwd.insert(m.get());
  std::unordered_set<Node*> stop = leaves;
  stop.insert(fwd.begin(), fwd.end());
  std::vector<Expr> roots;
  for (auto& g : gs)
    if (g) roots.push_back(g);
  std::vector<Expr> saved;
  std::unordered_map<Expr, size_t, ExprHash> seen;  // saved value -> its index
  shape_only.clear();
  auto take = [&](Expr e, bool shape) {
    while (!shape && fwd.count(e.node().get()) && (e->op->flags & kView) && !e->inputs.empty()) e = e->inputs[0];
    if (!fwd.count(e.node().get())) return;
    auto [it, fresh] = seen.emplace(e, saved.size());
    if (fresh) {
      saved.push_back(e);
      shape_only.push_back(shape);
    } else if (!shape) {
      shape_only[it->second] = 0;  // its values are read too
    }
  };
  for (auto& g : roots) take(g, false);
  for (auto& m : body_nodes(roots, stop))
    if (!stop.count(m.get()))
      for (size_t k = 0; k < m->inputs.size(); ++k) take(m->inputs[k], shape_only_input(*m, k));
  return saved;
}

}  // namespace

Expr plan_scan(const Expr& loop0, bool unrolled) {
  Expr loop = hoist_input_products(loop0);
  mark_loop_weights(*loop.node());
  if (unrolled) return loop;  // the copies are differentiated as ordinary nodes
  std::vector<int64_t> shape_only;
  std::vector<Expr> saved = saved_activations(*loop.node(), shape_only);
  if (saved.empty()) return loop;
  const Node& n = *loop.node();
  Attrs a = n.attrs;
  std::vector<Value> sv;
  for (auto& e : saved) sv.push_back(Value(e));
  a.set("saved", Value(sv));
  a.set("saved_shape_only", Value(shape_only));
  return make_node(scan_op(), n.inputs, a);
}

}  // namespace keras_cpp
