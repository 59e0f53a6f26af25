// cpp/ops/ctc.cpp — connectionist temporal classification: ctc_label_dense_to_sparse and
// ctc_batch_cost (forward algorithm in log space; its gradient from forward-backward in
// `_ctc_loss_grad`). The decoders (greedy, beam search) live in ctc_decode.cpp.
// Blank = the last class. y_pred holds probabilities: as Keras's TF backend, the loss sees
// log(y_pred + epsilon) renormalized by a softmax, i.e. q = (y + eps) / sum(y + eps) per frame.
#include <cmath>
#include <limits>

#include "ops/ctc.h"
#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();


inline double lse(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::fabs(a - b)));
}

// Validated run-time inputs of one ctc_batch_cost call (lengths and labels as int64).
struct Batch {
  int64_t B = 0, T = 0, C = 0, M = 0;
  std::vector<int64_t> tlen, llen;
  Tensor labels;  // (B, M) int64, contiguous
};

Batch read_batch(const char* op, const Tensor& y_true, const Tensor& y_pred, const Tensor& il, const Tensor& ll) {
  Batch b;
  b.B = y_pred.dim(0), b.T = y_pred.dim(1), b.C = y_pred.dim(2), b.M = y_true.dim(1);
  if (y_true.dim(0) != b.B || il.numel() != b.B || ll.numel() != b.B)
    fail_value(op, "y_true " + shape_str(y_true.shape()) + ", input_length " + shape_str(il.shape()) + " and label_length " +
                       shape_str(ll.shape()) + " must all have " + std::to_string(b.B) + " samples like y_pred " + shape_str(y_pred.shape()));
  b.tlen = read_lengths(op, "input_length", il, b.T);
  b.llen = read_lengths(op, "label_length", ll, b.M);
  b.labels = y_true.astype(DType::int64).contiguous();
  const int64_t* lab = b.labels.data<int64_t>();
  for (int64_t s = 0; s < b.B; ++s) {
    int64_t L = b.llen[s], repeats = 0;
    for (int64_t j = 0; j < L; ++j) {
      int64_t v = lab[s * b.M + j];
      if (v < 0 || v >= b.C - 1)
        fail_value(op, "sample " + std::to_string(s) + ": label " + std::to_string(v) + " at position " + std::to_string(j) +
                           " is out of range (expected 0 <= label < " + std::to_string(b.C - 1) + "; class " + std::to_string(b.C - 1) +
                           " is the blank)");
      if (j > 0 && v == lab[s * b.M + j - 1]) ++repeats;
    }
    if (L + repeats > b.tlen[s])
      fail_value(op, "sample " + std::to_string(s) + ": a label of length " + std::to_string(L) + " with " + std::to_string(repeats) +
                         " repeated neighbours needs at least " + std::to_string(L + repeats) + " frames but input_length is " +
                         std::to_string(b.tlen[s]) + " (impossible alignment)");
  }
  return b;
}

// One sample's CTC lattice: extended label (blanks around and between labels), per-frame
// log-probabilities lp (n x C) and, in log space, alpha (forward) and beta (backward, both
// including the current frame's emission).
struct Lattice {
  int64_t n = 0, C = 0, S = 0;
  std::vector<int64_t> ext;
  std::vector<double> lp, alpha, beta;
  bool skip(int64_t s) const { return s >= 2 && ext[s] != C - 1 && ext[s] != ext[s - 2]; }
};

template <class T>
void lattice_init(Lattice& z, const T* y, int64_t n, int64_t C, const int64_t* lab, int64_t L, double eps) {
  z.n = n, z.C = C, z.S = 2 * L + 1;
  z.ext.assign(z.S, C - 1);
  for (int64_t j = 0; j < L; ++j) z.ext[2 * j + 1] = lab[j];
  z.lp.resize(n * C);
  for (int64_t t = 0; t < n; ++t) {
    double sum = 0;
    for (int64_t k = 0; k < C; ++k) sum += static_cast<double>(y[t * C + k]) + eps;
    double ls = std::log(sum);
    for (int64_t k = 0; k < C; ++k) z.lp[t * C + k] = std::log(static_cast<double>(y[t * C + k]) + eps) - ls;
  }
}

