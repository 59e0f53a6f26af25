// cpp/ops/control_flow_grad.cpp — gradients of map_fn/foldl/foldr. The body's own gradient
// graph (VJP w.r.t. its placeholders, seeded by a placeholder) is built once per gradient call;
// one _loop_grad node runs it per element in C++ (a fold first replays the forward loop to get
// each step's accumulator, then walks back). Its results for all inputs come packed in one 1-D
// tensor (ops have one output) that _loop_part nodes slice. Second derivatives are not provided.
#include "keras_cpp/autodiff.h"
#include "ops/helpers.h"
#include "ops/loop.h"

namespace keras_cpp {
namespace {

OpDef def(const char* sig, const char* doc) {
  OpDef d;
  d.signature = sig;
  d.doc = doc;
  return d;
}

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
  std::vector<Expr> ins = loop_body(n), outs;
  ins.pop_back();
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

Tensor loop_grad_forward(KernelCtx& ctx) {
  std::vector<Tensor> grads = run_loop_grad(ctx);
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
  a.set("parts", Value(parts));
  a.set("pdtype", Value(std::string(f64 ? "float64" : "float32")));
  a.set("cache", new_loop_cache());
  std::vector<Expr> ins;
  for (auto& in : n.inputs) ins.push_back(Expr(in));
  ins.push_back(g);
  Expr packed = make_node("_loop_grad", ins, a);
  std::vector<Expr> r(n.inputs.size());
  std::vector<Expr> likes{packed};
  for (int64_t j : parts) {
    likes.push_back(Expr(n.inputs[j]));
    r[j] = make_node("_loop_part", likes);
  }
  return r;
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
