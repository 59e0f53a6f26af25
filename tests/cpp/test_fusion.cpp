// The fused elementwise evaluator (kernels/fused_ew.h) against the unfused kernels, and the
// plan's fusion pass (fewer steps, same values).
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "doctest.h"
#include "keras_cpp/keras_cpp.h"
#include "kernels/elementwise.h"
#include "kernels/fused_ew.h"

using namespace keras_cpp;

namespace {
Tensor ramp(const Shape& s, double scale) {
  Tensor t = Tensor::empty(s, DType::float32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(std::sin(i * 0.37) * scale);
  return t;
}
bool same_bits(const Tensor& a, const Tensor& b) {
  Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.raw(), y.raw(), x.numel() * dtype_size(x.dtype())) == 0;
}
fused::Instr ins(fused::Kind k, uint8_t code, int a, int b = fused::kNoArg, int c = fused::kNoArg,
                 DType out = DType::float32) {
  fused::Instr i;
  i.kind = k;
  i.code = code;
  i.dtype = DType::float32;
  i.out = out;
  i.arg[0] = a;
  i.arg[1] = b;
  i.arg[2] = c;
  return i;
}
}  // namespace

TEST_CASE("a long unary chain needs one register") {
  fused::Program p;
  p.ninputs = 1;
  p.code.push_back(ins(fused::Kind::unary, uint8_t(ew::UnaryOp::tanh), fused::input_arg(0)));
  for (int j = 1; j < 10; ++j) p.code.push_back(ins(fused::Kind::unary, uint8_t(ew::UnaryOp::negative), j - 1));
  p.prepare();
  CHECK(p.nregs == 1);
}

TEST_CASE("tanh(x^T * col) + row over segment and row-group blocks matches the unfused kernels") {
  for (Shape s : {Shape{3, 2500}, Shape{999, 5}, Shape{64, 256}}) {
    Tensor xt = ramp({s[1], s[0]}, 3.0).permute({1, 0});  // a transposed view: inner stride != 1
    Tensor col = ramp({s[0], 1}, 1.0), row = ramp({s[1]}, 0.5);
    fused::Program p;
    p.ninputs = 3;
    p.code.push_back(ins(fused::Kind::binary, uint8_t(ew::BinaryOp::multiply), fused::input_arg(0), fused::input_arg(1)));
    p.code.push_back(ins(fused::Kind::unary, uint8_t(ew::UnaryOp::tanh), 0));
    p.code.push_back(ins(fused::Kind::binary, uint8_t(ew::BinaryOp::add), 1, fused::input_arg(2)));
    p.prepare();
    Tensor out = Tensor::empty(s, DType::float32);
    fused::run(p, {xt, col, row}, out);
    Tensor a = Tensor::empty(s, DType::float32), b = Tensor::empty(s, DType::float32), c = Tensor::empty(s, DType::float32);
    binary_apply(ew::BinaryOp::multiply, xt, col, a);
    unary_apply(ew::UnaryOp::tanh, a, b);
    binary_apply(ew::BinaryOp::add, b, row, c);
    CHECK(same_bits(out, c));
  }
}

TEST_CASE("the plan fuses a chain into one step unless fusion is off") {
  Expr p = placeholder({-1, 8}, DType::float32, "p");
  Expr b = placeholder({8}, DType::float32, "b");
  Expr y = relu(p * 2.0 + b);
  Function f1({p, b}, {y});
  setenv("KERAS_CPP_FUSION", "0", 1);
  Function f0({p, b}, {y});
  unsetenv("KERAS_CPP_FUSION");
  CHECK(f1.num_steps() == 1);
  CHECK(f0.num_steps() == 3);
  Tensor x = ramp({5, 8}, 2.0), bias = ramp({8}, 1.0);
  CHECK(same_bits(f1({x, bias})[0], f0({x, bias})[0]));
}