// Forward pass; returns log p(label | frames) (0 for an empty label over no frames).
double lattice_forward(Lattice& z) {
  const int64_t n = z.n, S = z.S, C = z.C;
  if (n == 0) return 0.0;  // only reachable with an empty label (validated)
  z.alpha.assign(n * S, kNegInf);
  z.alpha[0] = z.lp[z.ext[0]];
  if (S > 1) z.alpha[1] = z.lp[z.ext[1]];
  for (int64_t t = 1; t < n; ++t) {
    const double* a = &z.alpha[(t - 1) * S];
    double* o = &z.alpha[t * S];
    for (int64_t s = 0; s < S; ++s) {
      double v = a[s];
      if (s >= 1) v = lse(v, a[s - 1]);
      if (z.skip(s)) v = lse(v, a[s - 2]);
      o[s] = v + z.lp[t * C + z.ext[s]];
    }
  }
  const double* last = &z.alpha[(n - 1) * S];
  return S > 1 ? lse(last[S - 1], last[S - 2]) : last[0];
}

void lattice_backward(Lattice& z) {
  const int64_t n = z.n, S = z.S, C = z.C;
  z.beta.assign(n * S, kNegInf);
  double* b = &z.beta[(n - 1) * S];
  b[S - 1] = z.lp[(n - 1) * C + z.ext[S - 1]];
  if (S > 1) b[S - 2] = z.lp[(n - 1) * C + z.ext[S - 2]];
  for (int64_t t = n - 2; t >= 0; --t) {
    const double* nb = &z.beta[(t + 1) * S];
    double* o = &z.beta[t * S];
    for (int64_t s = 0; s < S; ++s) {
      double v = nb[s];
      if (s + 1 < S) v = lse(v, nb[s + 1]);
      if (s + 2 < S && z.skip(s + 2)) v = lse(v, nb[s + 2]);
      o[s] = v + z.lp[t * C + z.ext[s]];
    }
  }
}

// d loss / d y[t, k] = (q[t, k] - gamma[t, k]) / (y[t, k] + eps) for t < n (0 after): the
// softmax-of-logits CTC gradient chained through z = log(y + eps).
template <class T>
void lattice_grad(Lattice& z, double logp, const T* y, double eps, int64_t frames, T* g) {
  const int64_t n = z.n, S = z.S, C = z.C;
  std::fill(g, g + frames * C, T(0));
  if (n == 0) return;
  lattice_backward(z);
  std::vector<double> gamma(C);
  for (int64_t t = 0; t < n; ++t) {
    std::fill(gamma.begin(), gamma.end(), 0.0);
    for (int64_t s = 0; s < S; ++s) {
      double v = z.alpha[t * S + s] + z.beta[t * S + s] - z.lp[t * C + z.ext[s]] - logp;
      if (v != kNegInf) gamma[z.ext[s]] += std::exp(v);
    }
    for (int64_t k = 0; k < C; ++k)
      g[t * C + k] = static_cast<T>((std::exp(z.lp[t * C + k]) - gamma[k]) / (static_cast<double>(y[t * C + k]) + eps));
  }
}

// Runs the lattice for every sample (in parallel) and writes the loss (B) or, with want_grad,
// the gradient (B, T, C).
Tensor ctc_run(KernelCtx& ctx, bool want_grad) {
  const char* op = "ctc_batch_cost";
  Tensor yp = ctx.in[1];
  DType od = yp.dtype();
  if (od == DType::float16) yp = yp.astype(DType::float32);
  yp = yp.contiguous();
  Batch bt = read_batch(op, ctx.in[0], yp, ctx.in[2], ctx.in[3]);
  double eps = ctx.attrs().f("epsilon");
  Tensor out = want_grad ? ctx.alloc_tensor(yp.shape(), yp.dtype()) : ctx.alloc_tensor({bt.B, 1}, yp.dtype());
  int64_t work = std::max<int64_t>(1, bt.T * (2 * bt.M + 1 + bt.C));
  dispatch_float(yp.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* y = yp.data<T>();
    T* o = out.data<T>();
    const int64_t* lab = bt.labels.data<int64_t>();
    parallel_for(bt.B, std::max<int64_t>(1, 16384 / work), [&](int64_t b0, int64_t b1) {
      Lattice z;
      for (int64_t s = b0; s < b1; ++s) {
        const T* ys = y + s * bt.T * bt.C;
        lattice_init(z, ys, bt.tlen[s], bt.C, lab + s * bt.M, bt.llen[s], eps);
        double logp = lattice_forward(z);
        if (want_grad) lattice_grad(z, logp, ys, eps, bt.T, o + s * bt.T * bt.C);
        else o[s] = static_cast<T>(-logp);
      }
    });
  });
  return out.astype(od);
}

