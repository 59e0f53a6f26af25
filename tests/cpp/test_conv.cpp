// The convolution kernels against a naive loop: the implicit GEMM (forward, the kernel gradient
// and the unit-stride input gradient through flipped weights) over 1-3 spatial dims, strides, dilations, paddings,
// groups and epilogues, and Winograd F(4x4, 3x3) over sizes that are not multiples of the tile,
// each with every ISA's micro-kernels forced in turn.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "doctest.h"
#include "kernels/conv_depthwise.h"
#include "kernels/conv_igemm.h"
#include "kernels/conv_winograd.h"

using namespace keras_cpp;

namespace {

struct Case {
  int nsp;            // spatial dims
  int64_t N, C, G, O;  // batch, input channels, groups, output channels
  int64_t in[3], k[3], s[3], d[3], pb[3], pa[3];
};

ConvGeom geom(const Case& c) {
  ConvGeom g;
  g.N = c.N; g.C = c.C; g.G = c.G; g.Cg = c.C / c.G;
  for (int i = 0; i < 3; ++i) {
    const bool used = i >= 3 - c.nsp;
    g.in[i] = used ? c.in[i] : 1; g.k[i] = used ? c.k[i] : 1; g.s[i] = used ? c.s[i] : 1; g.d[i] = used ? c.d[i] : 1;
    g.pb[i] = used ? c.pb[i] : 0; g.pa[i] = used ? c.pa[i] : 0;
    g.out[i] = (g.in[i] + g.pb[i] + g.pa[i] - (g.k[i] - 1) * g.d[i] - 1) / g.s[i] + 1;
  }
  return g;
}

template <class T>
std::vector<T> random(size_t n, uint32_t seed) {
  std::vector<T> v(n);
  for (auto& x : v) { seed = seed * 1664525u + 1013904223u; x = static_cast<T>(seed >> 8) / T(16777216) - T(0.5); }
  return v;
}

// y and a bound on |each term| summed (for the tolerance), by the definition.
template <class T>
void naive_forward(const ConvGeom& g, int64_t O, const std::vector<T>& x, const std::vector<T>& w, std::vector<double>& y,
                   std::vector<double>& mag) {
  const int64_t Og = O / g.G, P = g.P();
  y.assign(static_cast<size_t>(g.N * P * O), 0.0);
  mag = y;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t p = 0; p < P; ++p) {
      const int64_t o2 = p % g.out[2], o1 = p / g.out[2] % g.out[1], o0 = p / (g.out[2] * g.out[1]);
      for (int64_t a = 0, kp = 0; a < g.k[0]; ++a)
        for (int64_t b = 0; b < g.k[1]; ++b)
          for (int64_t c = 0; c < g.k[2]; ++c, ++kp) {
            const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0], i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1], i2 = o2 * g.s[2] + c * g.d[2] - g.pb[2];
            if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
            const T* xs = &x[static_cast<size_t>((((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.C)];
            for (int64_t o = 0; o < O; ++o) {
              const int64_t grp = o / Og;
              for (int64_t ci = 0; ci < g.Cg; ++ci) {
                const double t = double(xs[grp * g.Cg + ci]) * w[static_cast<size_t>((kp * g.Cg + ci) * O + o)];
                y[static_cast<size_t>((n * P + p) * O + o)] += t;
                mag[static_cast<size_t>((n * P + p) * O + o)] += std::fabs(t);
              }
            }
          }
    }
}

// The input gradient of g by the definition: gx[i] = sum over the outputs reading i.
template <class T>
void naive_adjoint(const ConvGeom& g, int64_t O, const std::vector<T>& gy, const std::vector<T>& w, std::vector<double>& gx,
                   std::vector<double>& mag) {
  const int64_t Og = O / g.G, P = g.P(), inP = g.inP();
  gx.assign(static_cast<size_t>(g.N * inP * g.C), 0.0);
  mag = gx;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t p = 0; p < P; ++p) {
      const int64_t o2 = p % g.out[2], o1 = p / g.out[2] % g.out[1], o0 = p / (g.out[2] * g.out[1]);
      for (int64_t a = 0, kp = 0; a < g.k[0]; ++a)
        for (int64_t b = 0; b < g.k[1]; ++b)
          for (int64_t c = 0; c < g.k[2]; ++c, ++kp) {
            const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0], i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1];
            const int64_t i2 = o2 * g.s[2] + c * g.d[2] - g.pb[2];
            if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
            const int64_t xi = ((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2;
            for (int64_t o = 0; o < O; ++o)
              for (int64_t ci = 0; ci < g.Cg; ++ci) {
                const int64_t grp = o / Og;
                const double t = double(gy[static_cast<size_t>((n * P + p) * O + o)]) * w[static_cast<size_t>((kp * g.Cg + ci) * O + o)];
                gx[static_cast<size_t>(xi * g.C + grp * g.Cg + ci)] += t;
                mag[static_cast<size_t>(xi * g.C + grp * g.Cg + ci)] += std::fabs(t);
              }
          }
    }
}

