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

}  // namespace convk
}  // namespace keras_cpp
