// cpp/exec/fuse_conv.cpp — the plan pass that runs a separable convolution's two `_conv` nodes
// (depthwise with multiplier 1, then 1x1 unit-stride) as one step (exec/fuse.h): the depthwise
// rows go through a per-thread buffer into the pointwise GEMM (kernels/conv_depthwise.h), so the
// intermediate, as large as the input, is never written to memory and read back. Only when the
// depthwise result has no other reader (a forward pass: training keeps it for the pointwise
// kernel's gradient). The depthwise sums are the blocked kernel's own and the pointwise GEMM runs
// over the same rows, so the result agrees with the two nodes' to rounding.
#include "exec/fuse.h"
#include "ops/conv_helpers.h"

namespace keras_cpp {
namespace {

const TypeInfo& in_type(const Node* n, size_t k) { return n->inputs[k]->type(n->inputs[k].index()); }

bool is_conv(const Step& st) {
  return st.node->op->name == "_conv" && st.node->inputs.size() == 2 && !st.gemm && !st.fused && !st.slices && !st.sepconv &&
         !st.shape_only;
}

bool all_ones(const Attrs& a, const char* name) {
  if (!a.has(name)) return true;
  for (int64_t v : a.ints(name))
    if (v != 1) return false;
  return true;
}

// A depthwise conv with multiplier 1 (float32, channels known): C groups of one channel each.
bool depthwise_m1(const Step& st) {
  if (!is_conv(st)) return false;
  const TypeInfo &x = in_type(st.node, 0), &w = in_type(st.node, 1), &y = st.node->type(0);
  if (!x.rank_known || !w.rank_known || x.sparse || x.dtype != DType::float32 || y.dtype != DType::float32) return false;
  const int64_t C = x.ndim() > 0 ? x.shape.back() : -1, nd = w.ndim();
  return C > 1 && nd >= 3 && st.node->attrs.i("groups") == C && w.shape[nd - 2] == 1 && w.shape[nd - 1] == C;
}

// A 1x1, unit-stride, ungrouped conv (float32).
bool pointwise(const Step& st) {
  if (!is_conv(st)) return false;
  const TypeInfo &w = in_type(st.node, 1), &y = st.node->type(0);
  if (!w.rank_known || y.dtype != DType::float32 || st.node->attrs.i("groups") != 1 || !all_ones(st.node->attrs, "strides")) return false;
  for (int i = 0; i + 2 < w.ndim(); ++i)
    if (w.shape[i] != 1) return false;
  return true;
}

}  // namespace

void fuse_separable(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots) {
  const int n = static_cast<int>(steps.size());
  const std::vector<std::vector<int>> readers = step_readers(steps, nslots);
  std::vector<char> drop(n, 0);
  for (int i = 0; i < n; ++i) {
    if (drop[i] || !depthwise_m1(steps[i])) continue;
    const int s = steps[i].out[0];
    if (pinned[s] || readers[s].size() != 1) continue;
    const int j = readers[s][0];
    if (j <= i || !pointwise(steps[j]) || steps[j].in[0] != s || steps[j].in[1] == s) continue;
    auto f = std::make_shared<SepConvStep>();
    f->dw = steps[i].node;
    f->pw = steps[j].node;
    Step merged{steps[j].node, {steps[i].in[0], steps[i].in[1], steps[j].in[1]}, {}, steps[j].out, {}, nullptr};
    merged.sepconv = f;
    steps[j] = std::move(merged);
    drop[i] = 1;
  }
  std::vector<Step> out;
  out.reserve(steps.size());
  for (int i = 0; i < n; ++i)
    if (!drop[i]) out.push_back(std::move(steps[i]));
  steps.swap(out);
}

Tensor run_separable(const SepConvStep& f, KernelCtx& ctx) {
  Tensor out;
  if (separable_fused_forward(ctx, *f.dw, *f.pw, out)) return out;
  // The members one by one, exactly as the unfused plan.
  KernelCtx d{*f.dw, {ctx.in[0], ctx.in[1]}, ctx.alloc};
  d.churn = ctx.churn;
  Tensor v = f.dw->op->forward(d);
  KernelCtx p{*f.pw, {v, ctx.in[2]}, ctx.alloc};
  p.churn = ctx.churn;
  return f.pw->op->forward(p);
}

}  // namespace keras_cpp
