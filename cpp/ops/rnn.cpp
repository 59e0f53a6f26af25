// cpp/ops/rnn.cpp — K.rnn. rnn() below traces the step function (a C++ function, or a Python one
// wrapped by the binding) once on placeholders and turns the trace into a `_scan` loop node
// (ops/loop.h) whose kernel runs the compiled step once per time step in C++, or, with
// unroll=True, copies the step's per-step nodes once per time step at build time. Masking:
// states are selected inside the loop body (so the body's own gradient covers it); outputs are
// forward-filled after the loop by `_mask_fill`.
//
// _scan layout: attrs axis, reverse, nseq, ncarry, nstack; body = [seq params, carry params,
// captured placeholders, stacked outs (nstack), new carries (ncarry)]; inputs = [seqs, inits,
// captured]. Results: [stacked..., final carries..., traces..., saved...]; trace c holds carry c
// before each step, saved j (attr "saved", ops/rnn_plan.cpp) body result j at each step, both for
// the backward pass (which then needs no forward replay) and only filled when something reads them
// (a saved value in attr saved_shape_only is a zero broadcast to its shape: only that is read).
#include <cstring>

#include "ops/helpers.h"
#include "ops/loop.h"

namespace keras_cpp {
namespace {

OpRef kScan, kMaskFill, kMaskFillGrad, kRnnStack, kLengthMask;

constexpr int64_t kNone = INT64_MIN;  // None inside _getitem specs


std::string shape_of(const Expr& e) { return e.rank_known() ? shape_str(e.shape()) : std::string("<unknown rank>"); }

// x[:, i] (a view) for a tensor of rank >= 2.
Expr time_slice(const Expr& x, int64_t i) {
  return getitem(x, {1, kNone, kNone, kNone, 0, i, 0, 0});
}

bool compatible(const Expr& a, const Expr& b) {
  if (!a.rank_known() || !b.rank_known()) return true;
  if (a.ndim() != b.ndim()) return false;
  for (int i = 0; i < a.ndim(); ++i)
    if (a.shape()[i] >= 0 && b.shape()[i] >= 0 && a.shape()[i] != b.shape()[i]) return false;
  return true;
}

// Check a step's results against step 0 (stacked outputs) and the carries (states keep their shape).
void check_step(const ScanLayout& L, const std::vector<Tensor>& out, const std::vector<Tensor>& stacked,
                const std::vector<Tensor>& feeds, int64_t t) {
  for (size_t k = 0; k < L.nstack; ++k) {
    Shape want = loop_slice(stacked[k], L.axis, 0).shape();
    if (out[k].shape() != want)
      fail_value("rnn", "step_function returned an output of shape " + shape_str(out[k].shape()) + " at step " + std::to_string(t) +
                            " but " + shape_str(want) + " at step 0");
  }
  for (size_t c = 0; c < L.ncarry; ++c) {
    const Tensor& nc = out[L.nstack + c];
    if (nc.shape() != feeds[L.nseq + c].shape())
      fail_value("rnn", "step_function returned new state " + std::to_string(c) + " of shape " + shape_str(nc.shape()) +
                            " for a state of shape " + shape_str(feeds[L.nseq + c].shape()) + " (states must keep their shape)");
  }
}

// The step with, when `save`, the saved body results as extra outputs.
Function* compile_scan_body(const Node& n, bool save) {
  std::vector<Expr> outs = loop_body_outputs(n);
  if (save)
    for (auto& v : n.attrs.get("saved").list) outs.push_back(v.t);
  return new Function(loop_body_inputs(n), outs);
}

std::vector<Tensor> scan_forward(KernelCtx& ctx) {
  const Node& n = ctx.node;
  ScanLayout L = scan_layout(n);
  const size_t nsaved = scan_nsaved(n), s0 = L.nstack + 2 * L.ncarry, nout = L.nstack + L.ncarry;
  bool save = false;
  for (size_t j = 0; j < nsaved; ++j) save = save || ctx.output_used(s0 + j);
  std::vector<int64_t> shape_only(nsaved, 0);
  if (n.attrs.has("saved_shape_only")) shape_only = n.attrs.ints("saved_shape_only");
  Function& f = loop_function(ctx, false, [&] { return compile_scan_body(n, save); });
  int64_t len = ctx.in[0].shape()[L.axis];
  for (size_t s = 1; s < L.nseq; ++s)
    if (ctx.in[s].shape()[L.axis] != len)
      fail_value("rnn", "mask has " + std::to_string(ctx.in[s].shape()[L.axis]) + " time steps but inputs have " + std::to_string(len));
  if (len == 0) fail_value("rnn", "inputs have 0 time steps (shape " + shape_str(ctx.in[0].shape()) + ")");
  std::vector<Tensor> feeds(ctx.in.begin(), ctx.in.end()), stacked(L.nstack), traces(L.ncarry), saved(save ? nsaved : 0);
  for (size_t c = 0; c < L.ncarry; ++c) {
    if (!ctx.output_used(L.nstack + L.ncarry + c)) continue;
    Shape s = feeds[L.nseq + c].shape();
    s.insert(s.begin(), len);
    traces[c] = ctx.alloc_tensor(s, feeds[L.nseq + c].dtype());
  }
  for (int64_t t = 0; t < len; ++t) {
    int64_t i = L.reverse ? len - 1 - t : t;
    for (size_t s = 0; s < L.nseq; ++s) feeds[s] = loop_slice(ctx.in[s], L.axis, i);
    for (size_t c = 0; c < L.ncarry; ++c)
      if (traces[c].defined()) {
        Tensor dst = loop_row(traces[c], t);
        copy_into(feeds[L.nseq + c], dst);
      }
    std::vector<Tensor> out = f(feeds);
    for (size_t k = 0; k < L.nstack && t == 0; ++k) {
      Shape s = out[k].shape();
      s.insert(s.begin() + L.axis, len);
      stacked[k] = ctx.alloc_tensor(s, out[k].dtype());
    }
    check_step(L, out, stacked, feeds, t);
    for (size_t k = 0; k < L.nstack; ++k) {
      Tensor dst = loop_slice(stacked[k], L.axis, t);
      copy_into(out[k], dst);
    }
    for (size_t j = 0; j < saved.size(); ++j) {
      const Tensor& v = out[nout + j];
      if (t == 0) {
        Shape sh = v.shape();
        sh.insert(sh.begin(), len);
        // a value the backward reads for its shape alone: one zero broadcast to every step
        saved[j] = shape_only[j] ? Tensor::zeros({}, v.dtype()).broadcast_to(sh) : ctx.alloc_tensor(sh, v.dtype());
      }
      Tensor dst = loop_row(saved[j], t);
      if (v.shape() != dst.shape())
        fail_value("rnn", "a step value changed shape from " + shape_str(dst.shape()) + " to " + shape_str(v.shape()) + " at step " + std::to_string(t));
      if (!shape_only[j]) copy_into(v, dst);
    }
    for (size_t c = 0; c < L.ncarry; ++c) feeds[L.nseq + c] = std::move(out[L.nstack + c]);
  }
  std::vector<Tensor> results(stacked);
  for (size_t c = 0; c < L.ncarry; ++c) results.push_back(feeds[L.nseq + c]);
  results.insert(results.end(), traces.begin(), traces.end());
  saved.resize(nsaved);  // undefined when nothing reads them
  results.insert(results.end(), saved.begin(), saved.end());
  return results;
}

// Static results of a scan: stacked outputs get the time axis, traces a leading one.
std::vector<TypeInfo> scan_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const auto& body = a.get("body").list;
  if (!a.has("body") || body.size() != in.size() + static_cast<size_t>(a.i("nouts")))
    fail_value("_scan", "is made by rnn only (its loop body and inputs disagree)");
  ScanLayout L{static_cast<int>(a.i("axis")), a.b("reverse"), static_cast<size_t>(a.i("nseq")),
               static_cast<size_t>(a.i("ncarry")), static_cast<size_t>(a.i("nstack"))};
  int64_t T = in[0].shape[L.axis];
  std::vector<TypeInfo> r;
  for (size_t k = 0; k < L.nstack; ++k) {
    TypeInfo t = type_of(body[in.size() + k].t);
    t.shape.insert(t.shape.begin() + L.axis, T);
    r.push_back(t);
  }
  for (size_t c = 0; c < L.ncarry; ++c) r.push_back(in[L.nseq + c]);
  for (size_t c = 0; c < L.ncarry; ++c) {
    TypeInfo t = in[L.nseq + c];
    t.shape.insert(t.shape.begin(), T);
    r.push_back(t);
  }
  if (a.has("saved"))
    for (auto& v : a.get("saved").list) {
      TypeInfo t = type_of(v.t);
      t.shape.insert(t.shape.begin(), T);
      r.push_back(t);
    }
  return r;
}

// Processing-order mask of sample b at step t (the mask is in time order).
struct FillMask {
  Tensor m;
  int64_t B, T;
  bool reverse;
  FillMask(const Tensor& mask, bool rev)
      : m(mask.astype(DType::bool_).contiguous()), B(mask.shape()[0]), T(mask.shape()[1]), reverse(rev) {}
  bool at(int64_t b, int64_t t) const { return m.data<bool>()[b * T + (reverse ? T - 1 - t : t)]; }
};

// out[b, t] = x[b, t] at kept steps, else out[b, t-1] (zeros before the first kept step).
Tensor mask_fill_forward(KernelCtx& ctx) {
  Tensor x = ctx.in[0].contiguous();
  FillMask M(ctx.in[1], ctx.attrs().b("reverse"));
  if (x.shape()[0] != M.B || x.shape()[1] != M.T)
    fail_value("rnn", "mask of shape " + shape_str(ctx.in[1].shape()) + " does not match outputs of shape " + shape_str(x.shape()));
  Tensor out = ctx.alloc_zeros(x.shape(), x.dtype());
  size_t row = static_cast<size_t>(x.numel() / std::max<int64_t>(M.B * M.T, 1)) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(out.raw());
  for (int64_t b = 0; b < M.B; ++b) {
    int64_t last = -1;
    for (int64_t t = 0; t < M.T; ++t) {
      if (M.at(b, t)) last = t;
      if (last >= 0) std::memcpy(dst + (b * M.T + t) * row, src + (b * M.T + last) * row, row);
    }
  }
  return out;
}

// VJP of _mask_fill: a kept step collects its own gradient and those of the masked steps after it.
Tensor mask_fill_grad_forward(KernelCtx& ctx) {
  Tensor g = ctx.in[0].contiguous();
  FillMask M(ctx.in[1], ctx.attrs().b("reverse"));
  Tensor out = ctx.alloc_zeros(g.shape(), g.dtype());
  int64_t inner = g.numel() / std::max<int64_t>(M.B * M.T, 1);
  dispatch_float(g.dtype(), "rnn", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = g.data<T>();
    T* op = out.data<T>();
    std::vector<T> acc(static_cast<size_t>(inner));
    for (int64_t b = 0; b < M.B; ++b) {
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t t = M.T - 1; t >= 0; --t) {
        const T* gr = gp + (b * M.T + t) * inner;
        for (int64_t k = 0; k < inner; ++k) acc[k] += gr[k];
        if (!M.at(b, t)) continue;
        std::copy(acc.begin(), acc.end(), op + (b * M.T + t) * inner);
        std::fill(acc.begin(), acc.end(), T(0));
      }
    }
  });
  return out;
}

