// cpp/ops/control_flow_grad.cpp — gradients of map_fn/foldl/foldr. The body's own gradient
// graph (VJP w.r.t. its placeholders, seeded by a placeholder) is built once per gradient call;
// one _loop_grad node runs it per element in C++ (a fold first replays the forward loop to get
// each step's accumulator, then walks back). Its results for all inputs come packed in one 1-D
// tensor (ops have one output) that _loop_part nodes slice. Second derivatives are not provided.
#include "keras_cpp/autodiff.h"
#include "ops/helpers.h"
#include "ops/loop.h"
#include "ops/tuple.h"

namespace keras_cpp {
namespace {


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
  for (auto& v : n.attrs.get("gbody").list) outs.push_back(Expr(v.t));
  ins.push_back(outs.front());  // the seed placeholder
  outs.erase(outs.begin());
  return new Function(ins, outs);
}

// Gradients of every loop input, in input order (undefined where not in "parts").
std::vector<Tensor> run_loop_grad(KernelCtx& ctx) {
  const Node& n = ctx.node;
  const char* op = loop_name(n);
  Function& fb = loop_function(n, true, [&] { return compile_grad_body(n); });
  DType P = dtype_from_name(n.attrs.s("pdtype"));
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
  Function& ff = loop_function(n, false, [&] { return compile_loop_body(n); });
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

// Pack grads[j] for the inputs j in attr "parts" into one 1-D tensor of attr "pdtype".
Tensor pack_grads(KernelCtx& ctx, const std::vector<Tensor>& grads) {
  const auto& parts = ctx.attrs().ints("parts");
  DType P = dtype_from_name(ctx.attrs().s("pdtype"));
  int64_t total = 0;
  for (int64_t j : parts) total += grads[j].numel();
  Tensor out = ctx.alloc_tensor({total}, P);
  int64_t off = 0;
  for (int64_t j : parts) {
    int64_t m = grads[j].numel();
    Tensor dst = out.slice(0, off, off + m, 1).reshape(grads[j].shape());
    copy_into(grads[j], dst);
    off += m;
  }
  return out;
}

Tensor loop_grad_forward(KernelCtx& ctx) { return pack_grads(ctx, run_loop_grad(ctx)); }

// The grad node `op` (packed gradients of n's inputs listed in `parts`) sliced apart per input.
std::vector<Expr> split_grads(const Node& n, const std::string& op, std::vector<Expr> ins, Attrs a,
                              const std::vector<int64_t>& parts, bool f64) {
  a.set("parts", Value(parts));
  a.set("pdtype", Value(std::string(f64 ? "float64" : "float32")));
  a.set("cache", new_loop_cache());
  Expr packed = make_node(op, ins, a);
  std::vector<Expr> r(n.inputs.size());
  std::vector<Expr> likes{packed};
  for (int64_t j : parts) {
    likes.push_back(Expr(n.inputs[j]));
    r[j] = make_node("_loop_part", likes);
  }
  return r;
}

// (params..., captured..., seeds...) -> the body's VJP for each of (params..., captured...);
// attr gbody = [seed per body output (None where not float)..., VJP per body input...].
Function* compile_scan_grad_body(const Node& n) {
  std::vector<Expr> ins = loop_body_inputs(n), outs;
  const auto& gb = n.attrs.get("gbody").list;
  size_t nouts = loop_nouts(n);
  for (size_t k = 0; k < nouts; ++k)
    if (!gb[k].is_none()) ins.push_back(Expr(gb[k].t));
  for (size_t k = nouts; k < gb.size(); ++k) outs.push_back(Expr(gb[k].t));
  return new Function(ins, outs);
}

// Walk the scan back from its last step, feeding each step the carries the forward pass kept.
Tensor scan_grad_forward(KernelCtx& ctx) {
  const Node& n = ctx.node;
  ScanLayout L = scan_layout(n);
  Function& fb = loop_function(n, true, [&] { return compile_scan_grad_body(n); });
  DType P = dtype_from_name(n.attrs.s("pdtype"));
  size_t nin = ctx.in.size() - 2;
  const Tensor& tup = ctx.in[nin];
  const std::vector<Tensor>& items = tuple_items(tup, "rnn");
  std::vector<Tensor> gout = unpack_tuple_grad(ctx.in[nin + 1], tup, n.attrs);
  const auto& gb = n.attrs.get("gbody").list;
  int64_t len = ctx.in[0].shape()[L.axis];
  std::vector<Tensor> grads(nin), gcarry(L.ncarry), zero(L.nstack);
  for (size_t k = 0; k < nin; ++k)
    if (k < L.nseq || k >= L.nseq + L.ncarry) grads[k] = Tensor::zeros(ctx.in[k].shape(), P);
  for (size_t c = 0; c < L.ncarry; ++c)
    gcarry[c] = gout[L.nstack + c].defined() ? gout[L.nstack + c] : Tensor::zeros(ctx.in[L.nseq + c].shape(), P);
  for (size_t k = 0; k < L.nstack; ++k)
    if (!gout[k].defined()) zero[k] = Tensor::zeros(loop_slice(items[k], L.axis, 0).shape(), P);
  std::vector<Tensor> feeds(ctx.in.begin(), ctx.in.begin() + static_cast<std::ptrdiff_t>(nin));
  for (int64_t t = len - 1; t >= 0; --t) {
    int64_t i = L.reverse ? len - 1 - t : t;
    feeds.resize(nin);
    for (size_t s = 0; s < L.nseq; ++s) feeds[s] = loop_slice(ctx.in[s], L.axis, i);
    for (size_t c = 0; c < L.ncarry; ++c) feeds[L.nseq + c] = items[scan_trace_item(L, t, c)];
    for (size_t k = 0; k < L.nstack; ++k)
      if (!gb[k].is_none()) feeds.push_back(gout[k].defined() ? loop_slice(gout[k], L.axis, t) : zero[k]);
    for (size_t c = 0; c < L.ncarry; ++c)
      if (!gb[L.nstack + c].is_none()) feeds.push_back(gcarry[c]);
    std::vector<Tensor> g = fb(feeds);
    for (size_t s = 0; s < L.nseq; ++s)
      if (is_floating(ctx.in[s].dtype())) {
        Tensor dst = loop_slice(grads[s], L.axis, i);
        copy_into(g[s], dst);
      }
    for (size_t c = 0; c < L.ncarry; ++c) gcarry[c] = g[L.nseq + c];
    for (size_t k = L.nseq + L.ncarry; k < nin; ++k) add_into(grads[k], g[k], "rnn");
  }
  for (size_t c = 0; c < L.ncarry; ++c) grads[L.nseq + c] = gcarry[c].astype(P).contiguous();
  return pack_grads(ctx, grads);
}

}  // namespace

std::vector<Expr> loop_grad(const Expr& y, const Expr& g) {
  const Node& n = *y.node();
  std::vector<Expr> body = loop_body(n), none(n.inputs.size());
  Expr out = body.back();
  body.pop_back();
  if (!is_floating(out.dtype())) return none;
  Expr seed = placeholder(out.shape(), out.dtype(), "loop_grad/seed", out->rank_known);
  std::vector<Expr> gs = gradients(out * seed, body);
  bool fold = loop_is_fold(n);
  // Body gradient k belongs to loop input k, except fold's (acc, x) <-> inputs (init, elems).
  auto input_of = [&](size_t k) { return fold && k < 2 ? 1 - k : k; };
  std::vector<int64_t> parts;
  bool f64 = false;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    size_t k = input_of(j);
    bool wanted = is_floating(n.inputs[j]->dtype) && (gs[k] || (fold && j == 1));
    if (wanted) parts.push_back(static_cast<int64_t>(j));
    f64 = f64 || (wanted && n.inputs[j]->dtype == DType::float64);
  }
  if (parts.empty()) return none;
  std::vector<Value> gbody{Value(seed)};
  for (size_t k = 0; k < body.size(); ++k) gbody.push_back(Value(gs[k] ? gs[k] : zeros_like(body[k], body[k].dtype())));
  Attrs a = n.attrs;
  a.set("gbody", Value(gbody));
  std::vector<Expr> ins;
  for (auto& in : n.inputs) ins.push_back(Expr(in));
  ins.push_back(g);
  return split_grads(n, "_loop_grad", ins, a, parts, f64);
}

