// cpp/graph/node.h — the graph IR: a Node is an op applied to inputs (each an Expr, i.e. one
// result of another node) with attributes, giving one or more typed results. Leaves
// (placeholders, variables, constants) have no op and one result. Nodes are immutable once
// built, except a variable's value and a random node's evaluation counter.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/fork.h"
#include "keras_cpp/error.h"
#include "keras_cpp/expr.h"

namespace keras_cpp {

struct OpDef;

// Static (or, at run time, concrete) type of a value.
struct TypeInfo {
  Shape shape;
  DType dtype = DType::float32;
  bool rank_known = true;
  bool sparse = false;  // a sparse (CSR) value: only ops flagged kSparse accept one
  int ndim() const { return static_cast<int>(shape.size()); }
};

// A dtype as an attribute value (what a `dtype` signature argument becomes).
inline Value dtype_value(DType t) { return Value(static_cast<int64_t>(t)); }

// Named attributes of a node (axis, keepdims, alpha...). Small: a linear lookup.
class Attrs {
 public:
  Attrs();  // these five are out of line so that each op file does not compile them again
  Attrs(const Attrs&);
  Attrs(Attrs&&) noexcept;
  Attrs& operator=(const Attrs&);
  Attrs& operator=(Attrs&&) noexcept;
  ~Attrs();
  void set(const std::string& k, Value v);
  bool has(const std::string& k) const;  // present and not None
  const Value& get(const std::string& k) const;  // None if absent
  int64_t i(const std::string& k, int64_t def = 0) const;
  double f(const std::string& k, double def = 0) const;
  bool b(const std::string& k, bool def = false) const;
  const std::string& s(const std::string& k) const;
  const std::vector<int64_t>& ints(const std::string& k) const;
  DType dtype(const std::string& k) const;  // a dtype attr (set from a `dtype` argument or dtype_value)
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, Value>> items_;
};

enum class NodeKind : uint8_t { op, placeholder, variable, constant };

// A variable's current value. Updates swap the tensor; they never write into its storage.
// A Function call that updates the variable holds `mu` from its first read to its commit.
struct VarState {
  ForkAwareMutex mu;
  Tensor value;
};

// One result of a node. Python's Tensor object is one of these (python/src/bind_graph.cpp),
// so the attributes Keras sets on a result stay with that result.
struct Output {
  TypeInfo type;
  Node* node = nullptr;
  uint32_t index = 0;
};

struct Node {
  NodeKind kind = NodeKind::op;
  const OpDef* op = nullptr;  // null for leaves
  std::vector<Expr> inputs;
  // Control dependencies: run before this node in a Function call (no data flows from them).
  std::vector<std::shared_ptr<Node>> deps;
  Attrs attrs;
  std::vector<Output> outputs;  // sized once when the node is made (Output::node points back)
  std::string name;
  uint64_t id = 0;  // unique per process, creation order
  // Leaves.
  std::shared_ptr<VarState> var;  // variable
  Tensor value;                   // constant; placeholder default (learning phase)
  // Random ops: how many times this node was evaluated (each evaluation draws new numbers).
  std::atomic<uint64_t> eval_count{0};

  const TypeInfo& type(size_t k = 0) const { return outputs[k].type; }
  size_t num_outputs() const { return outputs.size(); }
};

// Hash of the result an Expr names, for maps keyed by Expr.
struct ExprHash {
  size_t operator()(const Expr& e) const { return std::hash<const void*>()(e.node().get()) * 31 + e.index(); }
};

// Make a node of op `op` from inputs and attrs; runs its infer (errors name the op). It gets the
// control dependencies of this thread's innermost ControlDependencies scope.
Expr make_node(const OpDef& op, std::vector<Expr> inputs, Attrs attrs = {});
// All results of a node made by make_node, in order.
std::vector<Expr> outputs_of(const Expr& e);
TypeInfo type_of(const Expr& e);
TypeInfo type_of(const Tensor& t);

// "[op] message" errors.
[[noreturn]] void fail_value(const std::string& op, const std::string& msg);
[[noreturn]] void fail_type(const std::string& op, const std::string& msg);

}  // namespace keras_cpp