// The kernel gradient of g by the definition: gw[kp, ci, o] = sum over pixels of x * gy.
template <class T>
void naive_kernel_grad(const ConvGeom& g, int64_t O, const std::vector<T>& x, const std::vector<T>& gy, std::vector<double>& gw,
                       std::vector<double>& mag) {
  const int64_t Og = O / g.G, P = g.P();
  gw.assign(static_cast<size_t>(g.Kg() * O), 0.0);
  mag = gw;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t p = 0; p < P; ++p) {
      const int64_t o2 = p % g.out[2], o1 = p / g.out[2] % g.out[1], o0 = p / (g.out[2] * g.out[1]);
      for (int64_t a = 0, kp = 0; a < g.k[0]; ++a)
        for (int64_t b = 0; b < g.k[1]; ++b)
          for (int64_t c = 0; c < g.k[2]; ++c, ++kp) {
            const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0], i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1], i2 = o2 * g.s[2] + c * g.d[2] - g.pb[2];
            if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
            const T* xs = &x[static_cast<size_t>((((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.C)];
            for (int64_t o = 0; o < O; ++o)
              for (int64_t ci = 0; ci < g.Cg; ++ci) {
                const double t = double(xs[(o / Og) * g.Cg + ci]) * gy[static_cast<size_t>((n * P + p) * O + o)];
                gw[static_cast<size_t>((kp * g.Cg + ci) * O + o)] += t;
                mag[static_cast<size_t>((kp * g.Cg + ci) * O + o)] += std::fabs(t);
              }
          }
    }
}

template <class T>
int mismatches(const std::vector<T>& got, const std::vector<double>& ref, const std::vector<double>& mag, double tol) {
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!(std::fabs(got[i] - ref[i]) <= tol * (mag[i] + 1.0))) ++bad;
  return bad;
}

std::vector<blas::Isa> isas() {
  std::vector<blas::Isa> v{blas::Isa::avx2};
  if (blas::cpu_has(blas::Isa::avx512)) v.push_back(blas::Isa::avx512);
  return v;
}

std::vector<Case> cases() {
  std::vector<Case> v;
  v.push_back({2, 2, 16, 1, 24, {1, 9, 11}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}});    // same 3x3
  v.push_back({2, 1, 13, 1, 33, {1, 7, 30}, {1, 3, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}});    // valid, 3x2
  v.push_back({2, 2, 8, 1, 5, {1, 12, 13}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 0}, {0, 1, 1}});     // stride 2
  v.push_back({2, 1, 9, 1, 17, {1, 11, 14}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 2}, {0, 2, 2}});    // dilated
  v.push_back({2, 2, 16, 2, 32, {1, 8, 9}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}});     // 2 groups
  v.push_back({2, 1, 12, 4, 8, {1, 6, 7}, {1, 2, 3}, {1, 1, 2}, {1, 1, 1}, {0, 1, 1}, {0, 0, 1}});      // 4 groups, Cg 3
  v.push_back({1, 3, 7, 1, 40, {1, 1, 29}, {1, 1, 5}, {1, 1, 1}, {1, 1, 1}, {0, 0, 4}, {0, 0, 0}});     // conv1d causal
  v.push_back({1, 2, 5, 1, 3, {1, 1, 17}, {1, 1, 3}, {1, 1, 3}, {1, 1, 2}, {0, 0, 1}, {0, 0, 2}});      // conv1d strided, dilated
  v.push_back({3, 1, 6, 1, 9, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}});       // conv3d same
  v.push_back({3, 2, 4, 2, 6, {4, 5, 6}, {2, 3, 2}, {2, 1, 1}, {1, 1, 1}, {0, 1, 0}, {1, 1, 1}});       // conv3d mixed
  v.push_back({2, 1, 64, 1, 64, {1, 14, 15}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}});   // pointwise
  v.push_back({2, 1, 3, 1, 2, {1, 2, 2}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}});       // tiny image
  // Interior runs of 13-14 pixels (the AVX-512 wide segment kernels), ragged output panels.
  v.push_back({2, 1, 8, 1, 40, {1, 5, 30}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}});     // 28 interior columns
  v.push_back({2, 2, 5, 1, 16, {1, 9, 60}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}});     // strided, 29 interior
  v.push_back({2, 1, 6, 1, 9, {1, 7, 33}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 2}, {0, 2, 2}});      // dilated, 29 interior
  // Border rows read in place through their inside kernel rows only; rows of pure padding (pad 3
  // with a 3-wide kernel) have no segment at all.
  v.push_back({3, 1, 5, 1, 7, {3, 4, 29}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {3, 2, 1}, {3, 2, 1}});
  v.push_back({3, 2, 3, 1, 33, {4, 6, 16}, {3, 3, 3}, {1, 2, 1}, {1, 1, 1}, {1, 1, 1}, {1, 0, 1}});
  // Border columns read in place through the kernel columns inside (pad 2: one of three; pad 3:
  // none, gathered), on rows stacked down the band; stride 2 along the rows.
  v.push_back({2, 2, 6, 1, 19, {1, 17, 9}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 2}, {0, 1, 2}});
  v.push_back({2, 1, 4, 1, 5, {1, 6, 9}, {1, 3, 3}, {1, 2, 1}, {1, 1, 1}, {0, 1, 3}, {0, 1, 3}});
  v.push_back({3, 1, 8, 1, 40, {3, 15, 5}, {3, 3, 5}, {1, 1, 1}, {1, 1, 1}, {1, 1, 2}, {1, 1, 2}});
  return v;
}