std::vector<Expr> scan_grad(const Expr& y, const Expr& g) {
  const Node& n = *y.node();
  ScanLayout L = scan_layout(n);
  std::vector<Expr> body = loop_body_inputs(n), outs = loop_body_outputs(n), none(n.inputs.size());
  std::vector<Value> gbody;
  Expr loss;
  for (auto& o : outs) {
    if (!is_floating(o.dtype())) {
      gbody.push_back(Value());
      continue;
    }
    Expr seed = placeholder(o.shape(), o.dtype(), "rnn_grad/seed", o->rank_known);
    gbody.push_back(Value(seed));
    Expr term = outs.size() == 1 ? o * seed : sum(o * seed);
    loss = loss ? loss + term : term;
  }
  if (!loss) return none;
  std::vector<Expr> gs = gradients(loss, body);
  std::vector<int64_t> parts;
  bool f64 = false;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    bool carry = j >= L.nseq && j < L.nseq + L.ncarry;
    bool wanted = is_floating(n.inputs[j]->dtype) && (gs[j] || carry);
    if (wanted) parts.push_back(static_cast<int64_t>(j));
    f64 = f64 || (wanted && n.inputs[j]->dtype == DType::float64);
  }
  if (parts.empty()) return none;
  for (size_t k = 0; k < body.size(); ++k) gbody.push_back(Value(gs[k] ? gs[k] : zeros_like(body[k], body[k].dtype())));
  Attrs a = n.attrs;
  a.set("gbody", Value(gbody));
  std::vector<Expr> ins;
  for (auto& in : n.inputs) ins.push_back(Expr(in));
  ins.push_back(y);
  ins.push_back(g);
  return split_grads(n, "_scan_grad", ins, a, parts, f64);
}

