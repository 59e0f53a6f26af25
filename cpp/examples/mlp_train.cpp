// cpp/examples/mlp_train.cpp — build, differentiate and train a small MLP with no Python.
// Learns y = [x0 > x1] on random points; exits non-zero if accuracy stays below 90%.
#include <cstdio>
#include <random>

#include <keras_cpp/keras_cpp.h>

namespace kc = keras_cpp;

static kc::Tensor random_tensor(kc::Shape shape, float scale, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, scale);
  kc::Tensor t = kc::Tensor::empty(shape, kc::DType::float32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = nd(rng);
  return t;
}

int main() {
  std::mt19937 rng(0);
  const int64_t n = 256;
  kc::Tensor xs = random_tensor({n, 2}, 1.0f, rng), ys = kc::Tensor::zeros({n, 2}, kc::DType::float32);
  for (int64_t i = 0; i < n; ++i) ys.data<float>()[i * 2 + (xs.data<float>()[i * 2] > xs.data<float>()[i * 2 + 1])] = 1.0f;

  kc::Expr x = kc::placeholder({-1, 2}, kc::DType::float32, "x");
  kc::Expr y = kc::placeholder({-1, 2}, kc::DType::float32, "y");
  kc::Expr w1 = kc::variable(random_tensor({2, 16}, 0.5f, rng), "w1");
  kc::Expr b1 = kc::variable(kc::Tensor::zeros({16}, kc::DType::float32), "b1");
  kc::Expr w2 = kc::variable(random_tensor({16, 2}, 0.5f, rng), "w2");
  kc::Expr b2 = kc::variable(kc::Tensor::zeros({2}, kc::DType::float32), "b2");
  kc::Expr h = kc::relu(kc::bias_add(kc::dot(x, w1), b1));
  kc::Expr p = kc::softmax(kc::bias_add(kc::dot(h, w2), b2));
  kc::Expr loss = kc::mean(kc::categorical_crossentropy(y, p));
  kc::Expr acc = kc::mean(kc::cast(kc::equal(kc::argmax(p), kc::argmax(y)), kc::DType::float32));

  std::vector<kc::Expr> params{w1, b1, w2, b2};
  std::vector<kc::Expr> grads = kc::gradients(loss, params);
  std::vector<std::pair<kc::Expr, kc::Expr>> updates;
  for (size_t i = 0; i < params.size(); ++i) updates.push_back({params[i], params[i] - 0.5 * grads[i]});
  kc::Function step({x, y}, {loss, acc}, updates);

  std::vector<kc::Tensor> out;
  for (int epoch = 0; epoch < 200; ++epoch) out = step({xs, ys});
  std::printf("loss %.4f accuracy %.3f\n", out[0].item(), out[1].item());
  return out[1].item() >= 0.9 ? 0 : 1;
}
