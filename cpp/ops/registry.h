// cpp/ops/registry.h — the op registry. Each op is one OpDef (graph/op.h) written in its family
// file in the order schema -> infer -> forward -> grad and registered by that file's register_*
// function (registry_list.cpp calls them); this header is what those files need.
#pragma once
#include <string>
#include <vector>

#include "graph/op.h"
#include "keras_cpp/error.h"
#include "keras_cpp/expr.h"

namespace keras_cpp {

// A handle to one op, defined next to it in its family file and bound when the op is
// registered: code names an op by a C++ identifier (make_node(kCast, ...)), so a misspelt op is
// a compile error, not a run-time "no op named".
class OpRef {
 public:
  constexpr OpRef() = default;
  const OpDef& operator*() const;  // registers all ops on first use
  const OpDef* operator->() const { return &**this; }

 private:
  friend void register_op(OpRef& ref, OpDef def);
  const OpDef* def_ = nullptr;
};

// The one way to write an op: Op("sig", "doc").infer(f).forward(f).grad(f).flags(k), each piece a
// named function (profiles and backtraces show its name), then register_op(kRef, op) in the
// family file's register_* table. Ops with several results set the *_multi pieces instead.
class Op {
 public:
  using BuildFn = std::function<Expr(const OpDef&, std::vector<Value>&)>;
  using ForwardFn = std::function<Tensor(KernelCtx&)>;
  using ForwardMultiFn = std::function<std::vector<Tensor>(KernelCtx&)>;
  Op(const char* signature, const char* doc) { d_.signature = signature; d_.doc = doc; }
  explicit Op(OpDef d) : d_(std::move(d)) {}
  Op& build(BuildFn f) { d_.build = std::move(f); return *this; }
  Op& infer(InferFn f) { d_.infer = std::move(f); return *this; }
  Op& forward(ForwardFn f) { d_.forward = std::move(f); return *this; }
  Op& grad(GradFn f) { d_.grad = std::move(f); return *this; }
  Op& infer_multi(InferMultiFn f) { d_.infer_multi = std::move(f); return *this; }
  Op& forward_multi(ForwardMultiFn f) { d_.forward_multi = std::move(f); return *this; }
  Op& grad_multi(GradMultiFn f) { d_.grad_multi = std::move(f); return *this; }
  Op& flags(uint32_t f) { d_.flags |= f; return *this; }
  Op& shape_inputs(uint32_t mask) { d_.shape_inputs |= mask; return *this; }  // OpDef::shape_inputs
  Op& ew(OpDef::EwForm::Kind k, uint8_t code = 0) { d_.ew = {k, code}; return *this; }  // fusable form
  OpDef& def() { return d_; }

 private:
  OpDef d_;
};

// Registration. Fills in the multi-result forms of single-result ops (see OpDef) and binds `ref`.
void register_op(OpRef& ref, OpDef def);
inline void register_op(OpRef& ref, Op op) { register_op(ref, std::move(op.def())); }
void register_op(OpDef def);  // an op nothing in C++ names (tests, Python-only ops)
inline void register_op(Op op) { register_op(std::move(op.def())); }
const OpDef* find_op(const std::string& name);  // null if absent
const OpDef& get_op(const std::string& name);   // throws if absent
const std::vector<const OpDef*>& all_ops();

inline Expr make_node(const OpRef& op, std::vector<Expr> inputs, Attrs attrs = {}) {
  return make_node(*op, std::move(inputs), std::move(attrs));
}

}  // namespace keras_cpp
