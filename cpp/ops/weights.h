// cpp/ops/weights.h — whether an op input is a weight: a variable or constant, read through views
// only, so the same storage comes back on every call until an update swaps in a new one (what
// the packed-operand cache of kernels/gemm_cache.h keys on). Inside a loop body, a placeholder
// marked `loop_weight` (ops/rnn_plan.cpp) is fed such a weight on every step.
#pragma once
#include "ops/registry.h"

namespace keras_cpp {

inline bool weight_input(const Node& n, size_t i) {
  const Node* p = i < n.inputs.size() ? n.inputs[i].node().get() : nullptr;
  while (p && p->kind == NodeKind::op && p->op && (p->op->flags & kView) && !p->inputs.empty()) p = p->inputs[0].node().get();
  return p && (p->kind == NodeKind::variable || p->kind == NodeKind::constant ||
               (p->kind == NodeKind::placeholder && p->attrs.b("loop_weight")));
}

}  // namespace keras_cpp
