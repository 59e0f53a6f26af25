// The executor: updates from pre-call state, repeated calls, None dims, feeds not modified.
#include <atomic>
#include <cstring>
#include "doctest.h"
#include "keras_cpp/keras_cpp.h"
#include "ops/registry.h"

using namespace keras_cpp;

TEST_CASE("outputs and update values are computed from the pre-call state") {
  Expr x = variable(Tensor::full({2}, DType::float32, 3.0), "x");
  Expr y = placeholder({-1}, DType::float32, "y");
  Function f({y}, {square(x) + y}, {{x, x * 2.0}});
  Tensor feed = Tensor::full({2}, DType::float32, 1.0);
  auto out = f({feed});
  CHECK(out[0].item(0) == doctest::Approx(10.0));  // 3^2 + 1, from the old x
  CHECK(get_value(x).item(0) == doctest::Approx(6.0));
  out = f({feed});
  CHECK(out[0].item(1) == doctest::Approx(37.0));
  CHECK(get_value(x).item(0) == doctest::Approx(12.0));
  CHECK(feed.item(0) == 1.0);
}

TEST_CASE("placeholders with unknown dims take different batch sizes") {
  Expr p = placeholder({-1, 3}, DType::float32, "p");
  Function f({p}, {sum(p, std::vector<int64_t>{1})});
  for (int64_t n : {1, 5, 0}) {
    auto out = f({Tensor::full({n, 3}, DType::float32, 2.0)});
    CHECK(out[0].shape() == Shape{n});
    if (n) CHECK(out[0].item(n - 1) == doctest::Approx(6.0));
  }
  CHECK_THROWS_AS(f({Tensor::full({2, 4}, DType::float32, 1.0)}), ValueError);
}

TEST_CASE("a missing feed is a clear error at compile time") {
  Expr p = placeholder({2}, DType::float32, "needed");
  CHECK_THROWS_WITH_AS(Function({}, {p * 2.0}), doctest::Contains("needed"), ValueError);
}

TEST_CASE("long elementwise chains reuse buffers and stay correct") {
  Expr p = placeholder({-1}, DType::float64, "p");
  Expr e = p;
  for (int i = 0; i < 50; ++i) e = e * 1.0 + 1.0;
  Function f({p}, {e});
  Tensor in = Tensor::full({1000}, DType::float64, 0.0);
  for (int k = 0; k < 3; ++k) CHECK(f({in})[0].item(999) == doctest::Approx(50.0));
  CHECK(in.item(0) == 0.0);
}

TEST_CASE("update ops assign when evaluated and yield the new value") {
  Expr v = variable(Tensor::full({2}, DType::float32, 1.0), "v");
  Expr u = update_add(v, constant(Tensor::full({2}, DType::float32, 2.0)));
  CHECK(get_value(v).item(0) == 1.0);  // building it does nothing
  CHECK(eval(u).item(1) == doctest::Approx(3.0));
  CHECK(eval(u).item(1) == doctest::Approx(5.0));
  CHECK(get_value(v).item(0) == doctest::Approx(5.0));
}

TEST_CASE("control dependencies order reads after updates, and a failing call commits nothing") {
  Expr v = variable(Tensor::scalar(0.0, DType::float32), "v");
  Expr u = update_add(v, scalar_like(1.0, v));
  Expr after, before = v * 1.0;
  {
    ControlDependencies deps({u});
    after = v * 1.0;
  }
  Function f({}, {before, after});
  auto out = f({});
  CHECK(out[0].item() == 0.0);  // no dependency on u: the pre-call value
  CHECK(out[1].item() == 1.0);
  CHECK(get_value(v).item() == 1.0);
  Expr p = placeholder({-1}, DType::float32, "p");
  Expr w = variable(Tensor::full({2}, DType::float32, 0.0), "w");
  Function g({p}, {}, {{v, v + 1.0}, {w, p}});
  CHECK_THROWS_AS(g({Tensor::full({3}, DType::float32, 1.0)}), ValueError);  // w gets a wrong shape
  CHECK(get_value(v).item() == 1.0);                                          // v untouched too
  g({Tensor::full({2}, DType::float32, 4.0)});
  CHECK(get_value(v).item() == 2.0);
  CHECK(get_value(w).item(1) == 4.0);
}

