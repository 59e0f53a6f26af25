// cpp/graph/autodiff.cpp — reverse-mode gradients built from each op's grad rule.
#include "keras_cpp/autodiff.h"

#include <unordered_map>
#include <unordered_set>

#include "graph/topo.h"
#include "keras_cpp/ops.h"
#include "ops/registry.h"

namespace keras_cpp {

std::vector<Node*> topo_order(const std::vector<Node*>& roots, const std::unordered_set<Node*>& stop, bool with_deps) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack;
  for (Node* r : roots) {
    if (!r || seen.count(r)) continue;
    seen.insert(r);
    stack.push_back({r, 0});
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      size_t nd = with_deps ? n->deps.size() : 0;
      if (!stop.count(n) && i < nd + n->inputs.size()) {
        Node* c = i < nd ? n->deps[i].get() : n->inputs[i - nd].get();
        ++i;
        if (!seen.count(c)) {
          seen.insert(c);
          stack.push_back({c, 0});
        }
      } else {
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  return order;
}

std::vector<Expr> gradients(const Expr& loss, const std::vector<Expr>& wrt) {
  if (!loss) throw ValueError("[gradients] loss is None");
  std::vector<Node*> order = topo_order({loss.node().get()}, {});
  // Which nodes depend on some wrt node (only those need gradients).
  std::unordered_set<Node*> targets;
  for (auto& w : wrt)
    if (w) targets.insert(w.node().get());
  std::unordered_set<Node*> reach;
  for (Node* n : order) {
    bool r = targets.count(n) > 0;
    for (auto& in : n->inputs) r = r || reach.count(in.get());
    if (r) reach.insert(n);
  }
  std::unordered_map<Node*, std::shared_ptr<Node>> owner;  // raw pointer -> owning handle
  owner[loss.node().get()] = loss.node();
  for (Node* n : order)
    for (auto& in : n->inputs) owner.emplace(in.get(), in);
  std::unordered_map<Node*, Expr> grad;
  if (reach.count(loss.node().get())) {
    if (!is_floating(loss.dtype()))
      throw TypeError(std::string("[gradients] loss must be a float tensor, got ") + dtype_name(loss.dtype()));
    grad[loss.node().get()] = ones_like(loss, loss.dtype());
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    auto g = grad.find(n);
    if (g == grad.end() || !n->op || (n->op->flags & kNonDiff) || !n->op->grad) continue;
    std::vector<Expr> gs = n->op->grad(Expr(owner[n]), g->second);
    for (size_t i = 0; i < n->inputs.size() && i < gs.size(); ++i) {
      Node* c = n->inputs[i].get();
      if (!gs[i] || !reach.count(c) || !is_floating(c->dtype)) continue;
      Expr gi = gs[i].dtype() == c->dtype ? gs[i] : cast(gs[i], c->dtype);
      auto e = grad.find(c);
      if (e == grad.end()) grad[c] = gi;
      else e->second = e->second + gi;
    }
  }
  std::vector<Expr> out;
  for (auto& w : wrt) {
    auto e = w ? grad.find(w.node().get()) : grad.end();
    out.push_back(e == grad.end() ? Expr() : e->second);
  }
  return out;
}

}  // namespace keras_cpp
