// cpp/core/dense.h — the check of Tensor's dense-only methods (core/tensor.cpp, kernels/copy.cpp).
#pragma once
#include "keras_cpp/tensor.h"

namespace keras_cpp {
// Sparse tensors have no dense buffer: a dense method or kernel that receives one fails loudly
// (TypeError naming `what`).
void dense_only(const Tensor& t, const char* what);
}  // namespace keras_cpp
