// cpp/kernels/conv_winograd.h — 3x3 stride-1 2-D convolution by Winograd F(4x4, 3x3): each 4x4
// output tile comes from a 6x6 input tile through 36 independent channel products, 4x fewer
// multiplies than the direct form. Tiles are processed in blocks whose transformed input and
// products stay in L2; the 36 products per block run on the GEMM micro-kernels. float32 only.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/conv_geom.h"
#include "kernels/sgemm.h"

namespace keras_cpp {
namespace convk {

// Whether g is a convolution this path computes (and is likely to win on): 2-D, 3x3, unit stride
// and dilation, no groups, enough channels that the products dominate the transforms.
bool winograd_fits(const ConvGeom& g, int64_t Cout);

// The transformed weights U = G w G^T: 36 matrices C x Cout, packed as micro-kernel panels.
struct WinogradWeights {
  int64_t C = 0, K = 0;
  blas::Isa isa = blas::Isa::avx2;
  std::vector<std::shared_ptr<const blas::PackedB<float>>> u;  // 36
  size_t bytes() const;
};

// w laid out (3, 3, C, Cout); flip: the weights of the input gradient (see pack_conv_weights).
std::shared_ptr<const WinogradWeights> winograd_weights(const float* w, int64_t C, int64_t Cout, bool flip);

// y = epilogue(conv(x)) for a geometry winograd_fits accepts.
void winograd_forward(const ConvGeom& g, const float* x, const WinogradWeights& w, float* y, const blas::Epilogue<float>& ep);

// gw (3, 3, C, K) = the kernel gradient of the convolution g (winograd_fits(g, K)) with output
// gradient gy: the 36 products V^T dM summed over tiles, then G^T dU G.
void winograd_kernel_grad(const ConvGeom& g, const float* x, const float* gy, int64_t K, float* gw);

}  // namespace convk
}  // namespace keras_cpp
