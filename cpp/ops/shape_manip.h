// cpp/ops/shape_manip.h — shared by shape_manip.cpp, slice_gather.cpp and resize_pad.cpp:
// int-list arguments that may hold tensors (tile's n, slice's start/size) and `_repeat`.
#pragma once
#include <climits>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace keras_cpp {

constexpr int64_t kNoneInt = INT64_MIN;  // a run-time slot inside an int list, or a None slice bound

// An int list given as ints, a list mixing ints and scalar int tensors, or a 1-D int tensor.
// Tensor parts become extra node inputs (appended to `ins`); attrs: <nm> (kNoneInt = next scalar
// input), <nm>_at (its first input, counted from attr "dyn0"), <nm>_vec (input <nm>_at is 1-D).
// Constant tensors are read at build time so static shapes stay known.
void encode_ints(const std::string& op, const std::string& nm, const Value& v, Attrs& at, std::vector<Expr>& ins);
// Static values (kNoneInt where only known at run time).
std::vector<int64_t> static_ints(const std::vector<TypeInfo>& in, const Attrs& a, const std::string& nm);
// Length of the list (-1 when it is a 1-D tensor of unknown length).
int64_t ints_len(const std::vector<Expr>& ins, const Attrs& a, const std::string& nm);
// Prepend `count` copies of `value` to the list.
void pad_ints_left(Attrs& at, std::vector<Expr>& ins, const std::string& nm, int64_t count, int64_t value);
// Run-time values.
std::vector<int64_t> run_ints(const KernelCtx& ctx, const std::string& nm);
// Entry k of node y's list as an Int or a scalar tensor expression (for gradients).
Value ints_entry(const Expr& y, const std::string& nm, int k);

// `_repeat` node: np.repeat (inner) or np.tile with per-axis counts; `who` names the public op.
Expr make_repeat(const std::string& who, const Expr& x, const Value& reps, bool inner);

void register_slice_gather();

}  // namespace keras_cpp
