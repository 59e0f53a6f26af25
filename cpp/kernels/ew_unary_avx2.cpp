// cpp/kernels/ew_unary_avx2.cpp — the unary kernels (vector math included) built with the baseline flags (AVX2+FMA on
// x86-64-v3, one-lane code elsewhere); the body is shared with the AVX-512 file.
#include "kernels/ew_isa.h"

namespace keras_cpp {
namespace ew {
namespace {
#include "kernels/simd.h"
#include "kernels/ew_common_impl.h"
#include "kernels/vmath.h"
#include "kernels/vmath_f.h"
#include "kernels/vmath_fl.h"
#include "kernels/ew_unary_impl.h"
}  // namespace

void fill_unary_avx2(Table& t, bool exact_math) { fill_unary(t, exact_math); }

}  // namespace ew
}  // namespace keras_cpp