// Stack the per-step outputs of an unrolled rnn along `axis`.
Tensor stack_forward(KernelCtx& ctx) {
  int axis = static_cast<int>(ctx.attrs().i("axis"));
  Shape s = ctx.in[0].shape();
  s.insert(s.begin() + axis, static_cast<int64_t>(ctx.in.size()));
  Tensor out = ctx.alloc_tensor(s, ctx.node.type().dtype);
  for (size_t j = 0; j < ctx.in.size(); ++j) {
    Tensor dst = loop_slice(out, axis, static_cast<int64_t>(j));
    if (ctx.in[j].shape() != dst.shape())
      fail_value("rnn", "step_function returned an output of shape " + shape_str(ctx.in[j].shape()) + " at step " + std::to_string(j) +
                            " but " + shape_str(dst.shape()) + " at step 0");
    copy_into(ctx.in[j], dst);
  }
  return out;
}

void check_rnn_args(const Expr& inputs, const Expr& mask, const std::vector<Expr>& inits, const Expr& x,
                    const std::vector<Expr>& sps, const Expr& out, const std::vector<Expr>& news) {
  if (!inputs.rank_known() || inputs.ndim() < 3)
    fail_value("rnn", "inputs must have rank >= 3 (samples, time, ...), got shape " + shape_of(inputs));
  if (x->kind != NodeKind::placeholder || sps.size() != inits.size())
    fail_value("rnn", "internal: the step must be traced on one input and one state placeholder per state");
  if (news.size() != inits.size())
    fail_value("rnn", "step_function returned " + std::to_string(news.size()) + " new states for " + std::to_string(inits.size()) +
                          " initial states; it must return one per state");
  if (!out) fail_type("rnn", "step_function returned no output tensor");
  for (size_t j = 0; j < news.size(); ++j)
    if (!news[j]) fail_type("rnn", "step_function returned None as new state " + std::to_string(j));
  for (size_t j = 0; j < inits.size(); ++j) {
    if (!inits[j].rank_known() || inits[j].ndim() < 1)
      fail_value("rnn", "initial state " + std::to_string(j) + " must have a known rank >= 1 (samples, ...), got shape " + shape_of(inits[j]));
    if (news[j].dtype() != inits[j].dtype())
      fail_type("rnn", "step_function returned a " + std::string(dtype_name(news[j].dtype())) + " new state " + std::to_string(j) +
                           " for a " + dtype_name(inits[j].dtype()) + " initial state");
    if (!compatible(news[j], inits[j]))
      fail_value("rnn", "step_function returned new state " + std::to_string(j) + " of shape " + shape_of(news[j]) +
                            " for an initial state of shape " + shape_of(inits[j]) + " (states must keep their shape)");
  }
  if (!out.rank_known() || out.ndim() < 1)
    fail_value("rnn", "step_function's output must have rank >= 1 (samples, ...), got shape " + shape_of(out));
  if (mask && (!mask.rank_known() || mask.ndim() != 2))
    fail_value("rnn", "mask must have shape (samples, time), got " + shape_of(mask));
  for (int d = 0; mask && d < 2; ++d)
    if (mask.shape()[d] >= 0 && inputs.shape()[d] >= 0 && mask.shape()[d] != inputs.shape()[d])
      fail_value("rnn", "mask of shape " + shape_of(mask) + " does not match inputs of shape " + shape_of(inputs) + " (samples, time)");
}

