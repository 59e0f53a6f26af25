// cpp/ops/sparse.h — where dot, concatenate and autodiff hand sparse operands to the sparse ops
// (ops/sparse.cpp).
#pragma once
#include <vector>

#include "keras_cpp/expr.h"

namespace keras_cpp {
Expr sparse_dot(const Expr& x, const Expr& y);                       // x or y sparse
Expr sparse_concatenate(const std::vector<Expr>& xs, int64_t axis);  // some of xs sparse
Expr sparse_add(const Expr& a, const Expr& b);                       // gradient sums; a or b sparse
}  // namespace keras_cpp
