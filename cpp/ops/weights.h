// cpp/ops/weights.h — whether an op input is a weight: a variable or constant, read through views
// only, so the same storage comes back on every call until an update swaps in a new one (what
// the packed-operand cache of kernels/gemm_cache.h keys on). Inside a loop body, a placeholder
// marked `loop_weight` (ops/rnn_plan.cpp) is fed such a weight on every step.
#pragma once
#include "ops/registry.h"

namespace keras_cpp {

// The variable, constant or loop-weight node that input i of n reads through views; null if none.
inline const Node* weight_node(const Node& n, size_t i) {
  const Node* p = i < n.inputs.size() ? n.inputs[i].node().get() : nullptr;
  while (p && p->kind == NodeKind::op && p->op && (p->op->flags & kView) && !p->inputs.empty()) p = p->inputs[0].node().get();
  bool w = p && (p->kind == NodeKind::variable || p->kind == NodeKind::constant ||
                 (p->kind == NodeKind::placeholder && p->attrs.b("loop_weight")));
  return w ? p : nullptr;
}

inline bool weight_input(const Node& n, size_t i) { return weight_node(n, i) != nullptr; }

// A weight worth packing once into the cache: not one the running plan replaces on every call
// after only a use or two (a training step's W, KernelCtx::churn). Packing such a W whole into
// fresh pages each call made an MLP training step ~20% slower than packing panels into warm scratch.
inline bool cached_weight_input(const KernelCtx& ctx, const Node& n, size_t i) {
  const Node* w = weight_node(n, i);
  return w && !(ctx.churn && ctx.churn->count(w));
}

}  // namespace keras_cpp
