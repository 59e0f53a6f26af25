// cpp/ops/autodiff.cpp — reverse-mode gradients built from each op's VJP rule. The rules build
// ops, so gradients are graphs that differentiate again; this pass lives with the ops it uses.
// Cotangents are kept per result: a node with several results gets one per result (undefined
// where nothing flows back) and its rule returns one gradient per input.
#include "keras_cpp/autodiff.h"

#include <unordered_map>
#include <unordered_set>

#include "graph/topo.h"
#include "keras_cpp/ops.h"
#include "ops/registry.h"
#include "ops/sparse.h"

namespace keras_cpp {

namespace {

using GradMap = std::unordered_map<Expr, Expr, ExprHash>;  // cotangent of each result

// Which results need gradients: those that depend on some wrt result.
struct Reach {
  std::unordered_set<Expr, ExprHash> targets;
  std::unordered_set<const Node*> nodes;  // nodes with an input that depends on a target
  std::unordered_map<const Node*, std::shared_ptr<Node>> owner;  // raw pointer -> owning handle
  bool depends(const Expr& e) const { return targets.count(e) > 0 || nodes.count(e.node().get()) > 0; }
};

Reach find_reach(const Expr& loss, const std::vector<Expr>& wrt, const std::vector<Node*>& order) {
  Reach r;
  for (auto& w : wrt)
    if (w) r.targets.insert(w);
  r.owner[loss.node().get()] = loss.node();
  for (Node* n : order)
    for (auto& in : n->inputs) {
      r.owner.emplace(in.node().get(), in.node());
      if (r.depends(in)) r.nodes.insert(n);
    }
  return r;
}

// The cotangents of n's results (undefined where nothing flows back); empty if none flows.
std::vector<Expr> node_cotangents(const GradMap& grad, const std::shared_ptr<Node>& n) {
  std::vector<Expr> gouts(n->num_outputs());
  bool any = false;
  for (uint32_t k = 0; k < gouts.size(); ++k) {
    auto g = grad.find(Expr(n, k));
    if (g != grad.end()) { gouts[k] = g->second; any = true; }
  }
  return any ? gouts : std::vector<Expr>{};
}

// Add gradient g (cast to c's dtype) to the cotangent of input c.
void accumulate(GradMap& grad, const Expr& c, const Expr& g) {
  Expr gi = g.dtype() == c.dtype() ? g : cast(g, c.dtype());
  auto e = grad.find(c);
  if (e == grad.end()) grad[c] = gi;
  else e->second = e->second.sparse() || gi.sparse() ? sparse_add(e->second, gi) : e->second + gi;
}

}  // namespace

std::vector<Expr> gradients(const Expr& loss, const std::vector<Expr>& wrt) {
  if (!loss) throw ValueError("[gradients] loss is None");
  std::vector<Node*> order = topo_order({loss.node().get()}, {});
  Reach reach = find_reach(loss, wrt, order);
  GradMap grad;
  if (reach.depends(loss)) {
    if (!is_floating(loss.dtype()))
      throw TypeError(std::string("[gradients] loss must be a float tensor, got ") + dtype_name(loss.dtype()));
    grad[loss] = ones_like(loss, loss.dtype());
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    if (!reach.nodes.count(n) || !n->op || !n->op->differentiable()) continue;
    const std::shared_ptr<Node>& owner = reach.owner[n];
    std::vector<Expr> gouts = node_cotangents(grad, owner);
    if (gouts.empty()) continue;
    std::vector<Expr> gs = n->op->grad_multi(owner, gouts);
    for (size_t i = 0; i < n->inputs.size() && i < gs.size(); ++i) {
      const Expr& c = n->inputs[i];
      if (gs[i] && reach.depends(c) && is_floating(c.dtype())) accumulate(grad, c, gs[i]);
    }
  }
  std::vector<Expr> out;
  for (auto& w : wrt) {
    auto e = w ? grad.find(w) : grad.end();
    out.push_back(e == grad.end() ? Expr() : e->second);
  }
  return out;
}

}  // namespace keras_cpp