TypeInfo ctc_infer(const std::vector<TypeInfo>& in, bool grad) {
  const char* op = "ctc_batch_cost";
  const TypeInfo &yt = in[0], &yp = in[1];
  if (!yp.rank_known || yp.ndim() != 3)
    fail_value(op, "y_pred must be (samples, time, num_categories), got shape " + (yp.rank_known ? shape_str(yp.shape) : std::string("<unknown rank>")));
  if (!is_floating(yp.dtype)) fail_type(op, std::string("y_pred must be a float tensor of probabilities, got ") + dtype_name(yp.dtype));
  if (yp.shape[2] == 0) fail_value(op, "y_pred needs at least one class (the blank), got shape " + shape_str(yp.shape));
  if (!yt.rank_known || yt.ndim() != 2)
    fail_value(op, "y_true must be (samples, max_string_length), got shape " + (yt.rank_known ? shape_str(yt.shape) : std::string("<unknown rank>")));
  int64_t B = yp.shape[0];
  auto same = [&](int64_t d, const char* nm, const Shape& s) {
    if (d >= 0 && B >= 0 && d != B)
      fail_value(op, std::string(nm) + " of shape " + shape_str(s) + " has " + std::to_string(d) + " samples but y_pred " + shape_str(yp.shape) +
                         " has " + std::to_string(B));
    if (B < 0) B = d;
  };
  same(yt.shape[0], "y_true", yt.shape);
  const char* names[2] = {"input_length", "label_length"};
  for (int k = 0; k < 2; ++k) {
    const TypeInfo& t = in[2 + k];
    check_length_type(op, names[k], t);
    same(t.shape[0], names[k], t.shape);
  }
  for (const TypeInfo* t : {&yt, &in[2], &in[3]})
    if (t->dtype == DType::bool_) fail_type(op, "labels and lengths must be numbers, got a bool tensor");
  if (grad) return yp;
  return TypeInfo{{B, 1}, yp.dtype, true};
}

}  // namespace

std::vector<int64_t> read_lengths(const char* op, const char* nm, const Tensor& t, int64_t limit) {
  Tensor v = t.astype(DType::int64).contiguous();
  std::vector<int64_t> out(v.data<int64_t>(), v.data<int64_t>() + v.numel());
  for (size_t s = 0; s < out.size(); ++s)
    if (out[s] < 0 || out[s] > limit)
      fail_value(op, "sample " + std::to_string(s) + ": " + nm + "=" + std::to_string(out[s]) + " is out of range (expected 0 <= " + nm +
                         " <= " + std::to_string(limit) + ")");
  return out;
}

void check_length_type(const char* op, const char* nm, const TypeInfo& t) {
  bool ok = t.rank_known && (t.ndim() == 1 || (t.ndim() == 2 && (t.shape[1] == 1 || t.shape[1] < 0)));
  if (!ok)
    fail_value(op, std::string(nm) + " must have shape (samples,) or (samples, 1), got " +
                       (t.rank_known ? shape_str(t.shape) : std::string("<unknown rank>")));
  if (t.dtype == DType::bool_) fail_type(op, std::string(nm) + " must hold numbers, got a bool tensor");
}

namespace {

OpRef kDenseToSparse, kCtcBatchCost, kCtcLossGrad;

TypeInfo dense_to_sparse_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  const char* op = "ctc_label_dense_to_sparse";
  if (!in[0].rank_known || in[0].ndim() != 2)
    fail_value(op, "labels must be (batch, max_len), got shape " + (in[0].rank_known ? shape_str(in[0].shape) : std::string("<unknown rank>")));
  if (in[0].dtype == DType::bool_) fail_type(op, "labels must hold numbers, got a bool tensor");
  check_length_type(op, "label_lengths", in[1]);
  int64_t b = in[0].shape[0], l = in[1].shape[0];
  if (b >= 0 && l >= 0 && b != l)
    fail_value(op, "label_lengths of shape " + shape_str(in[1].shape) + " must have one entry per row of labels " + shape_str(in[0].shape));
  return TypeInfo{in[0].shape, DType::int64, true};
}

