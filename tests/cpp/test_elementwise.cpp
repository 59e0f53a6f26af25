// The elementwise, reduction and copy kernels, each ISA's table forced in turn: odd lengths (every
// vector tail), broadcast operands, NaN/inf in every lane position, integer wrap-around, and the
// tensor drivers over broadcast shapes and strided views, all against scalar references.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "doctest.h"
#include "keras_cpp/tensor.h"
#include "kernels/strided_copy.h"
#include "kernels/elementwise.h"
#include "kernels/ew.h"

using namespace keras_cpp;
using ew::BinaryOp;
using ew::Isa;
using ew::ReduceOp;
using ew::UnaryOp;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<Isa> isas() {
  std::vector<Isa> v{Isa::avx2};
  if (ew::cpu_has(Isa::avx512)) v.push_back(Isa::avx512);
  return v;
}

struct ForceIsa {
  explicit ForceIsa(Isa i) { ew::force_isa(i); }
  ~ForceIsa() { ew::reset_isa(); }
};

const int64_t kLens[] = {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000};

uint32_t lcg(uint32_t& s) { return s = s * 1664525u + 1013904223u; }
double uniform(uint32_t& s, double lo, double hi) { return lo + (hi - lo) * (lcg(s) >> 8) / 16777216.0; }

// Same value, or both NaN; within `ulps` units in the last place of T otherwise.
template <class T>
bool close(T got, double want, double ulps) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want) || want == 0) return double(got) == want || std::fabs(double(got) - want) <= std::numeric_limits<T>::denorm_min();
  double ulp = std::fabs(double(std::nextafter(static_cast<T>(want), T(0)) - static_cast<T>(want)));
  ulp = std::max(ulp, double(std::numeric_limits<T>::denorm_min()));
  return std::fabs(double(got) - want) <= ulps * ulp;
}

double ref_unary(UnaryOp op, double x) {
  switch (op) {
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::expm1: return std::expm1(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::log1p: return std::log1p(x);
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::softplus: return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
    case UnaryOp::softsign: return x / (1.0 + std::fabs(x));  // see softsign_ref for float
    case UnaryOp::sqrt: return std::isnan(x) ? x : std::sqrt(std::max(x, 0.0));
    case UnaryOp::relu: return std::isnan(x) ? x : std::max(x, 0.0);
    case UnaryOp::abs: return std::fabs(x);
    case UnaryOp::negative: return -x;
    case UnaryOp::square: return x * x;
    case UnaryOp::sign: return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
    case UnaryOp::round: return std::nearbyint(x);
    case UnaryOp::sin: return std::sin(x);
    case UnaryOp::cos: return std::cos(x);
    default: return kNaN;
  }
}

const UnaryOp kFloatUnary[] = {UnaryOp::exp,  UnaryOp::expm1,    UnaryOp::log,      UnaryOp::log1p,  UnaryOp::tanh,
                               UnaryOp::sigmoid, UnaryOp::softplus, UnaryOp::softsign, UnaryOp::sqrt, UnaryOp::relu,
                               UnaryOp::abs,  UnaryOp::negative, UnaryOp::square,   UnaryOp::sign,   UnaryOp::round,
                               UnaryOp::sin,  UnaryOp::cos};

// float results within 1 ulp: exp/log/tanh/sigmoid faithful on float lanes (correctly rounded with
// KERAS_CPP_EXACT_MATH=1), the others rounded once from double (exact but for rare ties); double
// ones within a few ulps.
template <class T>
void check_unary_values(DType dt, double ulps) {
  for (UnaryOp op : kFloatUnary) {
    ew::UnaryFn fn = ew::unary(op, dt);
    REQUIRE(static_cast<bool>(fn));
    for (int64_t n : kLens) {
      uint32_t seed = 17u + static_cast<uint32_t>(n);
      std::vector<T> x(n + 1), y(n + 1, T(777));
      const bool positive = op == UnaryOp::log;
      for (int64_t i = 0; i < n; ++i) {
        double v = uniform(seed, -30, 30);
        if (op == UnaryOp::log1p) v = uniform(seed, -0.999, 30);
        x[i] = static_cast<T>(positive ? std::exp(v) : v);
      }
      fn(x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        double want = ref_unary(op, double(x[i]));
        if (op == UnaryOp::softsign) want = x[i] / (T(1) + std::fabs(x[i]));  // two roundings in T, as TF
        if (!close<T>(y[i], want, op == UnaryOp::softsign ? 0 : ulps)) {
          FAIL_CHECK("op " << int(op) << " n=" << n << " x=" << double(x[i]) << " got " << double(y[i]) << " want " << want);
          break;
        }
      }
      CHECK(y[n] == T(777));  // nothing written past the end
    }
  }
}

// Edge values placed in every lane of a 37-element array (full vectors and the tail).
template <class T>
void check_unary_specials(DType dt) {
  const double sp[] = {-kInf, kInf, kNaN, 0.0, -0.0, 1e-30, -1e-30, 700.0, -750.0, 100.0, -100.0, 1e-310};
  for (UnaryOp op : kFloatUnary) {
    ew::UnaryFn fn = ew::unary(op, dt);
    for (double s : sp) {
      if ((op == UnaryOp::sin || op == UnaryOp::cos) && std::isinf(s)) continue;  // libm: NaN, checked by type
      for (int pos = 0; pos < 37; ++pos) {
        std::vector<T> x(37, T(0.5)), y(37);
        x[pos] = static_cast<T>(s);
        fn(x.data(), y.data(), 37);
        double want = ref_unary(op, double(x[pos]));
        if (!close<T>(y[pos], want, 4)) {
          FAIL_CHECK("op " << int(op) << " special " << s << " at " << pos << ": got " << double(y[pos]) << " want " << want);
          break;
        }
        CHECK(close<T>(y[(pos + 1) % 37], ref_unary(op, 0.5), 4));  // the neighbours are unaffected
      }
    }
  }
}

}  // namespace

