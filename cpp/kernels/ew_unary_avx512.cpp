// cpp/kernels/ew_unary_avx512.cpp — the unary kernels (vector math included) for AVX-512: this file alone is compiled
// with -mavx512f (CMakeLists.txt); ew.cpp uses its table only when the CPU has AVX-512F.
#include "kernels/ew_isa.h"

namespace keras_cpp {
namespace ew {

#if defined(__AVX512F__)
namespace {
#include "kernels/simd.h"
#include "kernels/ew_common_impl.h"
#include "kernels/vmath.h"
#include "kernels/vmath_f.h"
#include "kernels/vmath_fl.h"
#include "kernels/ew_unary_impl.h"
}  // namespace

bool fill_unary_avx512(Table& t, bool exact_math) {
  fill_unary(t, exact_math);
  return true;
}
#else  // built without AVX-512 flags: never chosen
bool fill_unary_avx512(Table&, bool) { return false; }
#endif

}  // namespace ew
}  // namespace keras_cpp
