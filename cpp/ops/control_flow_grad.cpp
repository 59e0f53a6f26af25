// cpp/ops/control_flow_grad.cpp — gradients of the loops (map_fn/foldl/foldr and rnn's scan).
// The body's own gradient graph (VJP w.r.t. its placeholders, seeded by placeholders) is built
// once per gradient call; one gradient node runs it per element in C++ (a fold first replays the
// forward loop to get each step's accumulator; the scan reads the carries its forward kept) and
// has one result per loop input that gets a gradient. Second derivatives are not provided.

#include "core/allocator.h"
#include "keras_cpp/autodiff.h"
#include "kernels/gemm.h"
#include "ops/helpers.h"
#include "ops/loop.h"

namespace keras_cpp {
namespace {

OpRef kLoopGrad, kScanGrad;

// acc += g (same shape; acc contiguous float32/float64).
void add_into(Tensor& acc, const Tensor& g, const char* op) {
  if (g.shape() != acc.shape())
    fail_value(op, "internal: gradient of shape " + shape_str(g.shape()) + " for a tensor of shape " + shape_str(acc.shape()));
  Tensor gc = g.astype(acc.dtype()).contiguous();
  dispatch_float(acc.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* a = acc.data<T>();
    const T* b = gc.data<T>();
    for (int64_t i = 0, n = acc.numel(); i < n; ++i) a[i] += b[i];
  });
}

void copy_row(const Tensor& g, Tensor& dst_all, int64_t i, const char* op) {
  Tensor dst = loop_row(dst_all, i);
  if (g.shape() != dst.shape())
    fail_value(op, "internal: gradient of shape " + shape_str(g.shape()) + " for an element of shape " + shape_str(dst.shape()));
  copy_into(g, dst);
}

// (params..., captured..., seed) -> the body's VJP for each of (params..., captured...).
Function* compile_grad_body(const Node& n) {
  std::vector<Expr> ins = loop_body_inputs(n), outs;
  for (auto& v : n.attrs.get("gbody").list) outs.push_back(v.t);
  ins.push_back(outs.front());  // the seed placeholder
  outs.erase(outs.begin());
  return new Function(ins, outs);
}

// Gradients of every loop input, in input order (undefined where not in "parts").
std::vector<Tensor> run_loop_grad(KernelCtx& ctx) {
  const Node& n = ctx.node;
  const char* op = loop_name(n);
  Function& fb = loop_function(ctx, true, [&] { return compile_grad_body(n); });
  DType P = n.attrs.dtype("pdtype");
  const Tensor& xs = ctx.in[0];
  const Tensor& gy = ctx.in.back();
  std::vector<Tensor> in(ctx.in.begin(), ctx.in.end() - 1);
  size_t fc = loop_first_captured(n), np = fc;  // body params: map (x); fold (acc, x)
  int64_t len = xs.shape()[0];
  std::vector<Tensor> grads(in.size());
  grads[0] = Tensor::zeros(xs.shape(), P);
  for (size_t k = fc; k < in.size(); ++k) grads[k] = Tensor::zeros(in[k].shape(), P);
  std::vector<Tensor> feeds(in.begin(), in.end());
  feeds.push_back(Tensor());
  if (!loop_is_fold(n)) {
    for (int64_t i = 0; i < len; ++i) {
      feeds[0] = loop_row(xs, i);
      feeds.back() = loop_row(gy, i);
      std::vector<Tensor> g = fb(feeds);
      copy_row(g[0], grads[0], i, op);
      for (size_t k = fc; k < in.size(); ++k) add_into(grads[k], g[k], op);
    }
    return grads;
  }
  Function& ff = loop_function(ctx, false, [&] { return compile_loop_body(n); });
  std::vector<Tensor> trace;
  run_fold(n, ff, in, &trace);
  Tensor gacc = gy;
  for (int64_t t = len - 1; t >= 0; --t) {
    int64_t i = fold_index(n, t, len);
    feeds[0] = trace[t];
    feeds[1] = loop_row(xs, i);
    feeds.back() = gacc;
    std::vector<Tensor> g = fb(feeds);
    copy_row(g[1], grads[0], i, op);
    for (size_t k = np; k < in.size(); ++k) add_into(grads[k], g[k], op);
    gacc = g[0];
  }
  grads[1] = gacc.astype(P).contiguous();
  return grads;
}

// The gradient node's results: grads[j] for the inputs j in attr "parts", in each input's dtype.
std::vector<Tensor> part_results(KernelCtx& ctx, const std::vector<Tensor>& grads) {
  std::vector<Tensor> r;
  for (int64_t j : ctx.attrs().ints("parts")) r.push_back(grads[j].astype(ctx.in[j].dtype()));
  return r;
}

std::vector<Tensor> loop_grad_forward(KernelCtx& ctx) { return part_results(ctx, run_loop_grad(ctx)); }

// The gradient node `op` for loop node n's inputs listed in `parts` (computed in float64 when
// one of them is float64): its results, placed at those inputs.
std::vector<Expr> grad_node(const Node& n, const OpRef& op, std::vector<Expr> ins, Attrs a,
                            const std::vector<int64_t>& parts, bool f64) {
  a.set("parts", Value(parts));
  a.set("pdtype", dtype_value(f64 ? DType::float64 : DType::float32));
  Expr gn = make_node(op, ins, a);
  std::vector<Expr> r(n.inputs.size());
  for (size_t k = 0; k < parts.size(); ++k) r[parts[k]] = Expr(gn.node(), static_cast<uint32_t>(k));
  return r;
}

// One result per loop input in "parts", typed like that input.
std::vector<TypeInfo> parts_infer(const std::vector<TypeInfo>& in, const Attrs& a, const char* op) {
  if (!a.has("gbody") || !a.has("parts")) fail_value(op, "is made by the gradient of a loop only");
  std::vector<TypeInfo> r;
  for (int64_t j : a.ints("parts")) r.push_back(in.at(static_cast<size_t>(j)));
  return r;
}

// (params..., captured..., seeds..., saved...) -> the body's VJP for each of (params...,
// captured...) that has one, then each outer product's two factors; attr gbody = [seed per body
// output (None where not seeded)..., VJP per body input (None where it is an outer product)...].
Function* compile_scan_grad_body(const Node& n) {
  std::vector<Expr> ins = loop_body_inputs(n), outs;
  const auto& gb = n.attrs.get("gbody").list;
  size_t nouts = loop_nouts(n);
  for (size_t k = 0; k < nouts; ++k)
    if (!gb[k].is_none()) ins.push_back(gb[k].t);
  if (n.attrs.has("gsaved"))
    for (auto& v : n.attrs.get("gsaved").list) ins.push_back(v.t);
  for (size_t k = nouts; k < gb.size(); ++k)
    if (!gb[k].is_none()) outs.push_back(gb[k].t);
  if (n.attrs.has("gouter_ab"))
    for (auto& v : n.attrs.get("gouter_ab").list) outs.push_back(v.t);
  return new Function(ins, outs);
}

// acc (K x N) += sum over steps of a_t^T g_t, as one product of the stacked factors.
void add_outer(Tensor& acc, const Tensor& A, const Tensor& G) {
  const int64_t K = A.shape().back(), N = G.shape().back(), rows = A.numel() / std::max<int64_t>(K, 1);
  if (acc.shape() != Shape{K, N} || G.numel() != rows * N)
    fail_value("rnn", "internal: weight gradient factors " + shape_str(A.shape()) + " and " + shape_str(G.shape()) +
                          " for a weight of shape " + shape_str(acc.shape()));
  Tensor r = Tensor::empty({K, N}, A.dtype());
  dispatch_float(A.dtype(), "rnn", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kBlasType<T>) {
      blas::gemm<T>(K, N, rows, A.data<T>(), 1, K, G.data<T>(), N, 1, r.data<T>(), N);
    } else {
      fail_type("rnn", "internal: outer-product weight gradient of a " + std::string(dtype_name(A.dtype())) + " step");
    }
  });
  add_into(acc, r, "rnn");
}

