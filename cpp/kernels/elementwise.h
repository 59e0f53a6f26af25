// cpp/kernels/elementwise.h — run an ew.h kernel over tensors of any layout: operands are
// broadcast to the output's shape, dims are collapsed, each inner row goes to the contiguous
// (stride 1) or broadcast-value (stride 0) kernel, short broadcast rows are batched into longer
// calls, and large outputs are split over threads. An operand with another inner stride (a
// transposed or stepped view) is made contiguous first with the blocked copy.
#pragma once
#include "keras_cpp/tensor.h"
#include "kernels/dispatch.h"
#include "kernels/ew.h"
#include "kernels/strided.h"

namespace keras_cpp {

// out (contiguous, x's shape; x's dtype, or bool for logical_not/isfinite) = op(x).
void unary_apply(ew::UnaryOp op, const Tensor& x, Tensor& out);
// out (contiguous, the broadcast shape) = op(a, b); a and b have the same dtype.
void binary_apply(ew::BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);

}  // namespace keras_cpp
