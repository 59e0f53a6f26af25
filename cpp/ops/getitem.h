// cpp/ops/getitem.h — x[...] as a graph op (ops/getitem.cpp), for the ops and Tensor.__getitem__.
#pragma once
#include <cstdint>
#include <vector>

#include "keras_cpp/expr.h"

namespace keras_cpp {

// x[spec] as a view; spec = (kind, start, stop, step) quads (kinds 0 index, 1 slice, 2 newaxis,
// 3 ellipsis); `dynamic` gives the entries marked kDynIndex (scalar int tensors), in order.
Expr getitem(const Expr& x, std::vector<int64_t> spec, const std::vector<Expr>& dynamic = {});

// The region of t (shaped like the _getitem_grad node n's `like` input) that n writes its
// gradient into, as a view; n must have no tensor index entries.
Tensor getitem_grad_view(const Node& n, Tensor& t);

}  // namespace keras_cpp
