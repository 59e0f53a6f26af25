// cpp/graph/op.h — what an op is: its Keras schema, shape inference, kernel and gradient
// (OpDef), and what a kernel sees when the executor runs it (KernelCtx). Ops are written in
// cpp/ops/ and registered there; the executor (cpp/exec/) only calls them through this header.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/allocator.h"
#include "graph/node.h"

namespace keras_cpp {

// One parameter of a Keras signature. Kinds say how Python arguments are converted; the
// registry converts and checks each argument once (ops/registry.cpp), so an op's build and
// kernel see the canonical form given here.
struct Param {
  enum Kind : uint8_t {
    Tensor,     // tensor; numbers/arrays become constants of the other operands' dtype
    TensorOpt,  // tensor or None
    Tensors,    // list of tensors
    Scalar,     // Python number kept as Float, or a tensor (clip bounds, pow exponent)
    Number,     // int, float or scalar tensor, kept as given (arange: ints make an int range)
    Int, IntOpt, Float, FloatOpt, Bool, Str, StrOpt,
    Axes,       // None, int, or list of ints
    Ints,       // int or list of ints
    IntsN,      // ints[n]: an int (repeated n times) or n ints -> Ints of length n (strides, sizes); None if the default
    Pairs,      // pairs[n]: n (before, after) pairs of ints >= 0 (pairs[1]: the pair itself) -> 2n Ints
    Shape,      // tuple mixing ints and scalar tensors, or a 1-D int tensor
    Indices,    // an int tensor, or an int / nested list of ints (-> an int32 constant)
    DTypeOpt,   // dtype name or None (None -> floatx) -> Int holding the DType (Attrs::dtype)
    DataFormat, // 'channels_first' / 'channels_last' (any case) or None (-> image_data_format())
  };
  std::string name;
  Kind kind = Tensor;
  int n = 0;              // IntsN / Pairs: how many
  bool optional = false;  // number?: None is allowed (and kept)
  bool has_default = false;
  Value def;
};

// Per-node state a kernel keeps between runs (e.g. a loop's compiled body). It belongs to the
// compiled plan that runs the node, so it lives as long as that plan.
struct KernelState {
  virtual ~KernelState() = default;
};

struct KernelCtx {
  const Node& node;
  std::vector<Tensor> in;
  Allocator* alloc = nullptr;
  uint64_t eval_index = 0;                      // random ops: which evaluation of the node this is
  const std::vector<char>* used = nullptr;      // per output: does anything read it (null: all)
  std::unique_ptr<KernelState>* state = nullptr;  // this node's slot in the running plan
  // Variables the running plan updates on every call and multiplies by at most twice before
  // (ops/weights.h cached_weight_input): their packed form would serve one call only.
  const std::unordered_set<const Node*>* churn = nullptr;
  const Attrs& attrs() const { return node.attrs; }
  // Whether output k is read by a later step or returned (a kernel may skip the others).
  bool output_used(size_t k) const { return !used || (*used)[k]; }
  // The node's state of type S, made on first use.
  template <class S>
  S& state_as() {
    if (!*state) state->reset(new S());
    return static_cast<S&>(**state);
  }
  // A fresh contiguous buffer (from the reuse pool when one fits).
  Tensor alloc_tensor(const Shape& shape, DType dtype);
  // alloc_tensor filled with zeros (a pooled buffer has warm pages, unlike a fresh Tensor::zeros).
  Tensor alloc_zeros(const Shape& shape, DType dtype);
  // Like alloc_tensor, but reuses input `i`'s buffer when nothing else holds it (the executor
  // hands over inputs at their last use), for elementwise ops writing in place.
  Tensor alloc_like_input(int i, const Shape& shape, DType dtype);
};

enum OpFlags : uint32_t {
  kElementwise = 1u << 0,  // output element i depends on input element i only
  kNonDiff = 1u << 1,      // no gradient flows through (argmax, equal, round...)
  kRandom = 1u << 2,       // draws new numbers on each evaluation
  kView = 1u << 3,         // forward returns a view of input 0 (no copy)
  kDynamicShape = 1u << 4, // output shape depends on input values
  kStateful = 1u << 5,     // has a side effect (print_tensor): never pruned as dead
  kAssign = 1u << 6,       // update op: input 0 is a variable, the output its new value (exec/plan.cpp)
  kSparse = 1u << 7,       // accepts sparse inputs (its infer sets whether the result is sparse)
  // The result's shape and dtype follow from the inputs' shapes, dtypes and the attrs (infer gives
  // every dim for concrete inputs): where only its shape is read, the plan skips the kernel.
  // Elementwise (fusable) ops get it at registration.
  kShapeFromShapes = 1u << 8,
};

using InferFn = std::function<TypeInfo(const std::vector<TypeInfo>&, const Attrs&)>;
using InferMultiFn = std::function<std::vector<TypeInfo>(const std::vector<TypeInfo>&, const Attrs&)>;
// VJP of a single-output op: gradients for each input of `out`'s node (undefined = none).
using GradFn = std::function<std::vector<Expr>(const Expr& out, const Expr& gout)>;
// VJP of any op: `gouts` holds one cotangent per output, undefined where nothing flows back.
using GradMultiFn = std::function<std::vector<Expr>(const std::shared_ptr<Node>& node, const std::vector<Expr>& gouts)>;

// An op. Single-output ops set infer/forward/grad; ops with several results set the *_multi
// forms instead. register_op derives infer_multi/grad_multi from the single forms, so graph
// code (make_node, autodiff) only calls those; the executor calls `forward` when it is set.
struct OpDef {
  std::string name;
  // Keras signature with kinds: "sum(x: tensor, axis: axes = None, keepdims: bool = False)".
  std::string signature;
  std::string doc;
  // Keras arguments (in signature order, defaults filled) -> Expr. Null: tensors become inputs,
  // the rest become attrs, and a node is made.
  std::function<Expr(const OpDef&, std::vector<Value>&)> build;
  InferFn infer;
  std::function<Tensor(KernelCtx&)> forward;
  GradFn grad;
  InferMultiFn infer_multi;
  std::function<std::vector<Tensor>(KernelCtx&)> forward_multi;  // one tensor per output
  GradMultiFn grad_multi;
  uint32_t flags = 0;
  // Bit k: the forward reads only the shape and dtype of input k (a gradient's `like`), so the
  // plan need not compute that input's value when nothing else reads it (exec/plan.cpp).
  uint32_t shape_inputs = 0;
  // How the plan's elementwise fusion (exec/fuse.cpp) computes this op on blocks, when it can:
  // a kernels/ew.h unary or binary kernel (code = its ew::UnaryOp / ew::BinaryOp), a select
  // (where) or a dtype conversion (cast). Fusion applies only where the op's forward would run
  // that same kernel on operands of one dtype, so results stay bit-identical.
  struct EwForm {
    enum Kind : uint8_t { none, unary, binary, select, cast } kind = none;
    uint8_t code = 0;
  } ew;
  std::vector<Param> params;  // parsed from signature at registration
  std::string py_signature;   // signature without kinds, for docstrings

  // Defined once in graph/op.cpp: inline, each op file compiled these copies of nine
  // std::functions, strings and params again.
  OpDef();
  OpDef(const OpDef&);
  OpDef(OpDef&&) noexcept;
  OpDef& operator=(const OpDef&);
  OpDef& operator=(OpDef&&) noexcept;
  ~OpDef();

  bool primitive() const { return forward || forward_multi; }
  bool differentiable() const { return grad_multi && !(flags & kNonDiff); }
};

}  // namespace keras_cpp