TEST_CASE("unary float kernels: values, tails and IEEE edge cases on every ISA") {
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    CAPTURE(ew::isa_name(isa));
    check_unary_values<float>(DType::float32, 1.0);
    check_unary_values<double>(DType::float64, 4.0);
    check_unary_specials<float>(DType::float32);
    check_unary_specials<double>(DType::float64);
  }
}

TEST_CASE("exp(-inf) is 0 and NaN propagates in the vector lanes") {
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    std::vector<float> x(33, -std::numeric_limits<float>::infinity()), y(33, 1.f);
    ew::unary(UnaryOp::exp, DType::float32)(x.data(), y.data(), 33);
    for (float v : y) CHECK(v == 0.f);
    std::vector<double> xd(33, -kInf), yd(33, 1.0);
    ew::unary(UnaryOp::exp, DType::float64)(xd.data(), yd.data(), 33);
    for (double v : yd) CHECK(v == 0.0);
    // subnormal results are not flushed: exp(-100) = 3.72e-44 in float32
    float small = -100.f, out = 0;
    ew::unary(UnaryOp::exp, DType::float32)(&small, &out, 1);
    CHECK(out == static_cast<float>(std::exp(-100.0)));
  }
}

TEST_CASE("binary float kernels: broadcast operands and NaN-propagating maximum/minimum") {
  const BinaryOp ops[] = {BinaryOp::add, BinaryOp::subtract, BinaryOp::multiply, BinaryOp::divide, BinaryOp::maximum,
                          BinaryOp::minimum, BinaryOp::pow, BinaryOp::floordiv, BinaryOp::mod};
  auto ref = [](BinaryOp op, double a, double b) {
    switch (op) {
      case BinaryOp::add: return a + b;
      case BinaryOp::subtract: return a - b;
      case BinaryOp::multiply: return a * b;
      case BinaryOp::divide: return a / b;
      case BinaryOp::maximum: return (std::isnan(a) || std::isnan(b)) ? kNaN : std::max(a, b);
      case BinaryOp::minimum: return (std::isnan(a) || std::isnan(b)) ? kNaN : std::min(a, b);
      case BinaryOp::pow: return std::pow(a, b);
      case BinaryOp::floordiv: return std::floor(a / b);
      default: { double r = std::fmod(a, b); return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
    }
  };
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    CAPTURE(ew::isa_name(isa));
    for (BinaryOp op : ops)
      for (int64_t n : kLens)
        for (int mode = 0; mode < 4; ++mode) {
          const int sa = mode & 1 ? 0 : 1, sb = mode & 2 ? 0 : 1;
          uint32_t seed = 5u + static_cast<uint32_t>(n);
          std::vector<float> a(n + 1), b(n + 1), o(n + 1, 777.f);
          for (int64_t i = 0; i < n; ++i) {
            a[i] = static_cast<float>(uniform(seed, 0.1, 4));
            b[i] = static_cast<float>(uniform(seed, -3, 3));
            if (i % 5 == 1) a[i] = std::numeric_limits<float>::quiet_NaN();
            if (i % 7 == 2) b[i] = std::numeric_limits<float>::quiet_NaN();
          }
          if (n == 0) a[0] = b[0] = 1.f;
          ew::binary(op, DType::float32)(a.data(), b.data(), o.data(), n, sa, sb);
          for (int64_t i = 0; i < n; ++i) {
            double want = static_cast<float>(ref(op, a[i * sa], b[i * sb]));
            if (!close<float>(o[i], want, op == BinaryOp::pow ? 1 : 0)) {
              FAIL_CHECK("op " << int(op) << " n=" << n << " mode " << mode << " i=" << i << " got " << o[i] << " want " << want);
              break;
            }
          }
          CHECK(o[n] == 777.f);
        }
  }
}

