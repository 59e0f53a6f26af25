// cpp/graph/topo.h — graph walks shared by autodiff, loop tracing and the planner.
#pragma once
#include <unordered_set>
#include <vector>

#include "graph/node.h"

namespace keras_cpp {
// Post-order (inputs before users) of the nodes reachable from roots; `stop` nodes are treated
// as leaves (their inputs are not visited). With `with_deps`, control dependencies count as
// inputs too (visited before a node's data inputs).
std::vector<Node*> topo_order(const std::vector<Node*>& roots, const std::unordered_set<Node*>& stop,
                              bool with_deps = false);
}  // namespace keras_cpp
