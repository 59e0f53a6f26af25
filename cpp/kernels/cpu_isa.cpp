// cpp/kernels/cpu_isa.cpp — see cpu_isa.h.
#include "kernels/cpu_isa.h"

#include <cstdlib>
#include <cstring>

namespace keras_cpp {

bool cpu_avx512() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool env_wants_avx2() {
  static const bool want = [] {
    const char* e = std::getenv("KERAS_CPP_ISA");
    return e && std::strcmp(e, "avx2") == 0;
  }();
  return want;
}

bool env_exact_math() {
  static const bool want = [] {
    const char* e = std::getenv("KERAS_CPP_EXACT_MATH");
    return e && std::strcmp(e, "1") == 0;
  }();
  return want;
}

const char* isa_name(Isa isa) { return isa == Isa::avx512 ? "avx512" : "avx2"; }

}  // namespace keras_cpp