// Stack a per-step value into slice t of buf along `axis` (allocated from the pool at the first step).
void keep_row(KernelCtx& ctx, Tensor& buf, const Tensor& v, int64_t t, int64_t len, int axis = 0) {
  if (!buf.defined()) {
    Shape s = v.shape();
    s.insert(s.begin() + axis, len);
    buf = ctx.alloc_tensor(s, v.dtype());
  }
  Tensor dst = loop_slice(buf, axis, t);
  if (v.shape() != dst.shape())
    fail_value("rnn", "internal: gradient of shape " + shape_str(v.shape()) + " for an element of shape " + shape_str(dst.shape()));
  copy_into(v, dst);
}

// For each outer product j, the sequence whose gradient is its per-step factor g_t, or g_t summed
// to the sequence step's shape (-1: none). An LSTM's dz_t is both (the hoisted x_t W's gradient),
// so when the run-time shapes agree (the sum is then the identity) the sequence's gradient
// (batch, time, N), filled per step anyway, serves as the stacked g with no second copy.
std::vector<int> outer_g_seq(const Node& n, const ScanLayout& L, size_t nouts, DType P) {
  const auto& gb = n.attrs.get("gbody").list;
  const auto& ab = n.attrs.get("gouter_ab").list;
  std::vector<int> r(ab.size() / 2, -1);
  for (size_t j = 0; j < r.size() && L.axis == 1; ++j) {
    const Expr& g = ab[2 * j + 1].t;
    if (g.dtype() != P || ab[2 * j].t.dtype() != P) continue;
    for (size_t s = 0; s < L.nseq && r[j] < 0; ++s) {
      if (gb[nouts + s].is_none() || !n.inputs[s].rank_known() || n.inputs[s].ndim() != 3) continue;
      const Expr& v = gb[nouts + s].t;
      const bool sum_of_g = v->kind == NodeKind::op && v->op->name == "_sum_to" && Expr(v->inputs[0]) == g;
      if (v == g || sum_of_g) r[j] = static_cast<int>(s);
    }
  }
  return r;
}

