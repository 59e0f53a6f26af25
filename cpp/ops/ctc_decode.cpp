// cpp/ops/ctc_decode.cpp — ctc_decode's kernels: greedy (best path) and TF's prefix beam search
// (same pruning and tie order as TF, in the input's precision).
// One node `_ctc_decode` runs the search once and packs its results in a float64 tensor
// (samples, paths, 1 + longest): column 0 the log probability, then the labels padded with -1.
// `_ctc_decoded_path` and `_ctc_log_prob` unpack it, so ctc_decode's tuple shares one search.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/ctc.h"
#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using Path = std::vector<int64_t>;


template <class T>
inline T lse(T a, T b) {
  const T ninf = -std::numeric_limits<T>::infinity();
  if (a == ninf) return b;
  if (b == ninf) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::fabs(a - b)));
}

// Best path: per-frame argmax (first maximum), repeats merged, blanks dropped. Returns
// -sum of the per-frame max log(y + eps) (TF's greedy decoder sees unnormalized log(y + eps)).
template <class T>
double greedy_one(const T* y, int64_t n, int64_t C, double eps, Path& out) {
  double score = 0;
  int64_t prev = -1;
  for (int64_t t = 0; t < n; ++t) {
    const T* f = y + t * C;
    int64_t k = std::max_element(f, f + C) - f;
    score -= std::log(static_cast<double>(f[k]) + eps);
    if (k != C - 1 && k != prev) out.push_back(k);
    prev = k;
  }
  return score;
}

// The n best of a set of entries, kept the way TF's top-N container (gtl::TopN) keeps them: an
// unordered list until it overflows, then a min-heap of n entries built with the standard heap
// algorithms. Equal probabilities are common (symmetric frames), and which of them survive and
// in what order they come out follows from this layout, so it is reproduced step for step.
template <class Greater>
class TopN {
 public:
  TopN(size_t limit, Greater gt) : limit_(limit), gt_(gt) {}
  size_t size() const { return std::min(v_.size(), limit_); }
  const int64_t* begin() const { return v_.data(); }
  const int64_t* end() const { return v_.data() + size(); }
  void push(int64_t x) {
    if (state_ != kHeap) {
      v_.push_back(x);
      if (state_ == kBottomKnown && !gt_(v_.back(), v_.front())) std::swap(v_.front(), v_.back());  // keep the worst first
      if (v_.size() == limit_ + 1) {
        std::make_heap(v_.begin(), v_.end(), gt_);
        std::pop_heap(v_.begin(), v_.end(), gt_);  // the worst moves to the spare last slot
        state_ = kHeap;
      }
    } else if (gt_(x, v_.front())) {
      v_.back() = x;
      std::push_heap(v_.begin(), v_.end(), gt_);
      std::pop_heap(v_.begin(), v_.end(), gt_);
    }
  }
  // The worst kept entry (moved to the front of an unordered list).
  int64_t bottom() {
    if (state_ == kUnordered) {
      size_t m = 0;
      for (size_t i = 1; i < v_.size(); ++i)
        if (gt_(v_[m], v_[i])) m = i;
      std::swap(v_[0], v_[m]);
      state_ = kBottomKnown;
    }
    return v_.front();
  }
  // Best first; the container is empty afterwards.
  std::vector<int64_t> extract() {
    std::vector<int64_t> out;
    out.swap(v_);
    if (state_ != kHeap) {
      std::sort(out.begin(), out.end(), gt_);
    } else {
      out.pop_back();
      std::sort_heap(out.begin(), out.end(), gt_);
    }
    state_ = kUnordered;
    return out;
  }

 private:
  enum State { kUnordered, kBottomKnown, kHeap };
  std::vector<int64_t> v_;
  size_t limit_;
  Greater gt_;
  State state_ = kUnordered;
};

// TF's CTCBeamSearchDecoder (ctc_beam_search.h) with the default scorer: a prefix tree whose
// active leaves (at most `width`) carry blank/label/total log probabilities, computed in T (the
// input's precision) in TF's operation order.
template <class T>
class BeamSearch {
  static constexpr T kNinf = -std::numeric_limits<T>::infinity();
  struct ByTotal {
    const BeamSearch* s;
    bool operator()(int64_t a, int64_t b) const { return s->e_[a].newp.total > s->e_[b].newp.total; }
  };