TEST_CASE("large freed blocks are reused for the same size, never while alive") {
  const size_t big = size_t(3) << 20;
  void* first;
  {
    auto a = Storage::allocate(big);
    first = a->data();
    static_cast<char*>(a->data())[0] = 1;
  }
  auto b = Storage::allocate(big);  // the freed block (or any other): must be writable and distinct from live ones
  auto c = Storage::allocate(big);
  CHECK(b->data() != c->data());
  CHECK(b->nbytes() == big);
  CHECK((b->data() == first || c->data() != first));
  auto d = Storage::allocate(big + 4096);  // another size: never a smaller cached block
  CHECK(d->data() != b->data());
  CHECK(d->data() != c->data());
  std::memset(d->data(), 0, big + 4096);
}

TEST_CASE("feeds taken over or copied give the same results") {
  Expr p = placeholder({-1}, DType::float32, "p");
  Expr y = p + 1.0;
  Function f({p}, {y, y, p});
  Tensor feed = Tensor::full({3}, DType::float32, 2.0);
  std::vector<Tensor> kept{feed};
  auto a = f(kept);                                   // copied: `kept` still holds its feed
  auto b = f(std::vector<Tensor>{feed});              // taken over
  CHECK(kept[0].raw() == feed.raw());
  for (auto* r : {&a, &b}) {
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].item(2) == 3.0);
    CHECK((*r)[1].item(0) == 3.0);
    CHECK((*r)[2].item(1) == 2.0);
  }
  CHECK(feed.item(0) == 2.0);
}

TEST_CASE("a scalar switch runs only the chosen branch") {
  Expr c = placeholder({}, DType::int32, "c");
  Expr p = placeholder({2}, DType::float32, "p");
  Expr q = placeholder({-1}, DType::float32, "q");
  // The else branch fails when it runs on a q of 3 elements (reshaped to (2,)).
  Function f({c, p, q}, {switch_(c, p * 2.0, reshape(q, {2}) + 1.0)});
  Tensor pv = Tensor::full({2}, DType::float32, 1.5), q3 = Tensor::full({3}, DType::float32, 1.0);
  CHECK(f({Tensor::full({}, DType::int32, 1.0), pv, q3})[0].item(1) == 3.0);
  CHECK_THROWS_AS(f({Tensor::full({}, DType::int32, 0.0), pv, q3}), ValueError);
  CHECK(f({Tensor::full({}, DType::int32, 0.0), pv, Tensor::full({2}, DType::float32, 1.0)})[0].item(0) == 2.0);
}

namespace {
std::atomic<int> g_count_runs{0};

// "_test_count(x)": x + 1, counting its kernel runs; its shape follows from x's (kShapeFromShapes).
const OpDef& count_op() {
  static const OpDef* op = [] {
    OpDef d;
    d.signature = "_test_count(x: tensor)";
    d.doc = "Test op counting its runs.";
    d.flags = kShapeFromShapes;
    d.infer = [](const std::vector<TypeInfo>& in, const Attrs&) { return in[0]; };
    d.forward = [](KernelCtx& ctx) {
      ++g_count_runs;
      Tensor x = ctx.in[0].astype(DType::float64).contiguous(), o = Tensor::empty(x.shape(), DType::float64);
      for (int64_t i = 0; i < x.numel(); ++i) o.data<double>()[i] = x.data<double>()[i] + 1;
      return o.astype(ctx.in[0].dtype());
    };
    d.grad = [](const Expr&, const Expr& g) { return std::vector<Expr>{g}; };
    register_op(d);
    return find_op("_test_count");
  }();
  return *op;
}
}  // namespace

TEST_CASE("a result read only for its shape skips its kernel; its run-time shape is still checked") {
  Expr p = placeholder({-1, 3}, DType::float32, "p");
  Expr y = make_node(count_op(), {p});
  Tensor feed = Tensor::full({4, 3}, DType::float32, 2.0);
  g_count_runs = 0;
  auto out = Function({p}, {ones_like(y * 2.0)})({feed});  // y and y * 2 are read for their shapes only
  CHECK(g_count_runs == 0);
  CHECK(out[0].shape() == Shape{4, 3});
  CHECK(out[0].item(11) == 1.0);
  // The gradient of sum(y * c) needs only y's shape: y's kernel is skipped here as well.
  Expr c = constant(Tensor::full({4, 3}, DType::float32, 3.0));
  out = Function({p}, gradients(sum(y * c), {p}))({feed});
  CHECK(g_count_runs == 0);
  CHECK(out[0].item(5) == doctest::Approx(3.0));
  out = Function({p}, {y, ones_like(y)})({feed});  // y returned: computed once
  CHECK(g_count_runs == 1);
  CHECK(out[0].item(0) == doctest::Approx(3.0));
  // A batch that does not broadcast against c fails in the shape step as it would in the kernel.
  CHECK_THROWS_AS(Function({p}, gradients(sum(y * c), {p}))({Tensor::full({5, 3}, DType::float32, 1.0)}), ValueError);
}
