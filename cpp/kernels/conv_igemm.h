// cpp/kernels/conv_igemm.h — channels_last convolution as an implicit GEMM: output pixels are the
// rows, (kernel position, input channel) the k dimension, output channels the columns. Interior
// pixels feed the micro-kernels straight from the input (a run of MR pixels along the last
// spatial dim is MR rows at a fixed stride, one k segment per kernel row), so no im2col buffer
// exists; only pixels whose window crosses the padding are gathered, MR at a time.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/conv_geom.h"
#include "kernels/sgemm.h"

namespace keras_cpp {
namespace convk {

// A convolution's weights packed for the micro-kernels: per group, the Kg x Og matrix (rows in
// (kernel position, input channel) order) as panels over all of Kg, for the ISA active when packed.
template <class T>
struct ConvWeights {
  int64_t G = 1, Kg = 0, Og = 0;
  blas::Isa isa = blas::Isa::avx2;
  std::vector<std::shared_ptr<const blas::PackedB<T>>> groups;
  size_t bytes() const;
};

// w laid out (k..., Cg, G*Og) as Keras stores kernels. flip: the weights of the adjoint of a
// unit-stride convolution (its input gradient) seen as a forward convolution over the output
// gradient: kernel positions reversed and each group's in/out channels swapped.
template <class T>
std::shared_ptr<const ConvWeights<T>> pack_conv_weights(const T* w, const ConvGeom& g, int64_t Cout, bool flip);

// y (N, out..., G*Og) = epilogue(conv(x (N, in..., C))), bias indexed by output channel.
// Threads take bands of output rows. w must fit g (w.G == g.G, w.Kg == g.Kg()).
template <class T>
void conv_forward(const ConvGeom& g, const T* x, const ConvWeights<T>& w, T* y, const blas::Epilogue<T>& ep);

// gw (Keras's kernel layout (k..., Cg, G*Og), i.e. KK*Cg x Cout) = the kernel gradient of g:
// sum over output pixels of patch^T * gy. Interior pixels are read in place (A transposed, k
// segments over output rows), border pixels gathered; threads sum into private copies.
template <class T>
void conv_kernel_grad(const ConvGeom& g, const T* x, const T* gy, int64_t Cout, T* gw);

// The adjoint (input gradient) of the unit-stride convolution g, as a forward geometry over its
// output gradient (G*Og = Cout channels) producing g's input.
ConvGeom adjoint_geom(const ConvGeom& g, int64_t Cout);

}  // namespace convk
}  // namespace keras_cpp