template <class T>
void check_igemm(const Case& c, blas::Isa isa, int variant) {
  const ConvGeom g = geom(c);
  const auto x = random<T>(static_cast<size_t>(g.N * g.inP() * g.C), 3u + variant);
  const auto w = random<T>(static_cast<size_t>(g.Kg() * c.O), 5u + variant);
  const auto bias = random<T>(static_cast<size_t>(c.O), 9u);
  std::vector<double> ref, mag;
  naive_forward(g, c.O, x, w, ref, mag);
  std::vector<T> y(ref.size(), T(0.25));
  blas::Epilogue<T> ep;
  ep.accumulate = variant & 1;
  ep.bias = variant & 2 ? bias.data() : nullptr;
  ep.act = variant & 4 ? blas::Act::relu : blas::Act::none;
  for (size_t i = 0; i < ref.size(); ++i) {
    ref[i] += (ep.accumulate ? 0.25 : 0.0) + (ep.bias ? double(bias[i % c.O]) : 0.0);
    if (ep.act == blas::Act::relu && ref[i] < 0) ref[i] = 0;
  }
  auto cw = convk::pack_conv_weights<T>(w.data(), g, c.O, false);
  convk::conv_forward<T>(g, x.data(), *cw, y.data(), ep);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  CHECK_MESSAGE(mismatches(y, ref, mag, tol) == 0, blas::isa_name(isa) << " nsp=" << c.nsp << " C=" << c.C << " G=" << c.G << " O=" << c.O << " variant=" << variant);
  const auto gy = random<T>(static_cast<size_t>(g.N * g.P() * c.O), 7u + variant);
  naive_kernel_grad(g, c.O, x, gy, ref, mag);
  std::vector<T> gw(ref.size(), T(7));
  convk::conv_kernel_grad<T>(g, x.data(), gy.data(), c.O, gw.data());
  CHECK_MESSAGE(mismatches(gw, ref, mag, tol) == 0, blas::isa_name(isa) << " kernel grad nsp=" << c.nsp << " C=" << c.C << " G=" << c.G << " O=" << c.O);
  if (!g.unit_stride()) return;
  // The input gradient through the adjoint geometry and flipped weights.
  naive_adjoint(g, c.O, gy, w, ref, mag);
  std::vector<T> gx(ref.size());
  auto fw = convk::pack_conv_weights<T>(w.data(), g, c.O, true);
  convk::conv_forward<T>(convk::adjoint_geom(g, c.O), gy.data(), *fw, gx.data(), {});
  CHECK_MESSAGE(mismatches(gx, ref, mag, tol) == 0, blas::isa_name(isa) << " adjoint nsp=" << c.nsp << " C=" << c.C << " G=" << c.G << " O=" << c.O);
}

}  // namespace

