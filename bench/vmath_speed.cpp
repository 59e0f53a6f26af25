// bench/vmath_speed.cpp — throughput of the float-lane kernels (cpp/kernels/vmath_fl.h) on data that
// stays in L1 (the compute cost alone) and on a 16 MiB stream (as bench_elementwise.py's cases).
// Build as bench/vmath_ulp.cpp (same flags, -O3), run: /tmp/speed512 [FUNC...]
// Prints ns per element, the minimum over repetitions (the machine is shared: the minimum is the
// least disturbed). Use it to compare formulations quickly; bench/run.py stays the reference.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

template <class F>
__attribute__((noinline)) void apply(F f, const float* x, float* y, int64_t n) {
  constexpr int W = vfl::FS::W;
  for (int64_t i = 0; i + W <= n; i += W) vfl::FS::store(y + i, f(vfl::FS::load(x + i)));
}

template <class F>
double time_ns(F f, std::vector<float>& x, std::vector<float>& y, int reps, int inner) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < inner; ++k) apply(f, x.data(), y.data(), (int64_t)x.size());
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, ns / inner / x.size());
  }
  return best;
}

int main(int argc, char** argv) {
  std::vector<std::string> fns;
  for (int i = 1; i < argc; ++i) fns.push_back(argv[i]);
  if (fns.empty()) fns = {"exp", "tanh", "sigmoid"};
  for (const auto& fn : fns) {
    for (int64_t n : {int64_t(4096), int64_t(4096) * 1024}) {
      std::vector<float> x(n), y(n);
      uint32_t s = 12345;
      for (auto& v : x) {  // ~N(0, 3) as the bench's input: sum of uniforms
        float u = 0;
        for (int k = 0; k < 4; ++k) s = s * 1664525u + 1013904223u, u += (s >> 8) * 0x1p-24f - 0.5f;
        v = u * 3.0f * 1.732f;
      }
      const int inner = n == 4096 ? 2000 : 3, reps = n == 4096 ? 15 : 7;
      double ns;
      if (fn == "exp") ns = time_ns([](vfl::FV v) { return vfl::exp_f(v); }, x, y, reps, inner);
      else if (fn == "log") ns = time_ns([](vfl::FV v) { return vfl::log_f(vfl::FS::abs(v)); }, x, y, reps, inner);
      else if (fn == "tanh") ns = time_ns([](vfl::FV v) { return vfl::tanh_f(v); }, x, y, reps, inner);
      else if (fn == "sigmoid") ns = time_ns([](vfl::FV v) { return vfl::sigmoid_f(v); }, x, y, reps, inner);
      else ns = time_ns([](vfl::FV v) { return vfl::FS::max_(vfl::FS::set1(0.0f), v); }, x, y, reps, inner);
      std::printf("%-8s W=%-2d n=%-8lld %.4f ns/elem\n", fn.c_str(), vfl::FS::W, (long long)n, ns);
    }
  }
}
