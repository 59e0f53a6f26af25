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

std::vector<Expr> gradients(const Expr& loss, const std::vector<Expr>& wrt) {
  if (!loss) throw ValueError("[gradients] loss is None");
  std::vector<Node*> order = topo_order({loss.node().get()}, {});
  // Only results that depend on some wrt result need gradients.
  std::unordered_set<Expr, ExprHash> targets;
  for (auto& w : wrt)
    if (w) targets.insert(w);
  std::unordered_set<const Node*> reach;  // nodes with an input that depends on a target
  auto depends = [&](const Expr& e) { return targets.count(e) > 0 || reach.count(e.node().get()) > 0; };
  std::unordered_map<const Node*, std::shared_ptr<Node>> owner;  // raw pointer -> owning handle
  owner[loss.node().get()] = loss.node();
  for (Node* n : order)
    for (auto& in : n->inputs) {
      owner.emplace(in.node().get(), in.node());
      if (depends(in)) reach.insert(n);
    }
  std::unordered_map<Expr, Expr, ExprHash> grad;  // cotangent of each result
  if (depends(loss)) {
    if (!is_floating(loss.dtype()))
      throw TypeError(std::string("[gradients] loss must be a float tensor, got ") + dtype_name(loss.dtype()));
    grad[loss] = ones_like(loss, loss.dtype());
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    if (!reach.count(n) || !n->op || !n->op->differentiable()) continue;
    std::vector<Expr> gouts(n->num_outputs());
    bool any = false;
    for (uint32_t k = 0; k < gouts.size(); ++k) {
      auto g = grad.find(Expr(owner[n], k));
      if (g != grad.end()) { gouts[k] = g->second; any = true; }
    }
    if (!any) continue;
    std::vector<Expr> gs = n->op->grad_multi(owner[n], gouts);
    for (size_t i = 0; i < n->inputs.size() && i < gs.size(); ++i) {
      const Expr& c = n->inputs[i];
      if (!gs[i] || !depends(c) || !is_floating(c.dtype())) continue;
      Expr gi = gs[i].dtype() == c.dtype() ? gs[i] : cast(gs[i], c.dtype());
      auto e = grad.find(c);
      if (e == grad.end()) grad[c] = gi;
      else e->second = e->second.sparse() || gi.sparse() ? sparse_add(e->second, gi) : e->second + gi;
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
