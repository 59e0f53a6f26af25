// cpp/kernels/elementwise.h — unary and broadcasting binary loops over Eigen array maps.
// A functor supplies `eval` on Eigen array expressions; the loop picks contiguous, scalar-
// broadcast or strided maps per inner row, so SIMD math (exp, tanh...) comes from Eigen.
#pragma once
#include <Eigen/Core>

#include "keras_cpp/tensor.h"
#include "kernels/dispatch.h"
#include "kernels/strided.h"

namespace keras_cpp {

template <class T>
using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T>
using CMap = Eigen::Map<const Arr<T>>;
template <class T>
using MMap = Eigen::Map<Arr<T>>;
template <class T>
using SMap = Eigen::Map<const Arr<T>, 0, Eigen::InnerStride<Eigen::Dynamic>>;
template <class T>
using SMMap = Eigen::Map<Arr<T>, 0, Eigen::InnerStride<Eigen::Dynamic>>;

// out (contiguous, shape of x) = Fn::eval(x), element types T -> O.
template <class Fn, class T, class O>
void unary_loop(const Tensor& x, Tensor& out, int64_t cost = 1) {
  const T* px = x.data<T>();
  O* po = out.data<O>();
  strided_apply<2>(x.shape(), {&x.strides(), &out.strides()},
                   [&](int64_t n, const int64_t* off, const int64_t* st) {
                     MMap<O> o(po + off[1], n);
                     if (st[0] == 1) o = Fn::eval(CMap<T>(px + off[0], n));
                     else o = Fn::eval(SMap<T>(px + off[0], n, Eigen::InnerStride<>(st[0])));
                   },
                   cost);
}

// out (contiguous, broadcast shape) = Fn::eval(a, b).
template <class Fn, class T, class O>
void binary_loop(const Tensor& a0, const Tensor& b0, Tensor& out, int64_t cost = 1) {
  Tensor a = a0.broadcast_to(out.shape()), b = b0.broadcast_to(out.shape());
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  O* po = out.data<O>();
  strided_apply<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()},
                   [&](int64_t n, const int64_t* off, const int64_t* st) {
                     MMap<O> o(po + off[2], n);
                     const T* x = pa + off[0];
                     const T* y = pb + off[1];
                     if (st[0] == 1 && st[1] == 1) o = Fn::eval(CMap<T>(x, n), CMap<T>(y, n));
                     else if (st[0] == 1 && st[1] == 0) o = Fn::eval(CMap<T>(x, n), Arr<T>::Constant(n, *y));
                     else if (st[0] == 0 && st[1] == 1) o = Fn::eval(Arr<T>::Constant(n, *x), CMap<T>(y, n));
                     else
                       o = Fn::eval(SMap<T>(x, n, Eigen::InnerStride<>(st[0])),
                                    SMap<T>(y, n, Eigen::InnerStride<>(st[1])));
                   },
                   cost);
}

}  // namespace keras_cpp
