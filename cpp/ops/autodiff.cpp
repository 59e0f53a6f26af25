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

Reach find_reach(const std::vector<Expr>& ys, const std::vector<Expr>& wrt, const std::vector<Node*>& order) {
  Reach r;
  for (auto& w : wrt)
    if (w) r.targets.insert(w);
  for (auto& y : ys) r.owner[y.node().get()] = y.node();
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

// The reverse sweep over `order` from the cotangents in `grad`; the cotangent of each wrt entry.
std::vector<Expr> sweep(GradMap& grad, const std::vector<Node*>& order, const Reach& reach, const std::vector<Expr>& wrt) {
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    if (!reach.nodes.count(n) || !n->op || !n->op->differentiable()) continue;
    const std::shared_ptr<Node>& owner = reach.owner.at(n);
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

}  // namespace

std::vector<Expr> gradients(const Expr& loss, const std::vector<Expr>& wrt) {
  if (!loss) throw ValueError("[gradients] loss is None");
  std::vector<Node*> order = topo_order({loss.node().get()}, {});
  Reach reach = find_reach({loss}, wrt, order);
  GradMap grad;
  if (reach.depends(loss)) {
    if (!is_floating(loss.dtype()))
      throw TypeError(std::string("[gradients] loss must be a float tensor, got ") + dtype_name(loss.dtype()));
    grad[loss] = ones_like(loss, loss.dtype());
  }
  return sweep(grad, order, reach, wrt);
}

std::vector<Expr> gradients(const std::vector<Expr>& ys, const std::vector<Expr>& grad_ys, const std::vector<Expr>& wrt) {
  if (ys.size() != grad_ys.size()) throw ValueError("[gradients] one cotangent per output is needed");
  std::vector<Node*> roots;
  for (auto& y : ys) {
    if (!y) throw ValueError("[gradients] an output is None");
    roots.push_back(y.node().get());
  }
  std::vector<Node*> order = topo_order(roots, {});
  Reach reach = find_reach(ys, wrt, order);
  GradMap grad;
  for (size_t k = 0; k < ys.size(); ++k)
    if (grad_ys[k] && reach.depends(ys[k]) && is_floating(ys[k].dtype())) accumulate(grad, ys[k], grad_ys[k]);
  return sweep(grad, order, reach, wrt);
}

}  // namespace keras_cpp
