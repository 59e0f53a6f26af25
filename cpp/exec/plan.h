// cpp/exec/plan.h — a compiled Function: the steps in order, one buffer slot per node result,
// elementwise chains and the adds after a matmul fused into single steps (exec/fuse.h), liveness (inputs handed to a kernel
// at their last use, so elementwise ops can write in place; results nothing reads dropped at
// once), a pool of dead buffers, and the variables' updates. Steps whose results are read only
// for their shapes (the forward of a loss whose gradient alone is asked for) skip their kernels.
//
// Variables and update ops within one call (the order is fixed when the plan is built):
// - Nodes run in a topological order of data inputs and control dependencies (deps first).
// - A node that reads variable v sees the value made by the last update of v that it depends
//   on (through inputs or control dependencies), else v's value at the start of the call. So
//   outputs that do not depend on an update see the pre-call state.
// - The updates of one variable run one after another (dependency order, else the order they
//   are reached: outputs first, then the update list); each starts from the previous result.
// - New values are committed together after every step succeeded (a failing call changes no
//   variable), and the variables a call updates stay locked from their first read to the commit,
//   so concurrent calls updating the same variable serialize instead of losing updates.
#pragma once
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "graph/op.h"

namespace keras_cpp {

struct FusedStep;    // exec/fuse.h
struct GemmAccStep;  // exec/fuse.h
struct SliceSumStep;  // exec/fuse.h
struct SepConvStep;   // exec/fuse.h

struct Step {
  Node* node;
  std::vector<int> in;          // slot of each input
  std::vector<char> hand_over;  // in[k]'s slot dies here: move it into the kernel
  std::vector<int> out;         // slot of each result
  std::vector<char> used;       // per result: read by a later step, returned, or a staged update
  std::unique_ptr<KernelState> state;
  std::vector<Tensor> scratch;  // the kernel's input vector, kept between calls (no allocation per step)
  std::shared_ptr<const FusedStep> fused;  // set: a fused elementwise group rooted at `node`
  std::shared_ptr<const GemmAccStep> gemm;  // set: a matmul with the adds after it, ending at `node`
  std::shared_ptr<const SliceSumStep> slices;  // set: slice gradients summed in place, ending at `node`
  std::shared_ptr<const SepConvStep> sepconv;  // set: a depthwise conv and the 1x1 conv after it, ending at `node`
  // (step of a whole-branch switch, its input 1 or 2): only that branch of it needs this step,
  // which is skipped when the switch's condition, known by then, picks the other one.
  std::vector<std::pair<int, int>> guards;
  // Only the result's shape is read (gradients' `like` inputs): the step runs the op's shape
  // inference on its inputs' run-time types instead of the kernel (Plan::mark_shape_only).
  bool shape_only = false;
  int copy_of = -1;  // >= 0: x * 1 or x / 1, run as a copy of input copy_of (exec/fold_unit.cpp)
};

class Plan {
 public:
  // `effects`: update ops (or any tensors) run on every call besides the outputs.
  Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<Expr>& effects);
  // feeds' elements are moved into their slots (the vector stays the caller's, to reuse); the
  // results replace outs' contents.
  void run(std::vector<Tensor>& feeds, std::vector<Tensor>& outs);
  size_t steps() const { return steps_.size(); }
  // Little work and no lock but the caller's (Function::try_call): no variables, updates, prints
  // or loop bodies, static shapes, at most kLightElements in all results and constants.
  bool light() const { return light_; }
  static constexpr int64_t kLightElements = 1 << 14;  // also the bound on a light call's feeds

 private:
  struct Leaf {
    int slot;
    Node* node;
    bool held;  // a variable this plan updates (its lock is held for the call)
  };
  // Check the arguments and order the nodes the outputs and effects need.
  std::vector<Node*> prune(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                           const std::vector<Expr>& effects);
  // Leaves and steps in order; returns the step that last reads each slot (-1: none).
  std::vector<int> make_steps(const std::vector<Node*>& order);
  void plan_step(Node* n, const std::vector<char>& fed_slot, std::vector<int>& last_use);
  void mark_lazy_branches(const std::vector<char>& pinned);
  void mark_shape_only(const std::vector<char>& pinned);
  void run_shape_step(Step& st);
  bool skip_step(const Step& st) const;
  std::vector<std::pair<Node*, int>> updates_before(const Node* n) const;
  int input_slot(const Node* n, size_t k, const std::vector<std::pair<Node*, int>>& seen,
                 const std::vector<char>& fed_slot) const;
  int slot(const Expr& e) const;
  // run(): feeds (checked against the placeholders) and leaves into their slots, the steps, then
  // the staged updates committed.
  void load_feeds(std::vector<Tensor>& feeds);
  void load_leaves();
  void run_step(Step& st);
  void commit_updates();
  bool find_light() const;
  void find_churn();

  std::vector<std::shared_ptr<Node>> keep_;  // keeps the graph alive
  std::unordered_set<Node*> fed_;
  std::vector<Expr> feeds_;
  std::vector<int> feed_slot_;
  std::vector<Leaf> leaves_;
  std::vector<Step> steps_;
  std::vector<int> out_slot_;
  std::vector<char> out_move_;  // per output: its slot is read by nothing after the steps (moved out)
  // While compiling: a node's first slot; per node, (variable, slot of the latest update it depends on).
  std::unordered_map<const Node*, int> base_;
  std::unordered_map<const Node*, std::vector<std::pair<Node*, int>>> after_;
  std::unordered_map<Node*, int> last_update_;  // variable -> slot of its latest update (the commit)
  std::vector<Node*> locked_;  // updated variables, in lock order (node id)
  std::unordered_set<const Node*> churn_;  // KernelCtx::churn
  int nslots_ = 0;
  bool light_ = false;
  Allocator alloc_;
  std::vector<Tensor> slots_;
  std::vector<char> skipped_;  // per step, this call: skipped (an unchosen switch branch)
};

}  // namespace keras_cpp