// Copy the loop body once per time step (only its per-step nodes: invariant parts are captured).
std::pair<Expr, std::vector<Expr>> unroll_loop(const Node& loop, const Expr& inputs) {
  ScanLayout L = scan_layout(loop);
  std::vector<Expr> body = loop_body(loop);
  int64_t T = inputs.shape()[1];
  std::vector<Expr> states(loop.inputs.begin() + static_cast<std::ptrdiff_t>(L.nseq),
                           loop.inputs.begin() + static_cast<std::ptrdiff_t>(L.nseq + L.ncarry));
  std::vector<Expr> outs(body.end() - static_cast<std::ptrdiff_t>(loop_nouts(loop)), body.end()), ys;
  Attrs sa;
  sa.set("axis", Value(int64_t{1}));
  for (int64_t t = 0; t < T; ++t) {
    int64_t i = L.reverse ? T - 1 - t : t;
    std::unordered_map<Expr, Expr, ExprHash> remap;
    for (size_t s = 0; s < L.nseq; ++s) remap[body[s]] = time_slice(loop.inputs[s], i);
    for (size_t c = 0; c < L.ncarry; ++c) remap[body[L.nseq + c]] = states[c];
    for (size_t k = L.nseq + L.ncarry; k < loop.inputs.size(); ++k) remap[body[k]] = loop.inputs[k];
    std::vector<Expr> o = clone_graph(outs, remap);
    ys.push_back(o[0]);
    states.assign(o.begin() + 1, o.end());
  }
  return {make_node(kRnnStack, ys, sa), states};
}

