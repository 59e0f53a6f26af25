// cpp/ops/tuple.h — ops with several results. Ops have one output, so a multi-result op (rnn's
// scan loop) returns a "tuple tensor": an empty tensor whose storage owns a vector of Tensors,
// read back by `_tuple_get(t, index)` views at no cost. Chosen over packing the results into
// one flat buffer because the results' run-time shapes (e.g. the per-step output's) need not be
// known before the loop runs. The producer lists its results' static types in attr
// "tuple_types" (a list of [shape, dtype, rank_known]); its run-time tuple may hold more
// (hidden) items after those, e.g. what its backward pass needs.
//
// Gradients: autodiff sums contributions with `add`, so the gradient of a tuple node is one
// packed 1-D tensor of the tuple node's dtype (float64 if any float result is float64, else
// float32): the float results' gradients end to end. _tuple_get's VJP puts its g into its slot
// (zeros elsewhere); the producer's VJP unpacks with unpack_tuple_grad.
#pragma once
#include <vector>

#include "ops/registry.h"

namespace keras_cpp {

Tensor make_tuple_tensor(std::vector<Tensor> items, DType dtype);
const std::vector<Tensor>& tuple_items(const Tensor& t, const char* op);  // throws if t is no tuple

// Attr value "tuple_types" for results typed like `likes`, and the tuple node's own type.
Value tuple_types(const std::vector<TypeInfo>& likes);
TypeInfo tuple_node_type(const Attrs& producer_attrs);

// Result i of a tuple node (folds `_make_tuple` away at build time).
Expr tuple_get(const Expr& tup, int64_t i);
// A tuple node made of existing tensors (for ops whose build returns several Exprs).
Expr make_tuple(const std::vector<Expr>& parts);

// The per-result gradients in a packed tuple gradient (undefined for non-float results).
std::vector<Tensor> unpack_tuple_grad(const Tensor& packed, const Tensor& tup, const Attrs& producer_attrs);

}  // namespace keras_cpp
