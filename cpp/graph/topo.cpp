// cpp/graph/topo.cpp — iterative post-order walk (deep graphs, e.g. long unrolled loops, would
// overflow a recursive one).
#include "graph/topo.h"

#include <utility>

namespace keras_cpp {

std::vector<Node*> topo_order(const std::vector<Node*>& roots, const std::unordered_set<Node*>& stop) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack;
  for (Node* r : roots) {
    if (!r || seen.count(r)) continue;
    seen.insert(r);
    stack.push_back({r, 0});
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (!stop.count(n) && i < n->inputs.size()) {
        Node* c = n->inputs[i++].node().get();
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

}  // namespace keras_cpp
