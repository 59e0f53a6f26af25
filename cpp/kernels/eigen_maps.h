// cpp/kernels/eigen_maps.h — Eigen array maps over tensor data, for kernels written with Eigen.
#pragma once
#include <Eigen/Core>

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

}  // namespace keras_cpp
