// cpp/ops/ctc_decode.cpp — ctc_decode: greedy (best path) and TF's prefix beam search (same
// pruning and tie order as TF, in the input's precision). One node `_ctc_decode` runs the search
// once; its results are the decoded paths (int64 (samples, longest), padded with -1) and then the
// log probabilities (samples, paths).
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/ctc.h"
#include "ops/helpers.h"

namespace keras_cpp {
namespace {

using Path = std::vector<int64_t>;


// TF's LogSumExp (ctc_loss_util.h): it calls the float functions expf and log1pf whatever T is,
// so a double search carries float-rounded sums, and ties fall where TF's do.
template <class T>
inline T lse(T a, T b) {
  const T ninf = -std::numeric_limits<T>::infinity();
  if (a == ninf) return b;
  if (b == ninf) return a;
  return a > b ? a + static_cast<T>(std::log1p(std::exp(static_cast<float>(b - a))))
               : b + static_cast<T>(std::log1p(std::exp(static_cast<float>(a - b))));
}

// Keras's TF backend feeds the search tf.math.log(transpose(y_pred) + eps). TF 2.21's x86-64
// build evaluates that log with Eigen's AVX packet polynomial (8 floats or 4 doubles at a time,
// multiply and add rounded separately) and with the C library's log only for the last
// size % packet elements of the (time, samples, classes) tensor. The two differ in the last bit
// for about one value in five, which decides ties, so both are reproduced.
template <class T>
inline T mul_add(T a, T b, T c) {
  volatile T p = a * b;  // no fused multiply-add, whatever the compiler flags
  return p + c;
}
inline float packet_log(float v) {
  if (!(v > 0) || std::isinf(v)) return std::log(v);  // 0, negatives, inf and nan as Eigen selects them
  int ei;
  float x = std::frexp(v, &ei), e = static_cast<float>(ei);
  if (x < 0.707106781186547524f) {  // to [sqrt(1/2), sqrt(2)), shifted by -1
    x = (x - 1.0f) + x;
    e -= 1.0f;
  } else {
    x -= 1.0f;
  }
  float p = x * mul_add(mul_add(0.18256296349849254f, x, 1.0000000190281063f), x, 1.0000000190281136f);
  float q = mul_add(mul_add(mul_add(0.049616247954120038f, x, 0.59923249590823520f), x, 1.4999999999999927f), x, 1.0f);
  return mul_add(e, 0.693147180559945309f, p / q);
}
inline double packet_log(double v) {
  if (!(v > 0) || std::isinf(v)) return std::log(v);
  int ei;
  double x = std::frexp(v, &ei), e = static_cast<double>(ei);
  if (x < 0.70710678118654752440) {
    x = (x - 1.0) + x;
    e -= 1.0;
  } else {
    x -= 1.0;
  }
  const double x2 = x * x, x3 = x2 * x;  // cephes: log(1+x) = x - x^2/2 + x^3 P(x)/Q(x)
  double y = mul_add(mul_add(1.01875663804580931796E-4, x, 4.97494994976747001425E-1), x, 4.70579119878881725854E0);
  double y1 = mul_add(mul_add(1.44989225341610930846E1, x, 1.79368678507819816313E1), x, 7.70838733755885391666E0);
  const double num = mul_add(y, x3, y1);
  y = mul_add(mul_add(1.0, x, 1.12873587189167450590E1), x, 4.52279145837532221105E1);
  y1 = mul_add(mul_add(8.29875266912776603211E1, x, 7.11544750618563894466E1), x, 2.31251620126765340583E1);
  const double den = mul_add(y, x3, y1);
  y = mul_add(-0.5, x2, (num * x3) / den);
  return mul_add(e, 0.693147180559945309417232121458176568, x + y);
}
// One sample's log(y + eps) (n x C) as TF computes it, sample b of B in a y_pred of `frames`
// frames: element (t, b, k) sits at (t * B + b) * C + k of the transposed tensor.
template <class T>
std::vector<T> tf_log_inputs(const T* y, int64_t n, int64_t C, int64_t b, int64_t B, int64_t frames, T eps) {
  const int64_t size = frames * B * C, packet = 32 / static_cast<int64_t>(sizeof(T)), tail = size - size % packet;
  std::vector<T> raw(static_cast<size_t>(n * C));
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = 0; k < C; ++k) {
      const T v = y[t * C + k] + eps;
      raw[t * C + k] = (t * B + b) * C + k < tail ? packet_log(v) : std::log(v);
    }
  return raw;
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

// libstdc++'s heap and sort algorithms (stl_heap.h, stl_algo.h), spelled out so that entries of
// equal probability land where they land in TF's Linux build, whatever standard library we are
// built with. `gt` is the heap's comparison, so the heap's front is its worst entry.
template <class Gt>
void sift_up(int64_t* a, ptrdiff_t hole, ptrdiff_t top, int64_t value, const Gt& gt) {
  ptrdiff_t parent = (hole - 1) / 2;
  while (hole > top && gt(a[parent], value)) {
    a[hole] = a[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  a[hole] = value;
}
template <class Gt>
void adjust_heap(int64_t* a, ptrdiff_t hole, ptrdiff_t len, int64_t value, const Gt& gt) {
  const ptrdiff_t top = hole;
  ptrdiff_t child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    if (gt(a[child], a[child - 1])) --child;
    a[hole] = a[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    a[hole] = a[child - 1];
    hole = child - 1;
  }
  sift_up(a, hole, top, value, gt);
}
template <class Gt>
void make_heap(int64_t* a, ptrdiff_t n, const Gt& gt) {
  for (ptrdiff_t parent = (n - 2) / 2; n >= 2 && parent >= 0; --parent) adjust_heap(a, parent, n, a[parent], gt);
}
template <class Gt>
void pop_heap(int64_t* a, ptrdiff_t n, const Gt& gt) {  // a[0] moves to a[n - 1]
  if (n < 2) return;
  int64_t value = a[n - 1];
  a[n - 1] = a[0];
  adjust_heap(a, 0, n - 1, value, gt);
}
template <class Gt>
void push_heap(int64_t* a, ptrdiff_t n, const Gt& gt) {  // a[n - 1] joins the heap a[0, n - 1)
  sift_up(a, n - 1, 0, a[n - 1], gt);
}
template <class Gt>
void sort_heap(int64_t* a, ptrdiff_t n, const Gt& gt) {
  for (; n > 1; --n) pop_heap(a, n, gt);
}
// std::sort: introsort (median of a[1], a[mid], a[n-1] to the front, unguarded partition, heap
// sort past depth 2 log2 n) down to runs of 16, then one insertion sort.
template <class Gt>
void introsort(int64_t* a, ptrdiff_t n, int depth, const Gt& gt) {
  while (n > 16) {
    if (depth-- == 0) {
      make_heap(a, n, gt);
      sort_heap(a, n, gt);
      return;
    }
    ptrdiff_t x = 1, y = n / 2, z = n - 1, m;
    if (gt(a[x], a[y]))
      m = gt(a[y], a[z]) ? y : (gt(a[x], a[z]) ? z : x);
    else
      m = gt(a[x], a[z]) ? x : (gt(a[y], a[z]) ? z : y);
    std::swap(a[0], a[m]);
    ptrdiff_t lo = 1, hi = n;
    while (true) {
      while (gt(a[lo], a[0])) ++lo;
      --hi;
      while (gt(a[0], a[hi])) --hi;
      if (lo >= hi) break;
      std::swap(a[lo], a[hi]);
      ++lo;
    }
    introsort(a + lo, n - lo, depth, gt);
    n = lo;
  }
}
template <class Gt>
void std_sort(int64_t* a, ptrdiff_t n, const Gt& gt) {
  if (n < 2) return;
  int lg = 0;
  while ((ptrdiff_t(2) << lg) <= n) ++lg;
  introsort(a, n, 2 * lg, gt);
  for (ptrdiff_t i = 1; i < n; ++i) {  // guarded for the first 16, unguarded after: the same moves
    int64_t v = a[i];
    ptrdiff_t j = i;
    if (gt(v, a[0])) {
      for (; j > 0; --j) a[j] = a[j - 1];
    } else {
      for (; gt(v, a[j - 1]); --j) a[j] = a[j - 1];
    }
    a[j] = v;
  }
}

// The n best of a set of entries, kept the way TF 2.21's top-N container (gtl::TopN) keeps them:
// an unordered list until it overflows, then a min-heap of exactly n entries. Equal
// probabilities are common (symmetric frames), and which of them survive and in what order they
// come out follows from this layout, so it is reproduced step for step.
template <class Greater>
class TopN {
 public:
  TopN(size_t limit, Greater gt) : limit_(limit), gt_(gt) {}
  size_t size() const { return v_.size(); }
  const int64_t* begin() const { return v_.data(); }
  const int64_t* end() const { return v_.data() + v_.size(); }
  void push(int64_t x) {
    if (state_ != kHeap) {
      v_.push_back(x);
      if (v_.size() == limit_ + 1) {  // overflow: heapify, drop the worst
        make_heap(v_.data(), n(), gt_);
        pop_heap(v_.data(), n(), gt_);
        v_.pop_back();
        state_ = kHeap;
      } else if (state_ == kBottomKnown && !gt_(v_.back(), v_.front())) {
        std::swap(v_.front(), v_.back());  // keep the worst first
      }
    } else if (gt_(x, v_.front())) {  // replace the worst
      pop_heap(v_.data(), n(), gt_);
      v_.back() = x;
      push_heap(v_.data(), n(), gt_);
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
    if (state_ != kHeap)
      std_sort(out.data(), static_cast<ptrdiff_t>(out.size()), gt_);
    else
      sort_heap(out.data(), static_cast<ptrdiff_t>(out.size()), gt_);
    state_ = kUnordered;
    return out;
  }

 private:
  enum State { kUnordered, kBottomKnown, kHeap };
  ptrdiff_t n() const { return static_cast<ptrdiff_t>(v_.size()); }
  std::vector<int64_t> v_;
  size_t limit_;
  Greater gt_;
  State state_ = kUnordered;
};

// TF's CTCBeamSearchDecoder (ctc_beam_search.h) with the default scorer: a prefix tree whose
// active leaves (at most `width`) carry blank/label/total log probabilities, computed in T (the
// input's precision, sums through TF's float LogSumExp) in TF's operation order.
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

// Decodes sample b's frames y (n x C) of a y_pred (B, frames, C); returns the number of beam
// leaves (>= paths when all went well).
template <class T>
int64_t decode_one(const T* y, int64_t n, int64_t C, int64_t b, int64_t B, int64_t frames, const DecodeOpts& o,
                   std::vector<Path>& paths, std::vector<double>& logp) {
  if (o.greedy) {
    paths.emplace_back();
    logp.push_back(greedy_one(y, n, C, o.eps, paths.back()));
    return 1;
  }
  BeamSearch<T> bs(C, o.width);
  std::vector<T> raw = tf_log_inputs(y, n, C, b, B, frames, static_cast<T>(o.eps));
  for (int64_t t = 0; t < n; ++t) bs.step(raw.data() + t * C);
  if (bs.size() >= o.paths) bs.top(o.paths, o.merge, paths, logp);
  return bs.size();
}

std::vector<Tensor> decode_forward(KernelCtx& ctx) {
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
      for (int64_t b = b0; b < b1; ++b) leaves[b] = decode_one(y + b * T * C, len[b], C, b, B, T, o, paths[b], logp[b]);
    });
  });
  for (int64_t b = 0; b < B; ++b)
    if (leaves[b] < o.paths)
      fail_value(op, "sample " + std::to_string(b) + ": the beam search found only " + std::to_string(leaves[b]) +
                         " paths but top_paths=" + std::to_string(o.paths) + " were requested");
  std::vector<Tensor> out;
  for (int64_t p = 0; p < o.paths; ++p) {
    size_t longest = 0;
    for (auto& ps : paths) longest = std::max(longest, ps[p].size());
    Tensor d = ctx.alloc_tensor({B, static_cast<int64_t>(longest)}, DType::int64);
    int64_t* q = d.data<int64_t>();
    std::fill(q, q + d.numel(), int64_t{-1});
    for (int64_t b = 0; b < B; ++b) std::copy(paths[b][p].begin(), paths[b][p].end(), q + b * static_cast<int64_t>(longest));
    out.push_back(d);
  }
  Tensor lp = Tensor::empty({B, o.paths}, DType::float64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < o.paths; ++p) lp.data<double>()[b * o.paths + p] = logp[b][p];
  out.push_back(lp.astype(ctx.in[0].dtype()));
  return out;
}

std::vector<TypeInfo> decode_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
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
  if (B < 0) B = l;
  std::vector<TypeInfo> r(static_cast<size_t>(paths), TypeInfo{{B, kUnknownDim}, DType::int64, true});
  r.push_back(TypeInfo{{B, paths}, yp.dtype, true});
  return r;
}