Tensor dense_to_sparse_forward(KernelCtx& ctx) {
  const char* op = "ctc_label_dense_to_sparse";
  Tensor lab = ctx.in[0].astype(DType::int64).contiguous();
  int64_t B = lab.dim(0), M = lab.dim(1);
  if (ctx.in[1].numel() != B)
    fail_value(op, "label_lengths of shape " + shape_str(ctx.in[1].shape()) + " must have one entry per row of labels " + shape_str(lab.shape()));
  std::vector<int64_t> len = read_lengths(op, "label_lengths", ctx.in[1], M);
  Tensor o = ctx.alloc_tensor(lab.shape(), DType::int64);
  const int64_t* p = lab.data<int64_t>();
  int64_t* q = o.data<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < M; ++t) q[b * M + t] = t < len[b] ? p[b * M + t] : -1;
  return o;
}

Expr ctc_batch_cost_build(const OpDef&, std::vector<Value>& a) {
  return ctc_batch_cost(Expr(a[0].t), Expr(a[1].t), Expr(a[2].t), Expr(a[3].t));
}
TypeInfo ctc_cost_infer(const std::vector<TypeInfo>& in, const Attrs&) { return ctc_infer(in, false); }
Tensor ctc_cost_forward(KernelCtx& ctx) { return ctc_run(ctx, false); }

G ctc_cost_grad(const Expr& y, const Expr& g) {
  std::vector<Expr> ins;
  for (auto& n : y->inputs) ins.push_back(Expr(n));
  Expr d = make_node(kCtcLossGrad, ins, y->attrs);
  return G{Expr(), expand_dims(g, -1) * d, Expr(), Expr()};
}

TypeInfo ctc_loss_grad_infer(const std::vector<TypeInfo>& in, const Attrs&) { return ctc_infer(in, true); }
Tensor ctc_loss_grad_forward(KernelCtx& ctx) { return ctc_run(ctx, true); }

}  // namespace

Expr ctc_label_dense_to_sparse(const Expr& labels, const Expr& label_lengths) {
  return make_node(kDenseToSparse, {labels, label_lengths});
}
Expr ctc_batch_cost(const Expr& y_true, const Expr& y_pred, const Expr& input_length, const Expr& label_length) {
  Attrs at;
  at.set("epsilon", Value(config::epsilon()));
  return make_node(kCtcBatchCost, {y_true, y_pred, input_length, label_length}, at);
}

void register_ctc() {
  register_op(kDenseToSparse,
              Op("ctc_label_dense_to_sparse(labels: tensor, label_lengths: tensor)",
                 "Dense (batch, max_len) labels -> the label sequences: keras_cpp has no sparse tensors, so the result is a "
                 "dense int64 tensor of labels' shape holding labels[b, t] for t < label_lengths[b] and -1 elsewhere (the "
                 "sparse tensor's values at its indices; -1 marks absent entries).")
                  .infer(dense_to_sparse_infer).forward(dense_to_sparse_forward).flags(kNonDiff));
  register_op(kCtcBatchCost,
              Op("ctc_batch_cost(y_true: tensor, y_pred: tensor, input_length: tensor, label_length: tensor)",
                 "CTC negative log-likelihood per sample, shape (samples, 1). y_true (samples, max_string_length) holds class "
                 "ids (entries past label_length ignored); y_pred (samples, time, num_categories) holds probabilities, blank = last "
                 "class; only the first input_length frames count. Like Keras/TF the frames are log(y_pred + epsilon) renormalized "
                 "by a softmax. A label that cannot fit in input_length frames raises an error naming the sample.")
                  .build(ctc_batch_cost_build).infer(ctc_cost_infer).forward(ctc_cost_forward).grad(ctc_cost_grad));
  // The gradient of ctc_batch_cost w.r.t. y_pred for a unit upstream gradient (no second order).
  register_op(kCtcLossGrad, Op("_ctc_loss_grad(y_true: tensor, y_pred: tensor, input_length: tensor, label_length: tensor, epsilon: float)",
                               "d ctc_batch_cost / d y_pred (forward-backward), shape of y_pred.")
                                .infer(ctc_loss_grad_infer).forward(ctc_loss_grad_forward).flags(kNonDiff));
  register_ctc_decode();
}

}  // namespace keras_cpp