 public:
  BeamSearch(int64_t C, int64_t width) : C_(C), width_(width), leaves_(static_cast<size_t>(width), ByTotal{this}) {
    Entry root;
    root.newp.total = root.newp.blank = 0;
    e_.push_back(root);
    leaves_.push(0);
  }

  // raw: one frame's log(y + eps) (C values, blank last).
  void step(const T* raw) {
    T mx = *std::max_element(raw, raw + C_), sum = 0;
    for (int64_t k = 0; k < C_; ++k) sum += std::exp(raw[k] - mx);
    const T norm = mx + std::log(sum);  // log-softmax offset
    std::vector<int64_t> branches = leaves_.extract();
    for (int64_t b : branches) e_[b].oldp = e_[b].newp;
    for (int64_t b : branches) {  // pass 1: the prefixes already in the beam, stay or extend
      Entry& x = e_[b];
      if (x.parent >= 0) {
        const Entry& p = e_[x.parent];
        if (p.newp.total != kNinf) x.newp.label = lse(x.newp.label, x.label == p.label ? p.oldp.blank : p.oldp.total);
        x.newp.label += raw[x.label] - norm;
      }
      x.newp.blank = x.oldp.total + raw[C_ - 1] - norm;
      x.newp.total = lse(x.newp.blank, x.newp.label);
      leaves_.push(b);
    }
    for (int64_t b : branches) {  // pass 2: new children of each prefix
      Prob bo = e_[b].oldp;
      int64_t blabel = e_[b].label;
      if (!candidate(bo.total)) continue;
      for (int64_t k = 0; k < C_ - 1; ++k) {
        int64_t c = child(b, k);
        if (e_[c].newp.total != kNinf) continue;  // already in the beam
        Entry& ce = e_[c];
        ce.newp.blank = kNinf;
        ce.newp.label = raw[k] - norm + (k == blabel ? bo.blank : bo.total);
        ce.newp.total = ce.newp.label;
        if (candidate(ce.newp.total)) {
          if (static_cast<int64_t>(leaves_.size()) == width_) e_[leaves_.bottom()].newp = Prob();  // it leaves the beam
          leaves_.push(c);
        } else {
          ce.oldp = Prob();
          ce.newp = Prob();
        }
      }
    }
  }

  int64_t size() const { return static_cast<int64_t>(leaves_.size()); }

  // The n best prefixes (n <= size()) with their log probabilities, best first.
  void top(int64_t n, bool merge_repeated, std::vector<Path>& paths, std::vector<double>& logp) {
    TopN<ByTotal> best(static_cast<size_t>(n), ByTotal{this});  // TF's op picks from the leaves as they lie
    for (int64_t b : leaves_) best.push(b);
    std::vector<int64_t> order = best.extract();
    for (int64_t i = 0; i < n; ++i) {
      Path p;
      int64_t prev = -1;
      for (int64_t c = order[i]; e_[c].parent >= 0; c = e_[c].parent) {
        if (!merge_repeated || e_[c].label != prev) p.push_back(e_[c].label);
        prev = e_[c].label;
      }
      std::reverse(p.begin(), p.end());
      paths.push_back(std::move(p));
      logp.push_back(static_cast<double>(e_[order[i]].newp.total));
    }
  }

 private:
  struct Prob {
    T total = kNinf, blank = kNinf, label = kNinf;
  };
  struct Entry {
    int64_t parent = -1, label = -1;
    Prob oldp, newp;
    std::vector<int64_t> children;  // per label, -1 = not made yet
  };

  int64_t child(int64_t b, int64_t k) {
    if (e_[b].children.empty()) e_[b].children.assign(C_ - 1, -1);
    if (e_[b].children[k] < 0) {
      Entry c;
      c.parent = b, c.label = k;
      e_.push_back(std::move(c));
      e_[b].children[k] = static_cast<int64_t>(e_.size()) - 1;
    }
    return e_[b].children[k];
  }
  bool candidate(T total) {
    if (total == kNinf) return false;
    return static_cast<int64_t>(leaves_.size()) < width_ || total > e_[leaves_.bottom()].newp.total;
  }