TEST_CASE("integer kernels wrap like numpy and never trap") {
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    const int32_t mn = std::numeric_limits<int32_t>::min();
    std::vector<int32_t> a{mn, mn, 7, -7, 7, -7, 5, 2147483647}, b{-1, 0, 2, 2, -2, -2, 0, 1}, o(8);
    ew::binary(BinaryOp::floordiv, DType::int32)(a.data(), b.data(), o.data(), 8, 1, 1);
    CHECK(o == std::vector<int32_t>{mn, 0, 3, -4, -4, 3, 0, 2147483647});
    ew::binary(BinaryOp::mod, DType::int32)(a.data(), b.data(), o.data(), 8, 1, 1);
    CHECK(o == std::vector<int32_t>{0, 0, 1, 1, -1, -1, 0, 0});
    ew::binary(BinaryOp::add, DType::int32)(a.data(), b.data(), o.data(), 8, 1, 1);
    CHECK(o[7] == mn);
    ew::unary(UnaryOp::abs, DType::int32)(a.data(), o.data(), 8);
    CHECK(o[0] == mn);
    std::vector<uint8_t> u{200, 100}, uo(2);
    ew::binary(BinaryOp::add, DType::uint8)(u.data(), u.data() + 1, uo.data(), 1, 1, 0);
    CHECK(uo[0] == 44);
  }
}

TEST_CASE("reductions: rows and columns, odd sizes, NaN in every position, long float sums") {
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    CAPTURE(ew::isa_name(isa));
    for (int64_t R : {1, 3, 16, 17, 63, 64, 65, 200}) {
      std::vector<float> x(3 * R);
      uint32_t seed = 3u + static_cast<uint32_t>(R);
      for (auto& v : x) v = static_cast<float>(uniform(seed, -2, 2));
      float out[3];
      ew::reduce_rows(ReduceOp::max, DType::float32)(x.data(), out, 3, R);
      for (int a = 0; a < 3; ++a) CHECK(out[a] == *std::max_element(x.begin() + a * R, x.begin() + (a + 1) * R));
      ew::reduce_rows(ReduceOp::sum, DType::float32)(x.data(), out, 3, R);
      for (int a = 0; a < 3; ++a) {
        double s = 0;
        for (int64_t r = 0; r < R; ++r) s += x[a * R + r];
        CHECK(std::fabs(out[a] - s) <= 1e-5 * (1 + std::fabs(s)));
      }
      for (int64_t pos = 0; pos < R; ++pos) {  // a NaN anywhere makes max/min NaN
        std::vector<float> y(x.begin(), x.begin() + R);
        y[pos] = std::numeric_limits<float>::quiet_NaN();
        float m = 0, mi = 0;
        ew::reduce_rows(ReduceOp::max, DType::float32)(y.data(), &m, 1, R);
        ew::reduce_rows(ReduceOp::min, DType::float32)(y.data(), &mi, 1, R);
        CHECK(std::isnan(m));
        CHECK(std::isnan(mi));
      }
    }
    for (int64_t n : kLens) {  // columns: x is (R, n) with a padded row stride
      const int64_t R = 5, ld = n + 3;
      std::vector<double> x(R * ld + 1);
      uint32_t seed = 9u + static_cast<uint32_t>(n);
      for (auto& v : x) v = uniform(seed, -2, 2);
      if (n > 2) x[2 * ld + n / 2] = kNaN;
      std::vector<double> o(n + 1, 777), p(n + 1, 777);
      ew::reduce_cols(ReduceOp::sum, DType::float64)(x.data(), o.data(), R, n, ld);
      ew::reduce_cols(ReduceOp::max, DType::float64)(x.data(), p.data(), R, n, ld);
      for (int64_t j = 0; j < n; ++j) {
        double s = 0, m = -kInf;
        bool nan = false;
        for (int64_t r = 0; r < R; ++r) { s += x[r * ld + j]; m = std::max(m, x[r * ld + j]); nan = nan || std::isnan(x[r * ld + j]); }
        CHECK(close<double>(o[j], s, 8));
        if (nan) CHECK(std::isnan(p[j]));
        else CHECK(p[j] == m);
      }
      CHECK(o[n] == 777);
    }
    // 2^22 copies of 0.1f: one float accumulator drifts by ~1e-3 relative, the blocked sum stays exact to ~1e-7.
    std::vector<float> big(1 << 22, 0.1f);
    float s = 0;
    ew::reduce_rows(ReduceOp::sum, DType::float32)(big.data(), &s, 1, static_cast<int64_t>(big.size()));
    const double exact = double(0.1f) * double(big.size());
    CHECK(std::fabs(s - exact) <= 2e-7 * exact);
  }
}