TEST_CASE("implicit-GEMM convolution matches the definition (1-3 dims, strides, dilation, padding, groups, epilogues)") {
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    int variant = 0;
    for (const Case& c : cases()) {
      check_igemm<float>(c, isa, variant++ % 8);
      check_igemm<double>(c, isa, variant++ % 8);
    }
  }
  blas::reset_isa();
}

TEST_CASE("Winograd F(4x4, 3x3) matches the definition: forward, kernel gradient, input gradient") {
  struct W { int64_t N, H, Wd, C, O, pad; };
  const W ws[] = {{2, 9, 11, 16, 24, 1}, {1, 4, 4, 17, 16, 1}, {1, 13, 6, 32, 33, 0}, {3, 8, 8, 64, 64, 1}, {1, 7, 23, 20, 18, 0}};
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    for (const W& t : ws) {
      Case c{2, t.N, t.C, 1, t.O, {1, t.H, t.Wd}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, t.pad, t.pad}, {0, t.pad, t.pad}};
      const ConvGeom g = geom(c);
      REQUIRE(convk::winograd_fits(g, t.O));
      const auto x = random<float>(static_cast<size_t>(g.N * g.inP() * g.C), 11u);
      const auto w = random<float>(static_cast<size_t>(g.Kg() * t.O), 13u);
      const auto bias = random<float>(static_cast<size_t>(t.O), 17u);
      std::vector<double> ref, mag;
      naive_forward(g, t.O, x, w, ref, mag);
      for (size_t i = 0; i < ref.size(); ++i) ref[i] = std::max(0.0, ref[i] + bias[i % t.O]);
      std::vector<float> y(ref.size(), 0.f);
      blas::Epilogue<float> ep;
      ep.bias = bias.data();
      ep.act = blas::Act::relu;
      convk::winograd_forward(g, x.data(), *convk::winograd_weights(w.data(), t.C, t.O, false), y.data(), ep);
      CHECK_MESSAGE(mismatches(y, ref, mag, 1e-5) == 0, blas::isa_name(isa) << " H=" << t.H << " W=" << t.Wd << " C=" << t.C << " O=" << t.O);
      const auto gy = random<float>(static_cast<size_t>(g.N * g.P() * t.O), 19u);
      naive_kernel_grad(g, t.O, x, gy, ref, mag);
      std::vector<float> gw(ref.size());
      convk::winograd_kernel_grad(g, x.data(), gy.data(), t.O, gw.data());
      CHECK_MESSAGE(mismatches(gw, ref, mag, 1e-5) == 0, blas::isa_name(isa) << " kernel grad H=" << t.H << " W=" << t.Wd << " C=" << t.C);
      naive_adjoint(g, t.O, gy, w, ref, mag);
      const ConvGeom ga = convk::adjoint_geom(g, t.O);
      REQUIRE(convk::winograd_fits(ga, t.C));
      std::vector<float> gx(ref.size());
      convk::winograd_forward(ga, gy.data(), *convk::winograd_weights(w.data(), t.C, t.O, true), gx.data(), {});
      CHECK_MESSAGE(mismatches(gx, ref, mag, 1e-5) == 0, blas::isa_name(isa) << " adjoint H=" << t.H << " W=" << t.Wd << " C=" << t.C);
    }
  }
  blas::reset_isa();
}

// One depthwise case with every ISA forced in turn; variant 1 adds a bias and relu.
struct D { int nsp; int64_t N, C, M, in1, in2, k, s, d, pad, k1; };  // d < 0: dilation -d along the rows only