// Walk the scan back from its last step, feeding each step the carries (and saved body results)
// the forward pass kept. Inputs: the loop's inputs (attr nin), its carry traces, its saved
// results, then the cotangents attr gmask lists.
std::vector<Tensor> scan_grad_forward(KernelCtx& ctx) {
  const Node& n = ctx.node;
  ScanLayout L = scan_layout(n);
  Function& fb = loop_function(ctx, true, [&] { return compile_scan_grad_body(n); });
  DType P = n.attrs.dtype("pdtype");
  const size_t nin = static_cast<size_t>(n.attrs.i("nin")), nsaved = scan_nsaved(n), nouts = L.nstack + L.ncarry;
  const auto& gmask = n.attrs.ints("gmask");
  std::vector<Tensor> gout(nouts);
  for (size_t k = 0, pos = nin + L.ncarry + nsaved; k < gout.size(); ++k)
    if (gmask[k]) gout[k] = ctx.in[pos++];
  const auto& gb = n.attrs.get("gbody").list;
  std::vector<int> vjp_at(nin, -1);  // body input k's VJP among the body function's outputs
  int nf = 0;
  for (size_t k = 0; k < nin; ++k)
    if (!gb[nouts + k].is_none()) vjp_at[k] = nf++;
  std::vector<int64_t> outer;
  if (n.attrs.has("gouter")) outer = n.attrs.ints("gouter");
  std::vector<Tensor> fa(outer.size()), fg(outer.size());
  std::vector<int> gseq;
  if (!outer.empty()) gseq = outer_g_seq(n, L, nouts, P);
  int64_t len = ctx.in[0].shape()[L.axis];
  std::vector<Tensor> grads(nin), gcarry(L.ncarry);
  for (size_t k = 0; k < nin; ++k) {
    const bool every_step_writes = k < L.nseq && is_floating(ctx.in[k].dtype()) && vjp_at[k] >= 0;  // no zeros needed
    if (every_step_writes) grads[k] = ctx.alloc_tensor(ctx.in[k].shape(), P);
    else if (k < L.nseq || k >= L.nseq + L.ncarry) grads[k] = ctx.alloc_zeros(ctx.in[k].shape(), P);
  }
  for (size_t c = 0; c < L.ncarry; ++c)
    gcarry[c] = gout[L.nstack + c].defined() ? gout[L.nstack + c] : Tensor::zeros(ctx.in[L.nseq + c].shape(), P);
  std::vector<Tensor> feeds(ctx.in.begin(), ctx.in.begin() + static_cast<std::ptrdiff_t>(nin));
  for (int64_t t = len - 1; t >= 0; --t) {
    int64_t i = L.reverse ? len - 1 - t : t;
    feeds.resize(nin);
    for (size_t s = 0; s < L.nseq; ++s) feeds[s] = loop_slice(ctx.in[s], L.axis, i);
    for (size_t c = 0; c < L.ncarry; ++c) feeds[L.nseq + c] = loop_row(ctx.in[nin + c], t);
    for (size_t k = 0; k < L.nstack; ++k)
      if (!gb[k].is_none()) feeds.push_back(loop_slice(gout[k], L.axis, t));
    for (size_t c = 0; c < L.ncarry; ++c)
      if (!gb[L.nstack + c].is_none()) feeds.push_back(gcarry[c]);
    for (size_t j = 0; j < nsaved; ++j) feeds.push_back(loop_row(ctx.in[nin + L.ncarry + j], t));
    std::vector<Tensor> g = fb(feeds);
    for (size_t j = 0; j < gseq.size() && t == len - 1; ++j)  // the shapes are those of every step
      if (gseq[j] >= 0 && g[vjp_at[gseq[j]]].shape() != g[nf + 2 * j + 1].shape()) gseq[j] = -1;
    for (size_t s = 0; s < L.nseq; ++s)
      if (is_floating(ctx.in[s].dtype()) && vjp_at[s] >= 0) {
        Tensor dst = loop_slice(grads[s], L.axis, i);
        copy_into(g[vjp_at[s]], dst);
      }
    for (size_t c = 0; c < L.ncarry; ++c) gcarry[c] = g[vjp_at[L.nseq + c]];
    for (size_t k = L.nseq + L.ncarry; k < nin; ++k)
      if (vjp_at[k] >= 0) add_into(grads[k], g[vjp_at[k]], "rnn");
    for (size_t j = 0; j < outer.size(); ++j) {
      if (gseq[j] >= 0) {  // g_t is already in grads[gseq[j]] at time index i
        keep_row(ctx, fa[j], g[nf + 2 * j], i, len, 1);
        continue;
      }
      keep_row(ctx, fa[j], g[nf + 2 * j], t, len);
      keep_row(ctx, fg[j], g[nf + 2 * j + 1], t, len);
    }
  }
  for (size_t j = 0; j < outer.size(); ++j) {
    add_outer(grads[outer[j]], fa[j], gseq[j] >= 0 ? grads[gseq[j]] : fg[j]);
    if (ctx.alloc) ctx.alloc->release(std::move(fa[j]));
    if (ctx.alloc && fg[j].defined()) ctx.alloc->release(std::move(fg[j]));
  }
  for (size_t c = 0; c < L.ncarry; ++c) grads[L.nseq + c] = gcarry[c].astype(P).contiguous();
  return part_results(ctx, grads);
}

