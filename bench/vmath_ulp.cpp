// bench/vmath_ulp.cpp — exhaustive accuracy check of the float-lane kernels (cpp/kernels/vmath_fl.h)
// against libm in double, and a hash of their bits so builds for different ISAs can be compared.
// Build it three times from the repository root (same flags as the library's kernel files):
//   g++ -O2 -std=c++17 -ffp-contract=off -Icpp -Iinclude -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma bench/vmath_ulp.cpp -o /tmp/ulp512
//   g++ -O2 -std=c++17 -ffp-contract=off -Icpp -Iinclude -mavx2 -mfma bench/vmath_ulp.cpp -o /tmp/ulp2
//   g++ -O2 -std=c++17 -ffp-contract=off -Icpp -Iinclude -mfma bench/vmath_ulp.cpp -o /tmp/ulp1   (one-lane fallback)
// Run: /tmp/ulp512 FUNC [STRIDE]  (FUNC: exp, log, tanh, sigmoid; STRIDE 1 = every float, the default).
// Prints the maximum error in ulps (of the float format at the exact value) and where, the share of
// correctly rounded results, the special-value checks, and the hash of all outputs (NaNs as one value).
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/ew_isa.h"

namespace keras_cpp {
namespace ew {
namespace {
#include "kernels/simd.h"
#include "kernels/vmath_fl.h"
}  // namespace
}  // namespace ew
}  // namespace keras_cpp

using namespace keras_cpp::ew;

namespace {

float from_u(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t to_u(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

double ulp_of(double v) {  // spacing of floats at |v|
  v = std::fabs(v);
  if (v < 0x1p-126) return 0x1p-149;
  int e;
  std::frexp(v, &e);  // v in [2^(e-1), 2^e)
  return std::ldexp(1.0, e - 1 - 23);
}

template <class F>
void apply(F f, const float* x, float* y, int64_t n) {
  constexpr int W = vfl::FS::W;
  for (int64_t i = 0; i + W <= n; i += W) vfl::FS::store(y + i, f(vfl::FS::load(x + i)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) { std::fprintf(stderr, "usage: %s exp|log|tanh|sigmoid [stride]\n", argv[0]); return 2; }
  const std::string fn = argv[1];
  const uint64_t stride = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  auto kernel = [&](const float* x, float* y, int64_t n) {
    if (fn == "exp") apply([](vfl::FV v) { return vfl::exp_f(v); }, x, y, n);
    else if (fn == "log") apply([](vfl::FV v) { return vfl::log_f(v); }, x, y, n);
    else if (fn == "tanh") apply([](vfl::FV v) { return vfl::tanh_f(v); }, x, y, n);
    else apply([](vfl::FV v) { return vfl::sigmoid_f(v); }, x, y, n);
  };
  auto ref = [&](double v) {
    if (fn == "exp") return std::exp(v);
    if (fn == "log") return std::log(v);
    if (fn == "tanh") return std::tanh(v);
    return 1.0 / (1.0 + std::exp(-v));
  };
  if (fn != "exp" && fn != "log" && fn != "tanh" && fn != "sigmoid") { std::fprintf(stderr, "unknown function %s\n", fn.c_str()); return 2; }
  constexpr int64_t B = 1 << 16;
  static float xs[B], ys[B];
  double maxerr = 0;
  float worst = 0;
  uint64_t count = 0, exact = 0, bad = 0, hash = 1469598103934665603ULL;
  for (uint64_t u0 = 0; u0 < (1ULL << 32); u0 += stride * B) {
    int64_t n = 0;
    for (uint64_t u = u0; u < u0 + stride * B && u < (1ULL << 32); u += stride) xs[n++] = from_u(static_cast<uint32_t>(u));
    while (n % 16) xs[n++] = 0.0f;
    kernel(xs, ys, n);
    for (int64_t i = 0; i < n; ++i) {
      const float x = xs[i], y = ys[i];
      const uint32_t h = y != y ? 0x7fc00000u : to_u(y);
      hash = (hash ^ h) * 1099511628211ULL;
      const double r = ref(x);
      const float rf = static_cast<float>(r);
      ++count;
      if (r != r || rf != rf) {  // NaN expected
        if (y == y) ++bad, std::printf("  NaN expected at %a, got %a\n", x, y);
        else ++exact;
        continue;
      }
      if (y == rf && std::signbit(y) == std::signbit(rf)) { ++exact; continue; }
      double err = std::isinf(y) || std::isinf(rf) ? 1e9 : std::fabs(double(y) - r) / ulp_of(r);
      if (err > maxerr) maxerr = err, worst = x;
      if (err > 1.0) { if (++bad <= 10) std::printf("  > 1 ulp at %a: got %a, want %a (%.3f ulp)\n", x, y, r, err); }
    }
  }
  std::printf("%s W=%d stride %" PRIu64 ": %" PRIu64 " inputs, max %.4f ulp at %a, %.6f%% correctly rounded, %" PRIu64
              " beyond 1 ulp, hash %016" PRIx64 "\n", fn.c_str(), vfl::FS::W, stride, count, maxerr, worst, 100.0 * exact / count, bad, hash);
  return bad ? 1 : 0;
}
