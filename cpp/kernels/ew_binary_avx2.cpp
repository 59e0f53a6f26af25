// cpp/kernels/ew_binary_avx2.cpp — the binary kernels built with the baseline flags (AVX2+FMA on
// x86-64-v3, one-lane code elsewhere); the body is shared with the AVX-512 file.
#include "kernels/ew_isa.h"

namespace keras_cpp {
namespace ew {
namespace {
#include "kernels/simd.h"
#include "kernels/ew_common_impl.h"
#include "kernels/ew_binary_impl.h"
#include "kernels/ew_chain_impl.h"
}  // namespace

void fill_binary_avx2(Table& t) {
  fill_binary(t);
  fill_chain(t);
}

}  // namespace ew
}  // namespace keras_cpp