// Use the forward's saved body results in the VJPs `gs` (placeholders fed from the saved
// results instead of recomputing the step); returns the placeholders, in "saved" order.
std::vector<Value> use_saved(const Node& n, std::vector<Expr>& gs) {
  std::vector<Value> ph;
  if (!scan_nsaved(n)) return ph;
  std::unordered_map<Expr, Expr, ExprHash> remap;
  for (auto& v : n.attrs.get("saved").list) {
    Expr p = placeholder(v.t.shape(), v.t.dtype(), "rnn_grad/saved", v.t.rank_known());
    remap[v.t] = p;
    ph.push_back(Value(p));
  }
  std::vector<Expr> defined;
  for (auto& g : gs)
    if (g) defined.push_back(g);
  std::vector<Expr> c = clone_graph(defined, remap);
  for (size_t k = 0, j = 0; k < gs.size(); ++k)
    if (gs[k]) gs[k] = c[j++];
  return ph;
}

// A captured weight's VJP matmul(transpose(a_t), g_t) (2-D a_t, g_t): the loop keeps a_t and g_t
// per step and makes the sum over steps one product after it (attrs gouter, gouter_ab).
void outer_products(const Node& n, std::vector<Expr>& gs, Attrs& a) {
  ScanLayout L = scan_layout(n);
  std::vector<int64_t> ks;
  std::vector<Value> ab;
  for (size_t k = L.nseq + L.ncarry; k < gs.size(); ++k) {
    const Expr& g = gs[k];
    if (!g || g->kind != NodeKind::op || g->op->name != "matmul" || g.index() != 0) continue;
    Expr at = g->inputs[0], gt = g->inputs[1];
    if (at->kind != NodeKind::op || at->op->name != "permute_dimensions" || at->attrs.ints("pattern") != std::vector<int64_t>{1, 0})
      continue;
    Expr av = at->inputs[0];
    DType dt = g.dtype();
    if ((dt != DType::float32 && dt != DType::float64) || !av.rank_known() || av.ndim() != 2 || !gt.rank_known() || gt.ndim() != 2)
      continue;
    ks.push_back(static_cast<int64_t>(k));
    ab.push_back(Value(av));
    ab.push_back(Value(gt));
    gs[k] = Expr();
  }
  if (ks.empty()) return;
  a.set("gouter", Value(ks));
  a.set("gouter_ab", Value(ab));
}

}  // namespace

