// Nodes with several results: the executor's slots per result (unused results dropped, results
// handed over at their last use), autodiff's cotangents per result, and rnn (a real
// multi-result loop) through the public API.
#include <atomic>
#include <cmath>

#include "doctest.h"
#include "keras_cpp/keras_cpp.h"
#include "ops/registry.h"

using namespace keras_cpp;

namespace {

std::atomic<int> g_runs{0};         // kernel runs
std::atomic<int> g_skipped{0};      // runs that skipped result 0 (nobody reads it)
std::atomic<int> g_grad_calls{0};
std::atomic<int> g_undefined_cot{0};  // cotangents the VJP got as undefined

// "_test_two(x)": (x + 1 in x's dtype, 2 x in float64).
const OpDef& two_op() {
  static const OpDef* op = [] {
    OpDef d;
    d.signature = "_test_two(x: tensor)";
    d.doc = "Test op with two results.";
    d.infer_multi = [](const std::vector<TypeInfo>& in, const Attrs&) {
      return std::vector<TypeInfo>{in[0], TypeInfo{in[0].shape, DType::float64, in[0].rank_known}};
    };
    d.forward_multi = [](KernelCtx& ctx) {
      ++g_runs;
      Tensor x = ctx.in[0].astype(DType::float64).contiguous();
      Tensor a, b = Tensor::empty(x.shape(), DType::float64);
      for (int64_t i = 0; i < x.numel(); ++i) b.data<double>()[i] = 2 * x.data<double>()[i];
      if (ctx.output_used(0)) {
        Tensor a64 = Tensor::empty(x.shape(), DType::float64);
        for (int64_t i = 0; i < x.numel(); ++i) a64.data<double>()[i] = x.data<double>()[i] + 1;
        a = a64.astype(ctx.in[0].dtype());
      } else {
        ++g_skipped;
      }
      return std::vector<Tensor>{a, b};
    };
    d.grad_multi = [](const std::shared_ptr<Node>&, const std::vector<Expr>& g) {
      ++g_grad_calls;
      Expr r;
      for (size_t k = 0; k < g.size(); ++k) {
        if (!g[k]) { ++g_undefined_cot; continue; }
        Expr term = k == 0 ? g[k] : g[k] * 2.0;
        r = r ? r + cast(term, DType::float64) : cast(term, DType::float64);
      }
      return std::vector<Expr>{r};
    };
    register_op(d);
    return find_op("_test_two");
  }();
  return *op;
}

std::vector<Expr> two(const Expr& x) { return outputs_of(make_node(two_op(), {x})); }

Tensor vec(std::vector<double> v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::float32);
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = static_cast<float>(v[i]);
  return t;
}

}  // namespace

TEST_CASE("each result has its own type and Expr") {
  Expr x = placeholder({-1}, DType::float32, "x");
  auto r = two(x);
  REQUIRE(r.size() == 2);
  CHECK((r[0].node() == r[1].node()));
  CHECK((r[0] != r[1]));
  CHECK(r[0].index() == 0);
  CHECK(r[1].index() == 1);
  CHECK(r[0].dtype() == DType::float32);
  CHECK(r[1].dtype() == DType::float64);
  CHECK(r[1].shape() == Shape{-1});
}

TEST_CASE("the executor runs a multi-result node once and returns each result") {
  Expr x = placeholder({-1}, DType::float32, "x");
  auto r = two(x);
  Function f({x}, {r[0], r[1], r[0] * 3.0});
  int before = g_runs;
  auto out = f({vec({1, 2})});
  CHECK(g_runs - before == 1);
  CHECK(out[0].dtype() == DType::float32);
  CHECK(out[0].item(1) == doctest::Approx(3.0));
  CHECK(out[1].dtype() == DType::float64);
  CHECK(out[1].item(1) == doctest::Approx(4.0));
  CHECK(out[2].item(0) == doctest::Approx(6.0));
}

TEST_CASE("a result nothing reads is skipped by the kernel and never kept") {
  Expr x = placeholder({-1}, DType::float32, "x");
  auto r = two(x);
  Function f({x}, {sum(r[1])});
  int skipped = g_skipped;
  for (int k = 0; k < 3; ++k) CHECK(f({vec({1, 2, 3})})[0].item() == doctest::Approx(12.0));
  CHECK(g_skipped - skipped == 3);
}

