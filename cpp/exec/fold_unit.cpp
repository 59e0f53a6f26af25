// cpp/exec/fold_unit.cpp — x * 1, 1 * x and x / 1 run as a copy of x (exec/fuse.h).
#include <cstring>

#include "exec/fuse.h"
#include "graph/node.h"
#include "kernels/ew.h"

namespace keras_cpp {

namespace {
using Form = OpDef::EwForm;

// Input k of n is a dense constant holding the single value 1 in dtype dt, of rank <= rank.
bool is_unit_constant(const Node* n, size_t k, DType dt, int rank) {
  const Node* c = n->inputs[k].node().get();
  if (c->kind != NodeKind::constant || !c->value.defined() || c->value.is_sparse()) return false;
  const Tensor& v = c->value;
  return v.dtype() == dt && v.numel() == 1 && v.ndim() <= rank && v.item() == 1.0;
}

// The input a multiply/divide step copies (-1: none). Only when the result is x bit for bit
// (up to a signaling NaN's quieting, which XLA and grappler also ignore): same dtype, a shape
// the unit does not widen, a float or integer dtype (x + 0 is not folded: -0 + 0 is +0).
int unit_operand(const Step& st) {
  if (st.fused || st.gemm || st.slices || st.sepconv || st.shape_only) return -1;
  const Node* n = st.node;
  const OpDef& op = *n->op;
  if (op.ew.kind != Form::binary || n->inputs.size() != 2 || n->num_outputs() != 1 || !op.forward) return -1;
  const auto code = static_cast<ew::BinaryOp>(op.ew.code);
  if (code != ew::BinaryOp::multiply && code != ew::BinaryOp::divide) return -1;
  const TypeInfo& o = n->type(0);
  if (!o.rank_known || o.sparse || !(is_floating(o.dtype) || is_integer(o.dtype))) return -1;
  for (int k = 0; k < 2; ++k) {
    if (code == ew::BinaryOp::divide && k == 1) break;  // 1 / x is not x
    const TypeInfo& x = n->inputs[k]->type(n->inputs[k].index());
    if (!x.rank_known || x.sparse || x.dtype != o.dtype || x.ndim() != o.ndim()) continue;
    if (is_unit_constant(n, 1 - k, o.dtype, o.ndim())) return k;
  }
  return -1;
}

}  // namespace

void fold_unit_factors(std::vector<Step>& steps) {
  for (Step& st : steps) st.copy_of = unit_operand(st);
}

Tensor run_unit_copy(const Step& st, KernelCtx& ctx) {
  Tensor& x = ctx.in[st.copy_of];
  const TypeInfo& o = st.node->type(0);
  if (x.is_sparse() || x.dtype() != o.dtype || x.ndim() != o.ndim()) return st.node->op->forward(ctx);  // not as planned
  const auto& s = x.storage();
  // Handed over, packed and held by nothing else: x itself is the result (no copy at all).
  if (st.hand_over[st.copy_of] && s->owned() && s.use_count() == 1 && x.is_contiguous() && x.offset() == 0)
    return std::move(x);
  Tensor out = ctx.alloc_tensor(x.shape(), x.dtype());  // never x's memory: a fed input is not aliased
  copy_into(x, out);
  return out;
}

}  // namespace keras_cpp