std::vector<Expr> loop_grad(const std::shared_ptr<Node>& y, const std::vector<Expr>& gouts) {
  const Node& n = *y;
  std::vector<Expr> body = loop_body(n), none(n.inputs.size());
  Expr out = body.back();
  body.pop_back();
  if (!is_floating(out.dtype())) return none;
  Expr seed = placeholder(out.shape(), out.dtype(), "loop_grad/seed", out.rank_known());
  std::vector<Expr> gs = gradients(out * seed, body);
  bool fold = loop_is_fold(n);
  // Body gradient k belongs to loop input k, except fold's (acc, x) <-> inputs (init, elems).
  auto input_of = [&](size_t k) { return fold && k < 2 ? 1 - k : k; };
  std::vector<int64_t> parts;
  bool f64 = false;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    size_t k = input_of(j);
    bool wanted = is_floating(n.inputs[j].dtype()) && (gs[k] || (fold && j == 1));
    if (wanted) parts.push_back(static_cast<int64_t>(j));
    f64 = f64 || (wanted && n.inputs[j].dtype() == DType::float64);
  }
  if (parts.empty()) return none;
  std::vector<Value> gbody{Value(seed)};
  for (size_t k = 0; k < body.size(); ++k) gbody.push_back(Value(gs[k] ? gs[k] : zeros_like(body[k], body[k].dtype())));
  Attrs a = n.attrs;
  a.set("gbody", Value(gbody));
  std::vector<Expr> ins = n.inputs;
  ins.push_back(gouts[0]);
  return grad_node(n, kLoopGrad, ins, a, parts, f64);
}

