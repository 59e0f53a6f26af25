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

namespace {
fused::Instr bin(ew::BinaryOp op, int a, int b, DType t) {
  fused::Instr i = ins(fused::Kind::binary, uint8_t(op), a, b, fused::kNoArg, t);
  i.dtype = t;
  return i;
}
fused::Instr relu_of(int a, DType t) {
  fused::Instr i = ins(fused::Kind::unary, uint8_t(ew::UnaryOp::relu), a, fused::kNoArg, fused::kNoArg, t);
  i.dtype = t;
  return i;
}
constexpr int in0 = -1, in1 = -2, in2 = -3;  // fused::input_arg(0..2)
using B = ew::BinaryOp;

// Equal bits, except that any NaN equals any NaN: the unfused drivers may hand a binary kernel
// its operands in the other order for a broadcast layout, and IEEE leaves a NaN result's sign and
// payload to that order (test_fusion.py's same_bits makes the same exception).
bool same_bits_nan(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor x = a.contiguous().astype(DType::float64), y = b.contiguous().astype(DType::float64);  // exact widening
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double u = x.data<double>()[i], v = y.data<double>()[i];
    if (std::isnan(u) != std::isnan(v) || (!std::isnan(u) && std::memcmp(&u, &v, 8) != 0)) return false;
  }
  return true;
}

Tensor specials(const Shape& s, DType t, double scale) {
  Tensor f = ramp(s, scale);
  const float sv[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f, -1e30f, -NAN};
  for (int64_t i = 0; i < f.numel(); i += 7) f.data<float>()[i] = sv[(i / 7) % 8];
  return f.astype(t);
}

// relu?(op2(x * a, r)) (swap: op2(r, x * a)) by fused::run, checked against the unfused kernels.
void check_chain_run(const Tensor& x, const Tensor& a, const Tensor& r, bool relu, B op2, bool swap) {
  const DType t = x.dtype();
  fused::Program p;
  p.ninputs = 3;
  p.code.push_back(bin(B::multiply, in0, in1, t));
  p.code.push_back(swap ? bin(op2, in2, 0, t) : bin(op2, 0, in2, t));
  if (relu) p.code.push_back(relu_of(1, t));
  p.prepare();
  REQUIRE(fused::match_chain(p).form >= 0);
  Tensor out = Tensor::empty(x.shape(), t);
  fused::run(p, {x, a, r}, out);
  Tensor m = Tensor::empty(x.shape(), t), s = Tensor::empty(x.shape(), t), y = Tensor::empty(x.shape(), t);
  binary_apply(B::multiply, x, a, m);
  if (swap) binary_apply(op2, r, m, s);
  else binary_apply(op2, m, r, s);
  if (relu) unary_apply(ew::UnaryOp::relu, s, y);
  CHECK(same_bits_nan(out, relu ? y : s));
}

}  // namespace

TEST_CASE("the single-pass matcher takes affine+relu chains and leaves the rest to the block evaluator") {
  const DType f = DType::float32;
  auto form = [](std::vector<fused::Instr> code, int ninputs = 3) {
    fused::Program p;
    p.ninputs = ninputs;
    p.code = std::move(code);
    p.prepare();
    return fused::match_chain(p);
  };
  fused::ChainMatch m = form({bin(B::multiply, in1, in0, f), bin(B::add, 0, in2, f), relu_of(1, f)});
  CHECK(m.form == ew::chain_form(ew::kChainMul, ew::kChainAdd, false, ew::kChainRelu));
  CHECK((m.in[0] == 1 && m.in[1] == 0 && m.in[2] == 2));
  m = form({bin(B::multiply, in0, in1, DType::float64), bin(B::subtract, in2, 0, DType::float64)});
  CHECK(m.form == ew::chain_form(ew::kChainMul, ew::kChainSub, true, ew::kChainIdentity));
  CHECK(m.dtype == DType::float64);
  m = form({bin(B::add, in0, in1, f), relu_of(0, f)}, 2);
  CHECK(m.form == ew::chain_form(ew::kChainAdd, ew::kChainNone, false, ew::kChainRelu));
  CHECK((m.in[0] == 0 && m.in[1] == 1));
  CHECK(form({bin(B::divide, in0, in1, f), relu_of(0, f)}).form < 0);                     // not add/sub/mul
  CHECK(form({bin(B::multiply, in0, in1, f), bin(B::add, 0, 0, f)}).form < 0);            // t + t
  CHECK(form({bin(B::multiply, in0, in1, f), relu_of(0, f), relu_of(1, f)}).form < 0);     // relu twice
  CHECK(form({relu_of(in0, f), bin(B::add, 0, in1, f)}).form < 0);                        // relu first
  fused::Instr tanh_ = relu_of(1, f);
  tanh_.code = uint8_t(ew::UnaryOp::tanh);
  CHECK(form({bin(B::multiply, in0, in1, f), bin(B::add, 0, in2, f), tanh_}).form < 0);  // not relu
  fused::Instr ints = bin(B::add, in0, in1, DType::int32);
  CHECK(form({ints, relu_of(0, DType::int32)}).form < 0);                                 // integers
  fused::Program extra;
  extra.ninputs = 3;
  extra.code = {bin(B::multiply, in0, in1, f), bin(B::add, 0, in2, f)};
  extra.extra = {0};  // x * a is also an output
  extra.prepare();
  CHECK(fused::match_chain(extra).form < 0);
}

TEST_CASE("single-pass chains match the unfused kernels on both ISAs (rows, scalars, columns, strides, tails)") {
  std::vector<ew::Isa> isas = {ew::Isa::avx2};
  if (ew::cpu_has(ew::Isa::avx512)) isas.push_back(ew::Isa::avx512);
  for (ew::Isa isa : isas) {
    ew::force_isa(isa);
    for (DType t : {DType::float32, DType::float64}) {
      for (Shape s : {Shape{3, 2500}, Shape{999, 5}, Shape{1, 37}, Shape{1025, 2048}}) {
        Tensor x = specials(s, t, 3.0);
        Tensor row = specials({s[1]}, t, 0.5), full = specials(s, t, 2.0), one = specials({1}, t, 0.7);
        Tensor col = specials({s[0], 1}, t, 1.5);
        Tensor xt = specials({s[1], s[0]}, t, 3.0).permute({1, 0});  // inner stride != 1: gathered
        const bool big = s[0] > 1000;
        check_chain_run(x, row, full, true, B::add, false);
        check_chain_run(big ? x : xt, one, row, true, B::subtract, true);
        check_chain_run(x, col, one, false, B::add, true);
        if (!big) check_chain_run(xt, full, col, false, B::multiply, false);
      }
    }
  }
  ew::reset_isa();
}
