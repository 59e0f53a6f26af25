// cpp/graph/topo.cpp — iterative post-order walk (deep graphs, e.g. long unrolled loops, would
// overflow a recursive one).
#include "graph/topo.h"

#include <utility>

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
        Node* c = i < nd ? n->deps[i].get() : n->inputs[i - nd].node().get();
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

}  // namespace keras_cpp
