// cpp/kernels/ew.cpp — picks the elementwise/reduction kernel table for this CPU: AVX-512 when
// the CPU (and the OS) support AVX-512F and the build has that file, else the baseline table.
// KERAS_CPP_ISA=avx2 in the environment keeps the baseline table on an AVX-512 machine.
// KERAS_CPP_EXACT_MATH=1 fills both tables with the double-lane (correctly rounded) float32
// exp/log/tanh/sigmoid and exp_shift_sum; every caller (ops, fused kernels, softmax rows) reads
// the table, so fused and unfused results agree under either setting.
#include "kernels/ew.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace keras_cpp {
namespace ew {
namespace {

struct Tables {
  Table base, avx512;
  bool have512 = false;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables r;
    fill_unary_avx2(r.base, env_exact_math());
    fill_binary_avx2(r.base);
    fill_reduce_avx2(r.base);
    // Only on a CPU with AVX-512F: the fill functions are compiled with -mavx512f and may
    // themselves hold AVX-512 instructions (SIGILL on an AVX2-only CPU).
    if (cpu_avx512()) {
      bool a = fill_unary_avx512(r.avx512, env_exact_math()), b = fill_binary_avx512(r.avx512), c = fill_reduce_avx512(r.avx512);
      r.have512 = a && b && c;
    }
    return r;
  }();
  return t;
}

Isa auto_isa() {
  static const Isa isa = !env_wants_avx2() && cpu_has(Isa::avx512) ? Isa::avx512 : Isa::avx2;
  return isa;
}

std::atomic<int> g_forced{-1};

}  // namespace

bool cpu_has(Isa isa) { return isa == Isa::avx2 || (tables().have512 && cpu_avx512()); }

Isa active_isa() {
  int f = g_forced.load(std::memory_order_relaxed);
  return f >= 0 ? static_cast<Isa>(f) : auto_isa();
}

void force_isa(Isa isa) { g_forced.store(cpu_has(isa) ? static_cast<int>(isa) : -1); }
void reset_isa() { g_forced.store(-1); }
const Table& table() { return active_isa() == Isa::avx512 ? tables().avx512 : tables().base; }

}  // namespace ew
}  // namespace keras_cpp
