// Uses only the installed public headers: d/dx sum(x^2) = 2x.
#include <cstdio>
#include <keras_cpp/keras_cpp.h>

int main() {
  namespace kc = keras_cpp;
  kc::Expr x = kc::placeholder({-1}, kc::DType::float32, "x");
  kc::Expr g = kc::gradients(kc::sum(kc::square(x)), {x})[0];
  kc::Function f({x}, {g});
  kc::Tensor in = kc::Tensor::full({3}, kc::DType::float32, 1.5);
  double v = f({in})[0].item(2);
  std::printf("consumer: d/dx sum(x^2) at 1.5 = %g\n", v);
  return v == 3.0 ? 0 : 1;
}
