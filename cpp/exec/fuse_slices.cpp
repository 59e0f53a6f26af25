// cpp/exec/fuse_slices.cpp — the plan pass that sums slice gradients in place (exec/fuse.h).
// The gradient of z used as z[:, :H], z[:, H:2H], ... (an LSTM's gates) is a chain of adds over
// _getitem_grad results, each a zero tensor of z's shape with one slice filled: four full-size
// buffers and three passes over them per step. As one step, the slices are added into a single
// zeroed buffer: ((0 + g1) + g2) + ... at every element, the chain's own order, so the values
// are the chain's (the bits too, but for the sign of a zero that every slice covers).

#include "exec/fuse.h"
#include "ops/getitem.h"

namespace keras_cpp {
namespace {

bool is_add(const Step& st) {
  return st.node->op->name == "add" && st.node->inputs.size() == 2 && !st.gemm && !st.fused && !st.shape_only && st.in[0] != st.in[1];
}

const TypeInfo& out_type(const Step& st) { return st.node->type(0); }

// A _getitem_grad step that may be a leaf: a static float result like the chain's, no tensor
// index entries, read only by the chain.
bool leaf_ok(const Step& st, const TypeInfo& like) {
  const TypeInfo& t = out_type(st);
  return st.node->op->name == "_getitem_grad" && st.node->inputs.size() == 2 && !st.gemm && !st.fused && !st.shape_only && t.rank_known &&
         !t.sparse && t.shape == like.shape && t.dtype == like.dtype;
}

// The left chain add(add(add(L1, L2), L3), L4) ending at step `root`: its leaves in order and its
// add steps (empty when the chain does not qualify).
bool match_chain(const std::vector<Step>& steps, int root, const std::vector<int>& producer,
                 const std::vector<std::vector<int>>& readers, const std::vector<char>& pinned, SliceSumStep& out,
                 std::vector<int>& members) {
  const TypeInfo& like = out_type(steps[root]);
  if (!like.rank_known || like.sparse || (like.dtype != DType::float32 && like.dtype != DType::float64)) return false;
  auto sole = [&](int s, int by) { return !pinned[s] && readers[s].size() == 1 && readers[s][0] == by; };
  std::vector<Node*> rev;
  int cur = root;
  for (;;) {
    const Step& a = steps[cur];
    int r = producer[a.in[1]];
    if (r < 0 || !leaf_ok(steps[r], like) || !sole(a.in[1], cur)) return false;
    rev.push_back(steps[r].node);
    members.push_back(r);
    members.push_back(cur);
    int l = producer[a.in[0]];
    if (l < 0 || !sole(a.in[0], cur)) return false;
    if (is_add(steps[l]) && out_type(steps[l]).shape == like.shape && out_type(steps[l]).dtype == like.dtype) {
      cur = l;
      continue;
    }
    if (!leaf_ok(steps[l], like)) return false;
    rev.push_back(steps[l].node);
    members.push_back(l);
    break;
  }
  for (int m : members)  // one `like` for all: the run-time shape of every leaf
    if (steps[m].node->op->name == "_getitem_grad" && steps[m].in[1] != steps[members.back()].in[1]) return false;
  out.leaves.assign(rev.rbegin(), rev.rend());
  out.adds.clear();
  for (int m : members)
    if (steps[m].node->op->name == "add") out.adds.insert(out.adds.begin(), steps[m].node);
  return true;
}

template <class T>
void add_to_view(Tensor& view, const Tensor& g) {
  const Tensor gc = g.contiguous();
  const T* src = gc.data<T>();
  const int nd = view.ndim();
  const int64_t inner = nd ? view.shape()[nd - 1] : 1, is = nd ? view.strides()[nd - 1] : 1;
  const int64_t rows = inner ? view.numel() / inner : 0;
  std::vector<int64_t> idx(static_cast<size_t>(std::max(nd - 1, 0)), 0);
  for (int64_t r = 0; r < rows; ++r) {
    T* d = view.data<T>();
    for (int k = 0; k + 1 < nd; ++k) d += idx[k] * view.strides()[k];
    const T* s = src + r * inner;
    if (is == 1) for (int64_t j = 0; j < inner; ++j) d[j] += s[j];
    else for (int64_t j = 0; j < inner; ++j) d[j * is] += s[j];
    for (int k = nd - 2; k >= 0 && ++idx[k] == view.shape()[k]; --k) idx[k] = 0;
  }
}

// The chain as the unfused plan runs it: each leaf's kernel, then the adds in order.
Tensor run_slice_members(const SliceSumStep& f, KernelCtx& ctx) {
  const Tensor& like = ctx.in.back();
  std::vector<Tensor> leaf;
  for (size_t k = 0; k < f.leaves.size(); ++k) {
    KernelCtx c{*f.leaves[k], {ctx.in[k], like}, ctx.alloc};
    leaf.push_back(f.leaves[k]->op->forward(c));
  }
  Tensor v = leaf[0];
  for (size_t k = 0; k < f.adds.size(); ++k) {
    KernelCtx c{*f.adds[k], {v, leaf[k + 1]}, ctx.alloc};
    v = f.adds[k]->op->forward(c);
  }
  return v;
}

}  // namespace

void fuse_slice_grads(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots) {
  const int n = static_cast<int>(steps.size());
  std::vector<std::vector<int>> readers(nslots);
  std::vector<int> producer(nslots, -1);
  for (int i = 0; i < n; ++i) {
    for (int s : steps[i].in) readers[s].push_back(i);
    for (int s : steps[i].out) producer[s] = i;
  }
  std::vector<char> gone(n, 0);
  for (int i = n - 1; i >= 0; --i) {
    if (gone[i] || !is_add(steps[i])) continue;
    auto f = std::make_shared<SliceSumStep>();
    std::vector<int> members;
    if (!match_chain(steps, i, producer, readers, pinned, *f, members)) continue;
    Step st{steps[i].node, {}, {}, steps[i].out, {}, nullptr};
    for (Node* leaf : f->leaves)
      for (int m : members)
        if (steps[m].node == leaf) st.in.push_back(steps[m].in[0]);
    const int like = members.back();  // the first leaf's `like` input gives the run-time shape
    st.in.push_back(steps[like].in[1]);
    st.slices = f;
    for (int m : members) gone[m] = 1;
    steps[i] = std::move(st);
    gone[i] = 0;
  }
  std::vector<Step> out;
  for (int i = 0; i < n; ++i)
    if (!gone[i]) out.push_back(std::move(steps[i]));
  steps.swap(out);
}

Tensor run_slice_sum(const SliceSumStep& f, KernelCtx& ctx) {
  const Tensor& like = ctx.in.back();
  const DType dt = ctx.in[0].dtype();
  bool ok = dt == DType::float32 || dt == DType::float64;
  for (size_t k = 0; k + 1 < ctx.in.size(); ++k) ok = ok && ctx.in[k].dtype() == dt && !ctx.in[k].is_sparse();
  if (!ok) return run_slice_members(f, ctx);
  Tensor out = ctx.alloc_zeros(like.shape(), dt);
  std::vector<Tensor> views;
  for (size_t k = 0; k < f.leaves.size(); ++k) {
    views.push_back(getitem_grad_view(*f.leaves[k], out));
    if (views.back().shape() != ctx.in[k].shape()) return run_slice_members(f, ctx);  // the leaf reports it
  }
  for (size_t k = 0; k < views.size(); ++k) {
    if (dt == DType::float32) add_to_view<float>(views[k], ctx.in[k]);
    else add_to_view<double>(views[k], ctx.in[k]);
  }
  return out;
}

}  // namespace keras_cpp