// Stacked outputs are seeded only when a cotangent reaches them; carries always (their
// cotangent flows between steps even when none reaches the final carry).
std::vector<Expr> scan_grad(const std::shared_ptr<Node>& y, const std::vector<Expr>& gouts) {
  const Node& n = *y;
  ScanLayout L = scan_layout(n);
  std::vector<Expr> body = loop_body_inputs(n), outs = loop_body_outputs(n), none(n.inputs.size());
  std::vector<Value> gbody;
  std::vector<int64_t> gmask;
  std::vector<Expr> cots, ys, seeds;
  for (size_t k = 0; k < outs.size(); ++k) {
    const Expr& o = outs[k];
    bool carry = k >= L.nstack;
    if (!is_floating(o.dtype()) || (!carry && !gouts[k])) {
      gbody.push_back(Value());
      gmask.push_back(0);
      continue;
    }
    Expr seed = placeholder(o.shape(), o.dtype(), "rnn_grad/seed", o.rank_known());
    gbody.push_back(Value(seed));
    gmask.push_back(gouts[k] ? 1 : 0);
    if (gouts[k]) cots.push_back(gouts[k]);
    ys.push_back(o);
    seeds.push_back(seed);
  }
  if (ys.empty()) return none;
  std::vector<Expr> gs = gradients(ys, seeds, body);  // seeded directly: the step's outputs are not recomputed
  std::vector<int64_t> parts;
  bool f64 = false;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    bool carry = j >= L.nseq && j < L.nseq + L.ncarry;
    bool wanted = is_floating(n.inputs[j].dtype()) && (gs[j] || carry);
    if (wanted) parts.push_back(static_cast<int64_t>(j));
    f64 = f64 || (wanted && n.inputs[j].dtype() == DType::float64);
  }
  if (parts.empty()) return none;
  Attrs a = n.attrs;
  std::vector<Value> saved = use_saved(n, gs);
  if (!saved.empty()) a.set("gsaved", Value(saved));
  for (size_t k = 0; k < body.size(); ++k)
    if (!gs[k] && (k < L.nseq + L.ncarry || !is_floating(body[k].dtype()))) gs[k] = zeros_like(body[k], body[k].dtype());
  outer_products(n, gs, a);
  for (size_t k = 0; k < body.size(); ++k) gbody.push_back(Value(gs[k]));  // None: no VJP, or an outer product
  a.set("gbody", Value(gbody));
  a.set("gmask", Value(gmask));
  a.set("nin", Value(static_cast<int64_t>(n.inputs.size())));
  std::vector<Expr> ins = n.inputs;
  for (size_t c = 0; c < L.ncarry; ++c) ins.push_back(Expr(y, static_cast<uint32_t>(L.nstack + L.ncarry + c)));
  for (size_t j = 0; j < scan_nsaved(n); ++j) ins.push_back(Expr(y, static_cast<uint32_t>(L.nstack + 2 * L.ncarry + j)));
  ins.insert(ins.end(), cots.begin(), cots.end());
  return grad_node(n, kScanGrad, ins, a, parts, f64);
}

namespace {

std::vector<TypeInfo> loop_grad_infer(const std::vector<TypeInfo>& in, const Attrs& a) { return parts_infer(in, a, "_loop_grad"); }
std::vector<TypeInfo> scan_grad_infer(const std::vector<TypeInfo>& in, const Attrs& a) { return parts_infer(in, a, "_scan_grad"); }

}  // namespace

void register_control_flow_grad() {
  register_op(kLoopGrad, Op("_loop_grad(inputs: tensors)",
                            "Gradients of a map_fn/foldl/foldr loop: inputs (loop inputs..., cotangent); one result per loop input "
                            "listed in attr `parts`.")
                             .infer_multi(loop_grad_infer).forward_multi(loop_grad_forward).flags(kNonDiff));
  register_op(kScanGrad, Op("_scan_grad(inputs: tensors)",
                            "Gradients of rnn's scan loop: inputs (loop inputs..., carry traces..., cotangents in attr `gmask`); one "
                            "result per loop input listed in attr `parts`.")
                             .infer_multi(scan_grad_infer).forward_multi(scan_grad_forward).flags(kNonDiff));
}

}  // namespace keras_cpp
