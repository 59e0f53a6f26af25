// keras_cpp/expr.h — symbolic graph nodes. An Expr is a cheap handle to an immutable Node;
// leaves are placeholders, variables (which own a Tensor) and constants.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dtype.h"
#include "shape.h"
#include "tensor.h"

namespace keras_cpp {

struct Node;
struct OpDef;
class Expr;

// An argument or attribute value: what a Keras function may be passed.
struct Value {
  enum Kind : uint8_t { None, Tensor, Int, Float, Bool, Str, Ints, Floats, List };
  Kind kind = None;
  std::shared_ptr<Node> t;  // Tensor
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<Value> list;

  Value() = default;
  Value(const Expr& e);  // NOLINT(runtime/explicit)
  Value(std::shared_ptr<Node> n) : kind(n ? Tensor : None), t(std::move(n)) {}  // NOLINT
  Value(int v) : kind(Int), i(v) {}                                            // NOLINT
  Value(int64_t v) : kind(Int), i(v) {}                                        // NOLINT
  Value(double v) : kind(Float), f(v) {}                                       // NOLINT
  Value(bool v) : kind(Bool), b(v) {}                                          // NOLINT
  Value(const char* v) : kind(Str), s(v) {}                                    // NOLINT
  Value(std::string v) : kind(Str), s(std::move(v)) {}                         // NOLINT
  Value(std::vector<int64_t> v) : kind(Ints), ints(std::move(v)) {}            // NOLINT
  Value(std::vector<double> v) : kind(Floats), floats(std::move(v)) {}         // NOLINT
  Value(std::vector<Value> v) : kind(List), list(std::move(v)) {}              // NOLINT
  bool is_none() const { return kind == None; }
  double as_double() const;  // Int/Float/Bool
  std::string repr() const;
};

// Named attributes of a node (axis, keepdims, alpha...). Small: a linear lookup.
class Attrs {
 public:
  void set(const std::string& k, Value v);
  bool has(const std::string& k) const;  // present and not None
  const Value& get(const std::string& k) const;  // None if absent
  int64_t i(const std::string& k, int64_t def = 0) const;
  double f(const std::string& k, double def = 0) const;
  bool b(const std::string& k, bool def = false) const;
  const std::string& s(const std::string& k) const;
  const std::vector<int64_t>& ints(const std::string& k) const;
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, Value>> items_;
};

enum class NodeKind : uint8_t { op, placeholder, variable, constant };

// A variable's current value. Updates swap the tensor; they never write into its storage.
// A Function call that updates the variable holds `mu` from its first read to its commit.
struct VarState {
  std::mutex mu;
  keras_cpp::Tensor value;
};

struct Node {
  NodeKind kind = NodeKind::op;
  const OpDef* op = nullptr;  // null for leaves
  std::vector<std::shared_ptr<Node>> inputs;
  // Control dependencies: run before this node in a Function call (no data flows from them).
  std::vector<std::shared_ptr<Node>> deps;
  Attrs attrs;
  Shape shape;              // static shape, kUnknownDim for None
  bool rank_known = true;   // false: placeholder(shape=None, ndim=None)
  DType dtype = DType::float32;
  std::string name;
  uint64_t id = 0;          // unique per process, creation order
  // Leaves.
  std::shared_ptr<VarState> var;  // variable
  keras_cpp::Tensor value;        // constant; placeholder default (learning phase)
  bool sparse = false;
  // Random ops: how many times this node was evaluated (each evaluation draws new numbers).
  std::atomic<uint64_t> eval_count{0};

  int ndim() const { return static_cast<int>(shape.size()); }
};

class Expr {
 public:
  Expr() = default;
  Expr(std::shared_ptr<Node> n) : node_(std::move(n)) {}  // NOLINT(runtime/explicit)
  const std::shared_ptr<Node>& node() const { return node_; }
  Node* operator->() const { return node_.get(); }
  bool defined() const { return node_ != nullptr; }
  explicit operator bool() const { return defined(); }
  const Shape& shape() const { return node_->shape; }
  DType dtype() const { return node_->dtype; }
  int ndim() const { return node_->ndim(); }

 private:
  std::shared_ptr<Node> node_;
};

inline Value::Value(const Expr& e) : kind(e.defined() ? Tensor : None), t(e.node()) {}

// Leaves.
Expr placeholder(const Shape& shape, DType dtype, const std::string& name = "", bool rank_known = true);
Expr variable(const Tensor& value, const std::string& name = "");
Expr constant(const Tensor& value, const std::string& name = "");
Expr scalar_like(double v, const Expr& like);  // constant scalar of like's dtype

// Build a node of registered op `name` from Keras-style arguments in signature order.
Expr call(const std::string& op, std::vector<Value> args);

// Read or replace a variable's current value (shape must match; value is cast to its dtype).
Tensor get_value(const Expr& var);
void set_value(const Expr& var, const Tensor& value);

// While alive, every op node built on this thread gets `ops` as control dependencies (on top of
// those of enclosing scopes; `replace` starts from none, as TF's control_dependencies(None)).
class ControlDependencies {
 public:
  explicit ControlDependencies(const std::vector<Expr>& ops, bool replace = false);
  ~ControlDependencies();
  ControlDependencies(const ControlDependencies&) = delete;
  ControlDependencies& operator=(const ControlDependencies&) = delete;
};
// The same as push/pop calls (for Python's context manager); pops must match pushes.
void push_control_dependencies(const std::vector<Expr>& ops, bool replace);
void pop_control_dependencies();

}  // namespace keras_cpp
