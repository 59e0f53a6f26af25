// cpp/kernels/ew_reduce_avx2.cpp — the reduction kernels built with the baseline flags (AVX2+FMA on
// x86-64-v3, one-lane code elsewhere); the body is shared with the AVX-512 file.
#include "kernels/ew_isa.h"

namespace keras_cpp {
namespace ew {
namespace {
#include "kernels/simd.h"
#include "kernels/ew_common_impl.h"
#include "kernels/reduce_impl.h"
}  // namespace

void fill_reduce_avx2(Table& t) { fill_reduce(t); }

}  // namespace ew
}  // namespace keras_cpp
