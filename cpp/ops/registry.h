// cpp/ops/registry.h — the op registry. Each op is one OpDef written in its family file in the
// order schema -> infer -> forward -> grad; this header is what those files need.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "keras_cpp/error.h"
#include "keras_cpp/expr.h"

namespace keras_cpp {

// Static (or, at run time, concrete) type of a value.
struct TypeInfo {
  Shape shape;
  DType dtype = DType::float32;
  bool rank_known = true;
  int ndim() const { return static_cast<int>(shape.size()); }
};

// One parameter of a Keras signature. Kinds say how Python arguments are converted.
struct Param {
  enum Kind : uint8_t {
    Tensor,     // tensor; numbers/arrays become constants of the other operands' dtype
    TensorOpt,  // tensor or None
    Tensors,    // list of tensors
    Scalar,     // Python number kept as Float, or a tensor (clip bounds, pow exponent)
    Int, IntOpt, Float, FloatOpt, Bool, Str, StrOpt,
    Axes,       // None, int, or list of ints
    Ints,       // int or list of ints
    Shape,      // tuple mixing ints and scalar tensors, or a 1-D int tensor
    DTypeOpt,   // dtype name or None (None -> floatx at build time)
    Any,        // anything; the op's build function interprets it
  };
  std::string name;
  Kind kind = Tensor;
  bool has_default = false;
  Value def;
};

class Allocator;  // exec/plan.h: hands out buffers, reusing dead ones

struct KernelCtx {
  const Node& node;
  std::vector<keras_cpp::Tensor> in;
  Allocator* alloc = nullptr;
  uint64_t eval_index = 0;  // random ops: which evaluation of the node this is
  const Attrs& attrs() const { return node.attrs; }
  // The output type inferred from the run-time input shapes.
  TypeInfo out_info() const;
  // A fresh contiguous buffer (from the reuse pool when one fits).
  keras_cpp::Tensor alloc_tensor(const keras_cpp::Shape& shape, DType dtype);
  // Like alloc_tensor, but reuses input `i`'s buffer when nothing else holds it (the executor
  // hands over inputs at their last use), for elementwise ops writing in place.
  keras_cpp::Tensor alloc_like_input(int i, const keras_cpp::Shape& shape, DType dtype);
};

enum OpFlags : uint32_t {
  kElementwise = 1u << 0,  // output element i depends on input element i only
  kNonDiff = 1u << 1,      // no gradient flows through (argmax, equal, round...)
  kRandom = 1u << 2,       // draws new numbers on each evaluation
  kView = 1u << 3,         // forward returns a view of input 0 (no copy)
  kDynamicShape = 1u << 4, // output shape depends on input values
  kStateful = 1u << 5,     // has a side effect (print_tensor): never pruned as dead
  kAssign = 1u << 6,       // update op: input 0 is a variable, the output its new value (exec/function.cpp)
};

struct OpDef {
  std::string name;
  // Keras signature with kinds: "sum(x: tensor, axis: axes = None, keepdims: bool = False)".
  std::string signature;
  std::string doc;
  // Keras arguments (in signature order, defaults filled) -> Expr. Null: tensors become inputs,
  // the rest become attrs, and a node is made.
  std::function<Expr(const OpDef&, std::vector<Value>&)> build;
  std::function<TypeInfo(const std::vector<TypeInfo>&, const Attrs&)> infer;
  std::function<keras_cpp::Tensor(KernelCtx&)> forward;
  // VJP: gradients for each input of `out`'s node (undefined Expr = no gradient).
  std::function<std::vector<Expr>(const Expr& out, const Expr& gout)> grad;
  uint32_t flags = 0;
  std::vector<Param> params;  // parsed from signature at registration
  std::string py_signature;   // signature without kinds, for docstrings

  bool primitive() const { return static_cast<bool>(forward); }
};

// Registration (each family file has one register_* function listing its OpDefs).
void register_op(OpDef def);
const OpDef* find_op(const std::string& name);  // null if absent
const OpDef& get_op(const std::string& name);   // throws if absent
const std::vector<const OpDef*>& all_ops();

// Make a node of a primitive op from inputs and attrs; runs infer (errors name the op).
Expr make_node(const OpDef& op, std::vector<Expr> inputs, Attrs attrs = {});
Expr make_node(const std::string& op, std::vector<Expr> inputs, Attrs attrs = {});
TypeInfo type_of(const Expr& e);
TypeInfo type_of(const keras_cpp::Tensor& t);

// "[op] message" errors.
[[noreturn]] void fail_value(const std::string& op, const std::string& msg);
[[noreturn]] void fail_type(const std::string& op, const std::string& msg);

}  // namespace keras_cpp
