// keras_cpp/expr.h — symbolic graph values. An Expr is a cheap handle to one result of an
// immutable graph node; leaves (placeholders, variables that own a Tensor, constants) have one
// result, some ops have several (rnn's loop, ctc_decode).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dtype.h"
#include "shape.h"
#include "tensor.h"

namespace keras_cpp {

struct Node;  // the graph node behind an Expr (internal)

class Expr {
 public:
  Expr() = default;
  // Result `index` of `node`.
  explicit Expr(std::shared_ptr<Node> node, uint32_t index = 0) : node_(std::move(node)), index_(index) {}
  const std::shared_ptr<Node>& node() const { return node_; }
  uint32_t index() const { return index_; }
  Node* operator->() const { return node_.get(); }
  bool defined() const { return node_ != nullptr; }
  explicit operator bool() const { return defined(); }
  // Static type of this result: unknown dims are -1; rank_known is false only for a
  // placeholder made without a shape (its shape() is then empty).
  const Shape& shape() const;
  DType dtype() const;
  int ndim() const { return static_cast<int>(shape().size()); }
  bool rank_known() const;
  bool sparse() const;  // a sparse (CSR) tensor (keras_cpp/sparse.h)
  const std::string& name() const;  // the node's name
  bool operator==(const Expr& o) const { return node_ == o.node_ && index_ == o.index_; }
  bool operator!=(const Expr& o) const { return !(*this == o); }

 private:
  std::shared_ptr<Node> node_;
  uint32_t index_ = 0;
};

// An argument or attribute value: what a Keras function may be passed.
struct Value {
  enum Kind : uint8_t { None, Tensor, Int, Float, Bool, Str, Ints, Floats, List };
  Kind kind = None;
  Expr t;  // Tensor
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<Value> list;

  Value() = default;
  Value(const Expr& e) : kind(e.defined() ? Tensor : None), t(e) {}  // NOLINT(runtime/explicit)
  Value(int v) : kind(Int), i(v) {}                                  // NOLINT
  Value(int64_t v) : kind(Int), i(v) {}                              // NOLINT
  Value(double v) : kind(Float), f(v) {}                             // NOLINT
  Value(bool v) : kind(Bool), b(v) {}                                // NOLINT
  Value(const char* v) : kind(Str), s(v) {}                          // NOLINT
  Value(std::string v) : kind(Str), s(std::move(v)) {}               // NOLINT
  Value(std::vector<int64_t> v) : kind(Ints), ints(std::move(v)) {}  // NOLINT
  Value(std::vector<double> v) : kind(Floats), floats(std::move(v)) {}  // NOLINT
  Value(std::vector<Value> v) : kind(List), list(std::move(v)) {}    // NOLINT
  // Defined once in the library: inline, every file that copies a Value compiled them again.
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();
  bool is_none() const { return kind == None; }
  double as_double() const;  // Int/Float/Bool
  std::string repr() const;
};

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