  int64_t C_, width_;
  std::vector<Entry> e_;
  TopN<ByTotal> leaves_;
};

struct DecodeOpts {
  bool greedy = true, merge = false;
  int64_t width = 100, paths = 1;
  double eps = 1e-7;
};

// Decodes sample frames y (n x C); returns the number of beam leaves (>= paths when all went well).
template <class T>
int64_t decode_one(const T* y, int64_t n, int64_t C, const DecodeOpts& o, std::vector<Path>& paths, std::vector<double>& logp) {
  if (o.greedy) {
    paths.emplace_back();
    logp.push_back(greedy_one(y, n, C, o.eps, paths.back()));
    return 1;
  }
  BeamSearch<T> bs(C, o.width);
  std::vector<T> raw(C);
  const T eps = static_cast<T>(o.eps);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t k = 0; k < C; ++k) raw[k] = std::log(y[t * C + k] + eps);  // Keras: log(y_pred + epsilon)
    bs.step(raw.data());
  }
  if (bs.size() >= o.paths) bs.top(o.paths, o.merge, paths, logp);
  return bs.size();
}

Tensor decode_forward(KernelCtx& ctx) {
  const char* op = "ctc_decode";
  Tensor yp = ctx.in[0];
  if (yp.dtype() == DType::float16) yp = yp.astype(DType::float32);
  yp = yp.contiguous();
  int64_t B = yp.dim(0), T = yp.dim(1), C = yp.dim(2);
  if (ctx.in[1].numel() != B)
    fail_value(op, "input_length of shape " + shape_str(ctx.in[1].shape()) + " must have one entry per sample of y_pred " + shape_str(yp.shape()));
  std::vector<int64_t> len = read_lengths(op, "input_length", ctx.in[1], T);
  const Attrs& a = ctx.attrs();
  DecodeOpts o{a.b("greedy"), a.b("merge_repeated"), a.i("beam_width"), a.i("top_paths"), a.f("epsilon")};
  if (o.greedy) o.paths = 1;
  std::vector<std::vector<Path>> paths(B);
  std::vector<std::vector<double>> logp(B);
  std::vector<int64_t> leaves(B);
  int64_t work = std::max<int64_t>(1, T * C * (o.greedy ? 1 : 4 * o.width));
  dispatch_float(yp.dtype(), op, [&](auto tag) {
    using Tp = decltype(tag);
    const Tp* y = yp.data<Tp>();
    parallel_for(B, std::max<int64_t>(1, 65536 / work), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) leaves[b] = decode_one(y + b * T * C, len[b], C, o, paths[b], logp[b]);
    });
  });
  for (int64_t b = 0; b < B; ++b)
    if (leaves[b] < o.paths)
      fail_value(op, "sample " + std::to_string(b) + ": the beam search found only " + std::to_string(leaves[b]) +
                         " paths but top_paths=" + std::to_string(o.paths) + " were requested");
  size_t longest = 0;
  for (auto& ps : paths)
    for (auto& p : ps) longest = std::max(longest, p.size());
  int64_t W = 1 + static_cast<int64_t>(longest);
  Tensor out = ctx.alloc_tensor({B, o.paths, W}, DType::float64);
  double* q = out.data<double>();
  std::fill(q, q + out.numel(), -1.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < o.paths; ++p) {
      double* row = q + (b * o.paths + p) * W;
      row[0] = logp[b][p];
      std::copy(paths[b][p].begin(), paths[b][p].end(), row + 1);
    }
  return out;
}