// The loop (or its unrolled copy), output masking and last_output.
RnnResult build_rnn(const Expr& inputs, Expr mask, const std::vector<Expr>& inits, const Expr& x, const std::vector<Expr>& sps,
                    const Expr& out, const std::vector<Expr>& news, bool back, bool unroll) {
  check_rnn_args(inputs, mask, inits, x, sps, out, news);
  int64_t T = inputs.shape()[1];
  if (unroll && T < 0)
    fail_value("rnn", "unroll=True needs a static number of time steps, but inputs have shape " + shape_of(inputs));
  if (T == 0) fail_value("rnn", "inputs have 0 time steps (shape " + shape_of(inputs) + ")");
  std::vector<Expr> params{x}, seqs{inputs}, outs{out};
  Expr mp;
  if (mask) {
    if (mask.dtype() != DType::bool_) mask = cast(mask, DType::bool_);
    mp = placeholder({inputs.shape()[0]}, DType::bool_, "rnn/mask");
    params.push_back(mp);
    seqs.push_back(mask);
  }
  for (size_t j = 0; j < inits.size(); ++j) {
    params.push_back(sps[j]);
    outs.push_back(mask ? switch_(mp, news[j], sps[j]) : news[j]);  // a masked step keeps its states
  }
  Attrs a;
  a.set("mode", Value("scan"));
  a.set("axis", Value(int64_t{1}));
  a.set("reverse", Value(back));
  a.set("nseq", Value(static_cast<int64_t>(seqs.size())));
  a.set("ncarry", Value(static_cast<int64_t>(inits.size())));
  a.set("nstack", Value(int64_t{1}));
  std::vector<Expr> ins = seqs;
  ins.insert(ins.end(), inits.begin(), inits.end());
  Expr loop = plan_scan(make_loop_node(*kScan, a, ins, params, outs), unroll), ys;
  std::vector<Expr> finals;
  if (unroll) {
    std::tie(ys, finals) = unroll_loop(*loop.node(), inputs);
  } else {
    ys = loop;
    for (size_t j = 0; j < inits.size(); ++j) finals.push_back(Expr(loop.node(), static_cast<uint32_t>(1 + j)));
  }
  if (mask) {
    Attrs fa;
    fa.set("reverse", Value(back));
    ys = make_node(kMaskFill, {ys, mask}, fa);
  }
  return RnnResult{time_slice(ys, -1), ys, finals};
}

}  // namespace