namespace {

// Fill a tensor with distinct values, naive strided copy for reference.
Tensor iota(const Shape& s, DType dt) {
  Tensor t = Tensor::empty(s, dt);
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (dt) {
      case DType::float32: t.data<float>()[i] = static_cast<float>(i) * 0.5f - 3.f; break;
      case DType::float64: t.data<double>()[i] = static_cast<double>(i) * 0.25 - 2.0; break;
      case DType::int16: t.data<int16_t>()[i] = static_cast<int16_t>(i * 3); break;
      default: t.data<uint8_t>()[i] = static_cast<uint8_t>(i * 7); break;
    }
  }
  return t;
}

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.item(i) != b.item(i) && !(std::isnan(a.item(i)) && std::isnan(b.item(i)))) return false;
  return true;
}

Tensor naive_contiguous(const Tensor& v) {
  Tensor t = Tensor::empty(v.shape(), DType::float64);
  for (int64_t i = 0; i < v.numel(); ++i) t.data<double>()[i] = v.item(i);
  return t.astype(v.dtype());
}

}  // namespace

TEST_CASE("strided_copy: transposes, permutations, reversed and broadcast views, every element size") {
  const DType dts[] = {DType::uint8, DType::int16, DType::float32, DType::float64};
  const Shape shapes[] = {{7, 9}, {8, 8}, {33, 17}, {64, 40}, {3, 5, 7}, {2, 16, 9, 8}, {1, 13, 1}};
  for (DType dt : dts)
    for (const Shape& s : shapes) {
      Tensor x = iota(s, dt);
      std::vector<int> perm(s.size());
      for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(perm.size() - 1 - i);
      for (int rot = 0; rot < static_cast<int>(s.size()); ++rot) {
        Tensor v = x.permute(perm);
        CHECK(same_values(v.contiguous(), naive_contiguous(v)));
        std::rotate(perm.begin(), perm.begin() + 1, perm.end());
      }
      Tensor r = x.slice(0, s[0] - 1, -1, -1);  // reversed along axis 0 and (below) the last axis
      CHECK(same_values(r.contiguous(), naive_contiguous(r)));
      Tensor r2 = x.slice(x.ndim() - 1, s.back() - 1, -1, -1);
      CHECK(same_values(r2.contiguous(), naive_contiguous(r2)));
      Tensor st = x.slice(x.ndim() - 1, 0, s.back(), 2);
      CHECK(same_values(st.contiguous(), naive_contiguous(st)));
    }
  // Broadcast (stride 0) axes, outer and inner, as tile/repeat produce them.
  Tensor x = iota({3, 1, 5}, DType::float32);
  Tensor b = Tensor(x.storage(), {4, 3, 6, 5}, {0, 5, 0, 1}, 0, DType::float32);
  CHECK(same_values(b.contiguous(), naive_contiguous(b)));
  Tensor c = Tensor(x.storage(), {3, 5, 70}, {5, 1, 0}, 0, DType::float32);
  CHECK(same_values(c.contiguous(), naive_contiguous(c)));
  // Into a strided destination (a slice of a larger buffer, as concatenate writes).
  Tensor big = Tensor::zeros({6, 10}, DType::float32);
  Tensor part = big.slice(1, 3, 8, 1);
  Tensor src = iota({6, 5}, DType::float32);
  copy_into(src, part);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 10; ++j) CHECK(big.data<float>()[i * 10 + j] == (j >= 3 && j < 8 ? src.data<float>()[i * 5 + j - 3] : 0.f));
  // A large transpose takes the threaded path.
  Tensor L = iota({600, 700}, DType::float32);
  Tensor Lt = L.permute({1, 0});
  CHECK(same_values(Lt.contiguous(), naive_contiguous(Lt)));
}