TypeInfo decode_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  const char* op = "ctc_decode";
  const TypeInfo& yp = in[0];
  if (!yp.rank_known || yp.ndim() != 3)
    fail_value(op, "y_pred must be (samples, time, num_categories), got shape " + (yp.rank_known ? shape_str(yp.shape) : std::string("<unknown rank>")));
  if (!is_floating(yp.dtype)) fail_type(op, std::string("y_pred must be a float tensor of probabilities, got ") + dtype_name(yp.dtype));
  if (yp.shape[2] == 0) fail_value(op, "y_pred needs at least one class (the blank), got shape " + shape_str(yp.shape));
  check_length_type(op, "input_length", in[1]);
  int64_t B = yp.shape[0], l = in[1].shape[0];
  if (B >= 0 && l >= 0 && B != l)
    fail_value(op, "input_length of shape " + shape_str(in[1].shape) + " must have one entry per sample of y_pred " + shape_str(yp.shape));
  int64_t paths = a.b("greedy") ? 1 : a.i("top_paths");
  if (!a.b("greedy")) {
    if (a.i("beam_width") < 1) fail_value(op, "beam_width must be >= 1, got " + std::to_string(a.i("beam_width")));
    if (paths < 1 || paths > a.i("beam_width"))
      fail_value(op, "top_paths must be in [1, beam_width=" + std::to_string(a.i("beam_width")) + "], got " + std::to_string(paths));
  }
  return TypeInfo{{B < 0 ? l : B, paths, kUnknownDim}, DType::float64, true};
}

}  // namespace

std::pair<std::vector<Expr>, Expr> ctc_decode(const Expr& y_pred, const Expr& input_length, bool greedy, int64_t beam_width,
                                              int64_t top_paths, bool merge_repeated) {
  Expr packed = call("_ctc_decode", {y_pred, input_length, Value(greedy), Value(beam_width), Value(top_paths), Value(merge_repeated)});
  std::vector<Expr> decoded;
  for (int64_t p = 0; p < (greedy ? 1 : top_paths); ++p) decoded.push_back(call("_ctc_decoded_path", {packed, Value(p)}));
  return {decoded, call("_ctc_log_prob", {packed, Value(std::string(dtype_name(y_pred.dtype())))})};
}

void register_ctc_decode() {
  OpDef d = def("_ctc_decode(y_pred: tensor, input_length: tensor, greedy: bool = True, beam_width: int = 100, top_paths: int = 1, merge_repeated: bool = False)",
                "ctc_decode's search, packed: float64 (samples, paths, 1 + longest) = [log_prob, labels..., -1 padding].");
  d.build = [](const OpDef& op, std::vector<Value>& a) {
    Attrs at;
    at.set("greedy", a[2]);
    at.set("beam_width", a[3]);
    at.set("top_paths", a[4]);
    at.set("merge_repeated", a[5]);
    at.set("epsilon", Value(config::epsilon()));
    return make_node(op, {Expr(a[0].t), Expr(a[1].t)}, at);
  };
  d.infer = decode_infer;
  d.forward = decode_forward;
  d.flags = kNonDiff | kDynamicShape;
  register_op(d);

  OpDef p = def("_ctc_decoded_path(packed: tensor, path: int)",
                "Path `path` of a _ctc_decode result: int64 (samples, longest decoded for that path), padded with -1.");
  p.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    int64_t P = in[0].shape[1];
    if (a.i("path") < 0 || (P >= 0 && a.i("path") >= P))
      fail_value("ctc_decode", "path " + std::to_string(a.i("path")) + " is out of range for " + std::to_string(P) + " decoded paths");
    return TypeInfo{{in[0].shape[0], kUnknownDim}, DType::int64, true};
  };
  p.forward = [](KernelCtx& ctx) {
    Tensor pk = ctx.in[0].contiguous();
    int64_t B = pk.dim(0), P = pk.dim(1), W = pk.dim(2), i = ctx.attrs().i("path");
    const double* q = pk.data<double>();
    int64_t longest = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 1; j < W && q[(b * P + i) * W + j] >= 0; ++j) longest = std::max(longest, j);
    Tensor o = ctx.alloc_tensor({B, longest}, DType::int64);
    int64_t* r = o.data<int64_t>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < longest; ++j) r[b * longest + j] = static_cast<int64_t>(q[(b * P + i) * W + 1 + j]);
    return o;
  };
  p.flags = kNonDiff | kDynamicShape;
  register_op(p);

  OpDef lp = def("_ctc_log_prob(packed: tensor, dtype: dtype = None)",
                 "The log probabilities of a _ctc_decode result: (samples, paths) in dtype.");
  lp.build = [](const OpDef&, std::vector<Value>& a) {
    Expr pk(a[0].t);
    Expr col = slice(pk, {0, 0, 0}, {-1, -1, 1});
    return cast(reshape(col, {-1, pk.shape()[1]}), dtype_from_name(a[1].s));
  };
  register_op(lp);
}

}  // namespace keras_cpp
