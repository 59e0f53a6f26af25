// Autodiff on tiny graphs: broadcast reduction, unconnected variables, second order.
#include "doctest.h"
#include "keras_cpp/keras_cpp.h"

using namespace keras_cpp;

static Tensor vec(std::vector<double> v, Shape s) {
  Tensor t = Tensor::empty(s, DType::float64);
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

TEST_CASE("gradient of a broadcast product is reduced to the input shape") {
  Expr x = variable(vec({1, 2, 3, 4, 5, 6}, {2, 3}), "x");
  Expr b = variable(vec({10, 20, 30}, {3}), "b");
  Expr loss = sum(x * b);
  auto g = gradients(loss, {x, b});
  Tensor gb = eval(g[1]);
  CHECK(gb.shape() == Shape{3});
  CHECK(gb.item(0) == doctest::Approx(5.0));  // 1 + 4
  CHECK(gb.item(2) == doctest::Approx(9.0));  // 3 + 6
  CHECK(eval(g[0]).item(4) == doctest::Approx(20.0));
}

TEST_CASE("unconnected or non-differentiable paths give no gradient") {
  Expr x = variable(vec({1, 2}, {2}), "x");
  Expr y = variable(vec({3, 4}, {2}), "y");
  auto g = gradients(sum(x * x), {x, y});
  CHECK(g[0].defined());
  CHECK_FALSE(g[1].defined());
  auto h = gradients(sum(cast(argmax(x, 0), DType::float64)), {x});
  CHECK_FALSE(h[0].defined());
}

TEST_CASE("gradients of gradients") {
  Expr x = variable(vec({3}, {}), "x");
  Expr y = x * x * x;  // y' = 3x^2, y'' = 6x
  Expr d1 = gradients(y, {x})[0];
  Expr d2 = gradients(d1, {x})[0];
  CHECK(eval(d1).item() == doctest::Approx(27.0));
  CHECK(eval(d2).item() == doctest::Approx(18.0));
}