void register_control_flow_grad() {
  OpDef lg = def("_loop_grad(inputs: tensors)",
                 "Gradients of a map_fn/foldl/foldr loop for the inputs listed in attr `parts`, packed into one 1-D tensor.");
  lg.infer = [](const std::vector<TypeInfo>&, const Attrs& a) {
    if (!a.has("gbody") || !a.has("cache")) fail_value("_loop_grad", "is made by the gradient of map_fn/foldl/foldr only");
    return TypeInfo{{kUnknownDim}, dtype_from_name(a.s("pdtype")), true};
  };
  lg.forward = loop_grad_forward;
  lg.flags = kNonDiff;
  register_op(lg);

  OpDef sg = def("_scan_grad(inputs: tensors)",
                 "Gradients of rnn's scan loop for the inputs listed in attr `parts`, packed into one 1-D tensor: "
                 "inputs (loop inputs..., loop tuple, packed tuple gradient).");
  sg.infer = [](const std::vector<TypeInfo>&, const Attrs& a) {
    if (!a.has("gbody") || !a.has("cache")) fail_value("_scan_grad", "is made by the gradient of rnn only");
    return TypeInfo{{kUnknownDim}, dtype_from_name(a.s("pdtype")), true};
  };
  sg.forward = scan_grad_forward;
  sg.flags = kNonDiff;
  register_op(sg);

  OpDef lp = def("_loop_part(inputs: tensors)",
                 "Slice the last like-tensor's gradient out of a packed _loop_grad result: inputs (packed, like_0, ..., like_j).");
  lp.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return in.back(); };
  lp.forward = [](KernelCtx& ctx) {
    int64_t off = 0;
    for (size_t k = 1; k + 1 < ctx.in.size(); ++k) off += ctx.in[k].numel();
    const Tensor& like = ctx.in.back();
    if (off + like.numel() > ctx.in[0].numel()) fail_value("_loop_part", "packed gradient is too short for its parts");
    return ctx.in[0].slice(0, off, off + like.numel(), 1).reshape(like.shape()).astype(like.dtype());
  };
  lp.flags = kNonDiff | kView;
  register_op(lp);
}

}  // namespace keras_cpp