TEST_CASE("results are handed over at their last use and read by one step twice") {
  Expr x = placeholder({-1}, DType::float64, "x");
  auto r = two(x);
  Expr chain = r[1];
  for (int i = 0; i < 10; ++i) chain = chain * 1.0 + 1.0;  // in place on result 1's buffer
  Function f({x}, {chain + r[0] * r[0], r[1] + r[1]});
  Tensor in = Tensor::full({4}, DType::float64, 1.0);
  for (int k = 0; k < 3; ++k) {
    auto out = f({in});
    CHECK(out[0].item(3) == doctest::Approx(2.0 + 10.0 + 4.0));
    CHECK(out[1].item(0) == doctest::Approx(4.0));
  }
  CHECK(in.item(0) == 1.0);
}

TEST_CASE("autodiff gives a multi-result node one cotangent per result") {
  Expr x = variable(vec({1, 2}), "x");
  auto r = two(x);
  int undefined = g_undefined_cot, calls = g_grad_calls;
  Expr g1 = gradients(sum(r[1]), {x})[0];  // only result 1 reaches the loss
  CHECK(g_grad_calls - calls == 1);
  CHECK(g_undefined_cot - undefined == 1);
  REQUIRE(g1.defined());
  CHECK(g1.dtype() == DType::float32);  // cast back to x's dtype
  CHECK(eval(g1).item(0) == doctest::Approx(2.0));
  undefined = g_undefined_cot;
  Expr g01 = gradients(sum(r[0]) + sum(r[1]) + sum(r[0]), {x})[0];  // result 0 twice: accumulated
  CHECK(g_undefined_cot - undefined == 0);
  CHECK(eval(g01).item(1) == doctest::Approx(4.0));
  CHECK(gradients(sum(r[1]), {r[0]})[0].defined() == false);  // result 1 does not depend on result 0
  CHECK(eval(gradients(sum(r[1]) * 5.0, {r[1]})[0]).item(0) == doctest::Approx(5.0));
}

TEST_CASE("rnn: a loop node with several results, and its gradient") {
  // h_t = tanh(x_t * w + h_{t-1}); the loop gives (outputs, final state, traced states).
  Tensor xs = Tensor::empty({2, 3, 1}, DType::float64);
  for (int64_t i = 0; i < 6; ++i) xs.data<double>()[i] = 0.1 * static_cast<double>(i + 1);
  Expr x = constant(xs), w = variable(Tensor::full({1, 1}, DType::float64, 0.5), "w");
  Expr h0 = variable(Tensor::zeros({2, 1}, DType::float64), "h0");
  RnnStep step = [&](const Expr& xt, const std::vector<Expr>& s) {
    Expr h = tanh(dot(xt, w) + s[0]);
    return std::make_pair(h, std::vector<Expr>{h});
  };
  RnnResult r = rnn(step, x, {h0});
  REQUIRE(r.new_states.size() == 1);
  CHECK((r.outputs.node() == r.new_states[0].node()));  // both are results of the loop node
  CHECK(r.outputs.shape() == Shape{2, 3, 1});
  auto g = gradients(sum(r.last_output) + sum(r.new_states[0]), {w, h0});
  Function f({}, {r.last_output, r.outputs, r.new_states[0], g[0], g[1]});
  for (int call = 0; call < 2; ++call) {  // the compiled body is reused by the second call
    auto out = f({});
    double dw = 0;
    for (int64_t b = 0; b < 2; ++b) {  // forward, then d(2 h_T) by the chain rule, by hand
      double h = 0, dh = 2;
      std::vector<double> hs;
      for (int64_t t = 0; t < 3; ++t) hs.push_back(h = std::tanh(0.5 * xs.item(b * 3 + t) + h));
      CHECK(out[0].item(b) == doctest::Approx(hs[2]));
      CHECK(out[1].item(b * 3 + 1) == doctest::Approx(hs[1]));
      CHECK(out[2].item(b) == doctest::Approx(hs[2]));
      for (int64_t t = 2; t >= 0; --t) {
        double dpre = dh * (1 - hs[t] * hs[t]);
        dw += dpre * xs.item(b * 3 + t);
        dh = dpre;
      }
      CHECK(out[4].item(b) == doctest::Approx(dh));
    }
    CHECK(out[3].shape() == Shape{1, 1});
    CHECK(out[3].item() == doctest::Approx(dw));
  }
}