ScanLayout scan_layout(const Node& n) {
  const Attrs& a = n.attrs;
  return ScanLayout{static_cast<int>(a.i("axis")), a.b("reverse"), static_cast<size_t>(a.i("nseq")),
                    static_cast<size_t>(a.i("ncarry")), static_cast<size_t>(a.i("nstack"))};
}

// ---------------------------------------------------------------- C++ API
RnnResult rnn(const RnnStep& step, const Expr& inputs, const std::vector<Expr>& initial_states, bool go_backwards,
              const Expr& mask, const std::vector<Expr>& constants, bool unroll, const Expr& input_length) {
  if (!inputs.rank_known() || inputs.ndim() < 3)
    fail_value("rnn", "inputs must have rank >= 3 (samples, time, ...), got shape " + shape_of(inputs));
  Expr m = mask ? mask : input_length ? make_node(kLengthMask, {input_length, inputs}) : Expr();
  std::vector<Expr> all = initial_states;
  all.insert(all.end(), constants.begin(), constants.end());
  // Keras calls the step once outside the loop first (theano: initial_output; TF:
  // output_time_zero): cells make their dropout masks there, so they stay fixed over time.
  if (inputs.shape()[1] != 0) step(time_slice(inputs, go_backwards ? -1 : 0), all);
  Shape xs = inputs.shape();
  xs.erase(xs.begin() + 1);
  Expr x = placeholder(xs, inputs.dtype(), "rnn/input");
  std::vector<Expr> sps;
  for (auto& s : initial_states) sps.push_back(placeholder(s.shape(), s.dtype(), "rnn/state", s.rank_known()));
  std::vector<Expr> traced = sps;
  traced.insert(traced.end(), constants.begin(), constants.end());
  auto [out, news] = step(x, traced);
  return build_rnn(inputs, m, initial_states, x, sps, out, news, go_backwards, unroll);
}

