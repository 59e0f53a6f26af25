// cpp/kernels/ew_binary_avx512.cpp — the binary kernels for AVX-512: this file alone is compiled
// with -mavx512f (CMakeLists.txt); ew.cpp uses its table only when the CPU has AVX-512F.
#include "kernels/ew_isa.h"

namespace keras_cpp {
namespace ew {

#if defined(__AVX512F__)
namespace {
#include "kernels/simd.h"
#include "kernels/ew_common_impl.h"
#include "kernels/ew_binary_impl.h"
#include "kernels/ew_chain_impl.h"
}  // namespace

bool fill_binary_avx512(Table& t) {
  fill_binary(t);
  fill_chain(t);
  return true;
}
#else  // built without AVX-512 flags: never chosen
bool fill_binary_avx512(Table&) { return false; }
#endif

}  // namespace ew
}  // namespace keras_cpp
