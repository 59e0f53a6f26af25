// cpp/exec/plan.h — a compiled Function: the steps in order, one buffer slot per node result,
// liveness (inputs handed to a kernel at their last use, so elementwise ops can write in place;
// results nothing reads dropped at once) and a pool of dead buffers.
#pragma once
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "graph/op.h"

namespace keras_cpp {

struct Step {
  Node* node;
  std::vector<int> in;          // slot of each input
  std::vector<char> hand_over;  // in[k]'s slot dies here: move it into the kernel
  std::vector<int> out;         // slot of each result
  std::vector<char> used;       // per result: read by a later step, returned, or an update value
  std::unique_ptr<KernelState> state;
};

class Plan {
 public:
  Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
       const std::vector<std::pair<Expr, Expr>>& updates);
  // Outputs in order; with apply_updates, then assigns the update values to their variables.
  std::vector<Tensor> run(const std::vector<Tensor>& feeds, bool apply_updates);
  size_t steps() const { return steps_.size(); }

 private:
  // Check the arguments and order the nodes the outputs and update values need.
  std::vector<Node*> prune(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                           const std::vector<std::pair<Expr, Expr>>& updates, std::unordered_set<Node*>& fed,
                           std::vector<std::pair<Node*, Expr>>& ups);
  // Leaves and steps in order; returns the step that last reads each slot (-1: none).
  std::vector<int> make_steps(const std::vector<Node*>& order, const std::unordered_set<Node*>& fed);
  int slot(const Expr& e) const;
  void run_step(Step& st);

  std::vector<std::shared_ptr<Node>> keep_;  // keeps the graph alive
  std::vector<Expr> feeds_;
  std::vector<int> feed_slot_;
  std::vector<std::pair<int, Node*>> leaves_;
  std::vector<Step> steps_;
  std::vector<int> out_slot_;
  std::vector<std::pair<Node*, int>> updates_;
  std::unordered_map<const Node*, int> base_;  // while compiling: a node's first slot
  int nslots_ = 0;
  Allocator alloc_;
  std::vector<Tensor> slots_;
};

}  // namespace keras_cpp
