// The executor: updates from pre-call state, repeated calls, None dims, feeds not modified.
#include "doctest.h"
#include "keras_cpp/keras_cpp.h"

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