namespace {

TypeInfo mask_fill_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  if (in[0].ndim() < 2 || in[1].ndim() != 2) fail_value("rnn", "internal: _mask_fill needs (samples, time, ...) and (samples, time)");
  return in[0];
}

std::vector<Expr> mask_fill_grad(const Expr& y, const Expr& g) {
  Attrs a;
  a.set("reverse", y->attrs.get("reverse"));
  return std::vector<Expr>{make_node(kMaskFillGrad, {g, Expr(y->inputs[1])}, a), Expr()};
}

TypeInfo same_infer(const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; }

TypeInfo rnn_stack_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  TypeInfo t = in[0];
  t.shape.insert(t.shape.begin() + a.i("axis"), static_cast<int64_t>(in.size()));
  return t;
}

std::vector<Expr> rnn_stack_grad(const Expr& y, const Expr& g) {
  std::vector<Expr> r;
  for (size_t j = 0; j < y->inputs.size(); ++j) r.push_back(time_slice(g, static_cast<int64_t>(j)));
  return r;
}

TypeInfo length_mask_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  if (in[0].ndim() != 1 || in[1].ndim() < 2)
    fail_value("rnn", "input_length must be a 1-D tensor of per-sample lengths, got shape " + shape_str(in[0].shape));
  return TypeInfo{{in[1].shape[0], in[1].shape[1]}, DType::bool_, true};
}

Tensor length_mask_forward(KernelCtx& ctx) {
  Tensor len = ctx.in[0].astype(DType::float64).contiguous();
  int64_t B = ctx.in[1].shape()[0], T = ctx.in[1].shape()[1];
  if (len.numel() != B) fail_value("rnn", "input_length has " + std::to_string(len.numel()) + " entries for " + std::to_string(B) + " samples");
  Tensor out = Tensor::empty({B, T}, DType::bool_);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) out.data<bool>()[b * T + t] = static_cast<double>(t) < len.data<double>()[b];
  return out;
}

}  // namespace

const OpDef& scan_op() { return *kScan; }

void register_rnn() {
  register_op(kScan, Op("_scan(inputs: tensors)", "rnn's loop over time steps (layout and results at the top of rnn.cpp).")
                         .infer_multi(scan_infer).forward_multi(scan_forward).grad_multi(scan_grad));
  register_op(kMaskFill, Op("_mask_fill(x: tensor, mask: tensor, reverse: bool = False)",
                            "x (samples, time, ...) in processing order with each masked step replaced by the previous kept one "
                            "(zeros before the first); mask (samples, time) in time order, read backwards when reverse.")
                             .infer(mask_fill_infer).forward(mask_fill_forward).grad(mask_fill_grad));
  register_op(kMaskFillGrad, Op("_mask_fill_grad(g: tensor, mask: tensor, reverse: bool = False)", "The VJP of _mask_fill.")
                                 .infer(same_infer).forward(mask_fill_grad_forward).flags(kNonDiff));
  register_op(kRnnStack, Op("_rnn_stack(parts: tensors, axis: int)", "Stack equally shaped tensors along a new axis (unrolled rnn outputs).")
                             .infer(rnn_stack_infer).forward(stack_forward).grad(rnn_stack_grad));
  register_op(kLengthMask, Op("_length_mask(lengths: tensor, like: tensor)", "bool (samples, time): t < lengths[sample], time = like's axis 1.")
                               .infer(length_mask_infer).forward(length_mask_forward).flags(kNonDiff));
}

}  // namespace keras_cpp