void check_depthwise(const D& t, blas::Isa isa, int variant) {
  const int64_t kh = t.nsp == 1 ? 1 : (t.k1 ? t.k1 : t.k);
  Case c{t.nsp, t.N, t.C, t.C, t.C * t.M, {1, t.in1, t.in2}, {1, kh, t.k}, {1, t.s, t.s}, {1, std::abs(t.d), t.d < 0 ? 1 : t.d}, {0, t.pad, t.pad}, {0, t.pad, t.pad}};
  if (t.nsp == 1) { c.s[1] = c.d[1] = 1; c.pb[1] = c.pa[1] = 0; }
  const ConvGeom g = geom(c);
  const auto x = random<float>(static_cast<size_t>(g.N * g.inP() * g.C), 21u + variant);
  const auto w = random<float>(static_cast<size_t>(g.KK() * c.O), 23u);
  const auto bias = random<float>(static_cast<size_t>(c.O), 29u);
  std::vector<double> ref, mag;
  naive_forward(g, c.O, x, w, ref, mag);
  blas::Epilogue<float> ep;
  if (variant) {
    ep.bias = bias.data();
    ep.act = blas::Act::relu;
    for (size_t i = 0; i < ref.size(); ++i) ref[i] = std::max(0.0, ref[i] + bias[i % c.O]);
  }
  const std::string what = std::string(blas::isa_name(isa)) + " nsp=" + std::to_string(t.nsp) + " C=" + std::to_string(t.C) +
                           " M=" + std::to_string(t.M) + " W=" + std::to_string(t.in2) + " k=" + std::to_string(kh) + "x" +
                           std::to_string(t.k) + " s=" + std::to_string(t.s) + " d=" + std::to_string(t.d) + " pad=" + std::to_string(t.pad);
  std::vector<float> y(ref.size());
  convk::depthwise_forward<float>(g, t.M, x.data(), w.data(), y.data(), ep);
  CHECK_MESSAGE(mismatches(y, ref, mag, 1e-5) == 0, "forward " << what);
  const auto gy = random<float>(static_cast<size_t>(g.N * g.P() * c.O), 31u);
  naive_kernel_grad(g, c.O, x, gy, ref, mag);
  std::vector<float> gw(ref.size());
  convk::depthwise_grad_kernel<float>(g, t.M, x.data(), gy.data(), gw.data());
  CHECK_MESSAGE(mismatches(gw, ref, mag, 1e-5) == 0, "kernel grad " << what);
  naive_adjoint(g, c.O, gy, w, ref, mag);
  std::vector<float> gx(ref.size());
  convk::depthwise_grad_input<float>(g, t.M, gy.data(), w.data(), gx.data());
  CHECK_MESSAGE(mismatches(gx, ref, mag, 1e-5) == 0, "input grad " << what);
}

TEST_CASE("depthwise convolution matches the definition: forward, both gradients, multipliers, strides") {
  // Channels around the vector widths (8, 16) and not multiples of them, widths 1, 7, 33 and
  // others that leave every column-block remainder, 3- and 5-wide kernels at strides 1 and 2
  // (the blocked kernels), 'valid' and 'same'-like pads, dilated rows, multipliers > 1, and shapes
  // that only the general loops take (k 2 or 7, dilation along the width).
  const D ds[] = {{2, 2, 32, 1, 9, 11, 3, 1, 1, 1, 0},  {2, 1, 16, 1, 8, 7, 3, 2, 1, 1, 0},  {2, 2, 19, 1, 7, 9, 3, 1, 1, 0, 0},
                  {2, 1, 8, 2, 6, 6, 3, 1, 2, 2, 0},    {2, 1, 48, 1, 10, 12, 5, 1, 1, 2, 0}, {1, 2, 32, 1, 1, 20, 3, 1, 1, 1, 0},
                  {2, 1, 16, 3, 5, 9, 2, 2, 1, 0, 0},   {2, 2, 1, 1, 5, 33, 3, 1, 1, 1, 0},   {2, 1, 7, 1, 7, 7, 3, 2, 1, 1, 0},
                  {2, 1, 33, 1, 4, 33, 3, 1, 1, 1, 0},  {2, 1, 17, 1, 6, 1, 3, 1, 1, 1, 0},   {2, 1, 64, 1, 6, 56, 3, 1, 1, 1, 0},
                  {2, 1, 24, 1, 9, 30, 5, 2, 1, 2, 0},  {2, 1, 9, 1, 8, 19, 5, 1, 1, 0, 0},   {2, 1, 40, 1, 9, 14, 3, 1, -3, 1, 0},
                  {2, 1, 16, 1, 6, 13, 3, 1, 1, 1, 1},  {2, 1, 16, 1, 8, 13, 3, 1, 1, 2, 5},  {1, 3, 13, 1, 1, 29, 5, 2, 1, 2, 0},
                  {2, 1, 12, 1, 6, 15, 7, 1, 1, 3, 0},  {2, 1, 20, 1, 6, 40, 3, 3, 1, 1, 0},  {2, 1, 32, 1, 6, 60, 3, 2, 1, 0, 0}};
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    for (const D& t : ds)
      for (int variant = 0; variant < 2; ++variant) check_depthwise(t, isa, variant);
  }
  blas::reset_isa();
}
