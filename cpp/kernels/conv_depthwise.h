// cpp/kernels/conv_depthwise.h — depthwise convolution (one group per input channel, M filters
// each: output channel c*M + m) on channels_last data, forward and both gradients, as direct
// loops vectorised over channels with blocks of channels held in registers across the window.
#pragma once
#include <cstdint>

#include "kernels/conv_geom.h"
#include "kernels/sgemm.h"

namespace keras_cpp {
namespace convk {

// g.G == g.C, g.Cg == 1; w laid out (k..., 1, C*M) as the grouped kernel.
template <class T>
void depthwise_forward(const ConvGeom& g, int64_t M, const T* x, const T* w, T* y, const blas::Epilogue<T>& ep);

// gx (N, in..., C) from gy (N, out..., C*M).
template <class T>
void depthwise_grad_input(const ConvGeom& g, int64_t M, const T* gy, const T* w, T* gx);

// gw (k..., 1, C*M) from x and gy; threads sum into private copies.
template <class T>
void depthwise_grad_kernel(const ConvGeom& g, int64_t M, const T* x, const T* gy, T* gw);

// The separable convolution's forward: y (N, out..., O) = depthwise(x) (multiplier 1, w (k..., 1, C))
// times the 1x1 pointwise kernel pw (C x O, packed), a few depthwise output rows at a time into a
// per-thread buffer that the GEMM reads while it is in cache: the intermediate is never stored.
// float only, for the geometries of separable_fits.
bool separable_fits(const ConvGeom& g);
void separable_forward(const ConvGeom& g, const float* x, const float* dw, const blas::PackedB<float>& pw, int64_t O, float* y);

}  // namespace convk
}  // namespace keras_cpp
