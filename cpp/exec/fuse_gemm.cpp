// cpp/exec/fuse_gemm.cpp — the plan pass that folds the adds after a matrix product into the
// GEMM (exec/fuse.h): add(X, matmul(a, b)) and/or + bias become one GEMM that starts from X
// (read where it lies as the epilogue's addend, or accumulated into X's buffer when X is dead) and
// adds the bias in its epilogue. In a recurrent step z = x_t W + h U + bias, the input product
// x_t W is hoisted out of the loop, so this removes the per-step passes over z and over x_t.
//
// The GEMM epilogue computes (acc + X) + bias[j] on the same float values as the unfused
// (X + acc) + bias, so the bits agree whenever the product is not cut into k slices (K <= kc)
// and takes the tiled path (M, N > 1). Otherwise, or when the run-time shapes differ from the
// planned ones, the members run one by one exactly as the unfused plan would.
#include <algorithm>

#include "exec/fuse.h"
#include "kernels/gemm.h"
#include "kernels/gemm_cache.h"
#include "ops/weights.h"

namespace keras_cpp {
namespace {

bool is_op(const Step& st, const char* name) {
  return st.node->op->name == name && st.node->inputs.size() == 2 && !st.gemm && !st.slices && !st.shape_only;
}

const TypeInfo& in_type(const Node* n, size_t k) { return n->inputs[k]->type(n->inputs[k].index()); }

// Static shapes that may be equal (unknown dims match anything; the run time checks them).
bool compatible(const TypeInfo& a, const TypeInfo& b) {
  if (!a.rank_known || !b.rank_known || a.sparse || b.sparse || a.ndim() != b.ndim()) return false;
  for (int d = 0; d < a.ndim(); ++d)
    if (a.shape[d] >= 0 && b.shape[d] >= 0 && a.shape[d] != b.shape[d]) return false;
  return true;
}

// The only step reading slot s, once (-1: none, several, or s must be kept).
int sole_reader(const std::vector<std::vector<int>>& readers, const std::vector<char>& pinned, int s) {
  if (pinned[s] || readers[s].size() != 1) return -1;
  return readers[s][0];
}

// Input k of `add` (0 or 1) that is not slot s, when the other operand may have the product's
// shape and dtype; `want_bias`: instead a 1-D (N,) operand. (Run-time shapes are checked again.)
int other_operand(const Step& add, int s, const TypeInfo& like, bool want_bias) {
  if (!is_op(add, "add") || add.in[0] == add.in[1]) return -1;
  const int k = add.in[0] == s ? 1 : 0;
  const TypeInfo& o = in_type(add.node, static_cast<size_t>(k));
  const TypeInfo& r = add.node->type(0);
  if (!o.rank_known || o.sparse || o.dtype != like.dtype || r.dtype != like.dtype || !compatible(r, like)) return -1;
  if (want_bias) return o.ndim() == 1 && (o.shape[0] < 0 || like.shape[1] < 0 || o.shape[0] == like.shape[1]) ? k : -1;
  return compatible(o, like) ? k : -1;
}

// A matmul step and the adds that fold into it (nullptr: none).
std::shared_ptr<GemmAccStep> match(const std::vector<Step>& steps, int i, const std::vector<std::vector<int>>& readers,
                                   const std::vector<char>& pinned, std::vector<int>& in_slots, int& last) {
  const Step& mm = steps[i];
  if (!is_op(mm, "matmul")) return nullptr;
  const TypeInfo &t = mm.node->type(0), &a = in_type(mm.node, 0), &b = in_type(mm.node, 1);
  if (!t.rank_known || !a.rank_known || !b.rank_known || t.ndim() != 2 || a.ndim() != 2 || b.ndim() != 2 || t.sparse ||
      (t.dtype != DType::float32 && t.dtype != DType::float64))
    return nullptr;
  auto g = std::make_shared<GemmAccStep>();
  g->mm = mm.node;
  in_slots = {mm.in[0], mm.in[1]};
  int s = mm.out[0], r = sole_reader(readers, pinned, s);
  if (r < 0) return nullptr;
  int k = other_operand(steps[r], s, t, false);
  if (k >= 0) {  // + X
    g->acc = steps[r].node;
    g->acc_x = k;
    in_slots.push_back(steps[r].in[k]);
    last = r;
    s = steps[r].out[0];
    r = sole_reader(readers, pinned, s);
    k = r < 0 ? -1 : other_operand(steps[r], s, t, true);
  } else {
    k = other_operand(steps[r], s, t, true);
  }
  if (k >= 0) {  // + bias
    g->bias = steps[r].node;
    g->bias_x = k;
    in_slots.push_back(steps[r].in[k]);
    last = r;
  }
  return g->acc || g->bias ? g : nullptr;
}

// The members one by one: matmul, then the adds with their operands in the planned order.
Tensor run_gemm_members(const GemmAccStep& g, KernelCtx& ctx) {
  KernelCtx m{*g.mm, {ctx.in[0], ctx.in[1]}, ctx.alloc};
  Tensor v = g.mm->op->forward(m);
  size_t next = 2;
  for (auto [node, x] : {std::pair<Node*, int>{g.acc, g.acc_x}, std::pair<Node*, int>{g.bias, g.bias_x}}) {
    if (!node) continue;
    KernelCtx c{*node, {}, ctx.alloc};
    c.in = x == 0 ? std::vector<Tensor>{ctx.in[next], v} : std::vector<Tensor>{v, ctx.in[next]};
    ++next;
    v = node->op->forward(c);
  }
  return v;
}

template <class T>
bool gemm_acc(const GemmAccStep& g, KernelCtx& ctx, Tensor& out) {
  const Tensor &a = ctx.in[0], &b = ctx.in[1];
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  MatView va, vb;
  if (M <= 1 || N <= 1 || K <= 0 || b.shape()[0] != K || !mat_view(a, va) || !mat_view(b, vb)) return false;
  std::shared_ptr<const blas::PackedB<T>> packed;
  if (cached_weight_input(ctx, *g.mm, 1)) packed = cached_pack_b<T>(b, b.data<T>(), K, N, vb.rs(), vb.cs());
  if (K > (packed ? packed->kc : blas::blocking(blas::active_isa(), sizeof(T) == 8).kc)) return false;
  blas::Epilogue<T> ep;
  const Tensor* x = g.acc ? &ctx.in[2] : nullptr;
  const Tensor* bias = g.bias ? &ctx.in[g.acc ? 3 : 2] : nullptr;
  const Shape shape{M, N};
  if ((x && x->shape() != shape) || (bias && (bias->shape() != Shape{N} || bias->strides()[0] != 1))) return false;
  if (x) {
    // X's own buffer when it is dead after this step (accumulate in place); else X is read as the
    // GEMM's addend where it lies (a recurrent step's slice of the hoisted input product).
    out = ctx.alloc_like_input(2, shape, a.dtype());
    if (out.raw() == x->raw()) {
      ep.accumulate = true;
    } else if (x->strides()[1] == 1) {
      ep.add = x->data<T>();
      ep.ldd = x->strides()[0];
    } else {
      copy_into(*x, out);
      ep.accumulate = true;
    }
  } else {
    out = ctx.alloc_tensor(shape, a.dtype());
  }
  if (bias) ep.bias = bias->data<T>();
  if (packed) blas::gemm<T>(M, N, K, a.data<T>(), va.rs(), va.cs(), *packed, out.data<T>(), N, ep);
  else blas::gemm<T>(M, N, K, a.data<T>(), va.rs(), va.cs(), b.data<T>(), vb.rs(), vb.cs(), out.data<T>(), N, ep);
  return true;
}

}  // namespace

void fuse_gemm_adds(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots) {
  const int n = static_cast<int>(steps.size());
  const std::vector<std::vector<int>> readers = step_readers(steps, nslots);
  std::vector<int> merged_into(n, -1);  // member step -> the step that now runs it
  std::vector<Step> made(n);
  for (int i = 0; i < n; ++i) {
    std::vector<int> in, members;
    int last = -1;
    auto g = match(steps, i, readers, pinned, in, last);
    if (!g) continue;
    for (int j = i; j <= last; ++j)
      if (steps[j].node == g->mm || steps[j].node == g->acc || steps[j].node == g->bias) members.push_back(j);
    // add(matmul, matmul): the add folds into one product only
    if (std::any_of(members.begin(), members.end(), [&](int j) { return merged_into[j] >= 0; })) continue;
    for (int j : members) merged_into[j] = last;
    made[last] = Step{steps[last].node, in, {}, steps[last].out, {}, nullptr};
    made[last].gemm = g;
  }
  std::vector<Step> out;
  out.reserve(steps.size());
  for (int i = 0; i < n; ++i) {
    if (merged_into[i] < 0) out.push_back(std::move(steps[i]));
    else if (merged_into[i] == i) out.push_back(std::move(made[i]));
  }
  steps.swap(out);
}

Tensor run_gemm_acc(const GemmAccStep& g, KernelCtx& ctx) {
  Tensor out;
  const DType dt = ctx.in[0].dtype();
  bool ok = ctx.in[1].dtype() == dt && ctx.in[0].ndim() == 2 && ctx.in[1].ndim() == 2 && !ctx.in[0].is_sparse() &&
            !ctx.in[1].is_sparse();
  for (size_t k = 2; k < ctx.in.size(); ++k) ok = ok && ctx.in[k].dtype() == dt && !ctx.in[k].is_sparse();
  if (ok && dt == DType::float32) ok = gemm_acc<float>(g, ctx, out);
  else if (ok && dt == DType::float64) ok = gemm_acc<double>(g, ctx, out);
  else ok = false;
  return ok ? out : run_gemm_members(g, ctx);
}

}  // namespace keras_cpp