OpRef kCtcDecode;

}  // namespace

std::pair<std::vector<Expr>, Expr> ctc_decode(const Expr& y_pred, const Expr& input_length, bool greedy, int64_t beam_width,
                                              int64_t top_paths, bool merge_repeated) {
  if (!y_pred || !input_length) fail_value("ctc_decode", "y_pred and input_length must be tensors, got None");
  Attrs at;
  at.set("greedy", Value(greedy));
  at.set("beam_width", Value(beam_width));
  at.set("top_paths", Value(top_paths));
  at.set("merge_repeated", Value(merge_repeated));
  at.set("epsilon", Value(config::epsilon()));
  std::vector<Expr> r = outputs_of(make_node(kCtcDecode, {y_pred, input_length}, at));
  Expr log_prob = r.back();
  r.pop_back();
  return {r, log_prob};
}

void register_ctc_decode() {
  register_op(kCtcDecode, Op("_ctc_decode(y_pred: tensor, input_length: tensor)",
                             "ctc_decode's search (attrs greedy, beam_width, top_paths, merge_repeated, epsilon): the decoded paths, "
                             "then their log probabilities.")
                              .infer_multi(decode_infer).forward_multi(decode_forward).flags(kNonDiff | kDynamicShape));
}

}  // namespace keras_cpp