TEST_CASE("unary_apply and binary_apply over broadcast shapes and strided views") {
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    const Shape shapes[][2] = {{{4, 5}, {5}}, {{4, 5}, {4, 1}}, {{3, 1, 7}, {1, 6, 1}}, {{1000, 3}, {3}},
                               {{1000, 3}, {1000, 1}}, {{2, 300}, {300}}, {{5}, {}}, {{0, 3}, {3}}, {{7, 2, 3}, {2, 1}}};
    for (const auto& sh : shapes) {
      Tensor a = iota(sh[0], DType::float32), b = iota(sh[1], DType::float32);
      for (int swap = 0; swap < 2; ++swap) {
        const Tensor& x = swap ? b : a;
        const Tensor& y = swap ? a : b;
        Shape os = broadcast_shapes(x.shape(), y.shape(), "test");
        Tensor out = Tensor::empty(os, DType::float32);
        binary_apply(BinaryOp::subtract, x, y, out);
        Tensor xb = x.broadcast_to(os), yb = y.broadcast_to(os);
        bool ok = true;
        for (int64_t i = 0; i < out.numel(); ++i) ok = ok && out.data<float>()[i] == float(xb.item(i) - yb.item(i));
        CHECK_MESSAGE(ok, shape_str(x.shape()) << " - " << shape_str(y.shape()));
      }
    }
    // An operand that is itself a broadcast view (stride 0 on its inner axis) is used as it is.
    Tensor col = iota({6, 1}, DType::float32);
    Tensor bview = col.broadcast_to({6, 300});
    Tensor ob = Tensor::empty({6, 300}, DType::float32);
    binary_apply(BinaryOp::add, iota({6, 300}, DType::float32), bview, ob);
    bool okb = true;
    for (int64_t i = 0; i < ob.numel(); ++i) okb = okb && ob.data<float>()[i] == float((i * 0.5 - 3) + ((i / 300) * 0.5 - 3));
    CHECK(okb);
    // A transposed operand and a stepped view.
    Tensor m = iota({40, 30}, DType::float32);
    Tensor t = m.permute({1, 0});
    Tensor out = Tensor::empty({30, 40}, DType::float32);
    binary_apply(BinaryOp::maximum, t, iota({40}, DType::float32), out);
    bool ok = true;
    for (int64_t i = 0; i < out.numel(); ++i) ok = ok && out.data<float>()[i] == float(std::max(t.item(i), double(i % 40) * 0.5 - 3));
    CHECK(ok);
    Tensor s = m.slice(1, 0, 30, 3);
    Tensor o2 = Tensor::empty(s.shape(), DType::float32);
    unary_apply(UnaryOp::square, s, o2);
    ok = true;
    for (int64_t i = 0; i < o2.numel(); ++i) ok = ok && o2.data<float>()[i] == float(s.item(i) * s.item(i));
    CHECK(ok);
  }
}

TEST_CASE("concat_rows and the 16x16 transposes at odd sizes") {
  // Rows of three sources (one empty) joined in order.
  Tensor a = iota({7, 3}, DType::float32), b = iota({7, 5}, DType::float32);
  const void* srcs[] = {a.raw(), b.raw(), a.raw()};
  const int64_t bytes[] = {12, 20, 0};
  std::vector<float> out(7 * 8, -1.f);
  concat_rows(srcs, bytes, 3, out.data(), 7);
  bool ok = true;
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 8; ++c)
      ok = ok && out[r * 8 + c] == (c < 3 ? a.data<float>()[r * 3 + c] : b.data<float>()[r * 5 + c - 3]);
  CHECK(ok);
  // Transposes around the 16-wide register tiles: whole tiles, ragged edges, and panels of rows.
  const Shape shapes[] = {{16, 16}, {17, 33}, {47, 16}, {1030, 20}, {20, 1030}, {3, 31, 48}};
  for (DType dt : {DType::float32, DType::int32, DType::float64})
    for (const Shape& s : shapes) {
      Tensor x = iota(s, dt);
      std::vector<int> perm(s.size());
      for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(perm.size() - 1 - i);
      Tensor v = x.permute(perm);
      CHECK(same_values(v.contiguous(), naive_contiguous(v)));
      Tensor part = v.slice(0, 1, v.shape()[0], 1);
      CHECK(same_values(part.contiguous(), naive_contiguous(part)));
    }
}
