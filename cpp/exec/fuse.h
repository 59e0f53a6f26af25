// cpp/exec/fuse.h — elementwise fusion over a compiled plan's steps: each maximal group of
// elementwise steps whose intermediate results nothing else reads (and no caller asked for)
// becomes one step that runs the group as one block-by-block pass (kernels/fused_ew.h), so the
// intermediates are never stored. KERAS_CPP_FUSION=0 in the environment (read when a plan is
// built) turns it off (and the GEMM and slice-gradient passes below), for A/B comparisons.
#pragma once
#include <vector>

#include "exec/plan.h"
#include "kernels/fused_ew.h"

namespace keras_cpp {

// A fused step's group: the program over the step's inputs, and the member nodes to run one by
// one when the values do not fit the program (a run-time shape that broadcasts an intermediate,
// a dtype the plan did not expect): those run exactly as the unfused plan would, errors included.
struct FusedStep {
  fused::Program prog;
  std::vector<Node*> members;        // plan order; the last is the step's node (the root)
  std::vector<std::vector<int>> args;  // per member, per input: >= 0 a member, < 0 input -(k + 1)
  std::vector<DType> in_dtype;       // each input's dtype, as the program reads it
  std::vector<int> extra;            // members whose results are also the step's results 1, 2, ...
};

bool fusion_enabled();

// A matmul (2-D, float) whose result only feeds add(X, product) and/or + bias (N,): one GEMM that
// starts from X and adds the bias in its epilogue (exec/fuse_gemm.cpp). The step reads
// [a, b, X if acc, bias if bias]; acc_x / bias_x: which input of that add the operand was.
struct GemmAccStep {
  Node* mm = nullptr;
  Node* acc = nullptr;
  Node* bias = nullptr;
  int acc_x = 0, bias_x = 0;
};

// readers[s]: the steps that read slot s, in step order (the fusion passes' use counts).
inline std::vector<std::vector<int>> step_readers(const std::vector<Step>& steps, int nslots) {
  std::vector<std::vector<int>> readers(nslots);
  for (int i = 0; i < static_cast<int>(steps.size()); ++i)
    for (int s : steps[i].in) readers[s].push_back(i);
  return readers;
}

// Rewrite `steps` in place (before fuse_elementwise): each such chain becomes one step at its
// last add's position.
void fuse_gemm_adds(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots);

// Run a GemmAccStep: bit-identical to its members, which run one by one when it cannot be.
Tensor run_gemm_acc(const GemmAccStep& g, KernelCtx& ctx);

// A left chain of adds over _getitem_grad results (the gradient of a tensor read through several
// slices) summed into one zeroed buffer (exec/fuse_slices.cpp). The step reads [each leaf's
// gradient..., their common `like`].
struct SliceSumStep {
  std::vector<Node*> leaves;  // in chain order
  std::vector<Node*> adds;    // adds[k] adds leaf k + 1 to the sum so far
};
void fuse_slice_grads(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots);

// A depthwise `_conv` (multiplier 1) whose result only feeds a 1x1 unit-stride `_conv` (the
// forward of separable_conv1d/2d): one step that runs both a few rows at a time and never stores
// the depthwise result (exec/fuse_conv.cpp). The step reads [x, depthwise kernel, pointwise kernel].
struct SepConvStep {
  Node* dw = nullptr;
  Node* pw = nullptr;
};
void fuse_separable(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots);
Tensor run_separable(const SepConvStep& f, KernelCtx& ctx);
Tensor run_slice_sum(const SliceSumStep& f, KernelCtx& ctx);

// Rewrite `steps` in place: a group of two or more fusable steps becomes one step at its root's
// position, reading the group's inputs. `pinned`: slots that must be kept (outputs, staged values).
// A member whose result is pinned or also read after the root (an LSTM's new cell state, read by
// the gate math and returned) stays in the group as one of the step's extra results.
void fuse_elementwise(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots);

// Run a fused step on its inputs (ctx.in, handed over where the plan allows): the output takes
// a dead input's buffer when one fits; `extra` gets the extra results (f.extra's members).
Tensor run_fused(const FusedStep& f, KernelCtx& ctx, std::vector<Tensor>& extra);

// x * 1, 1 * x and x / 1 (a constant 1 of x's float or integer dtype that leaves x's shape as it
// is) among the unfused steps: Step::copy_of is set, and the step copies x instead of multiplying
// (exec/fold_unit.cpp). A strided x (a transpose's view) is then packed once, not packed and then
// multiplied; gradients are untouched (the graph is not changed).
void fold_unit_factors(std::vector<Step>& steps);
// Run such a step: x itself when it is handed over and held by nothing else, else a packed copy
// in a fresh buffer (the op's kernel when the run-time dtype is not the planned one).
Tensor run_unit_copy(const Step& st, KernelCtx& ctx);

}  // namespace keras_cpp
