// keras_cpp/function.h — compile `inputs -> outputs (+ updates)` once, run many times.
#pragma once
#include <memory>
#include <utility>
#include <vector>

#include "expr.h"
#include "tensor.h"

namespace keras_cpp {

class Function {
 public:
  // `update_ops`: update ops (update, update_add, ...) or any tensors run on every call, after
  // the outputs they do not feed. `updates`: (variable, new value) pairs, the same as
  // update(variable, new value) appended to update_ops. Within a call, a node reading a variable
  // sees the value from the start of the call unless it depends (through its inputs or control
  // dependencies) on an update of that variable; then it sees that update's result. Updates of
  // one variable apply one after another; all of a call's updates are committed together when
  // the call succeeds (a failing call changes nothing).
  Function(std::vector<Expr> inputs, std::vector<Expr> outputs,
           std::vector<std::pair<Expr, Expr>> updates = {}, std::vector<Expr> update_ops = {});
  ~Function();
  // Feeds in `inputs` order (cast to each placeholder's dtype when they differ). Thread-safe:
  // calls of one Function are serialized, and calls updating the same variable hold its lock
  // from their first read to their commit (so no update is lost).
  std::vector<Tensor> operator()(const std::vector<Tensor>& feeds);
  std::vector<Tensor> operator()(std::vector<Tensor>&& feeds);  // the same, taking the feeds over
  size_t num_steps() const;
  // A call run only when it is light and no other thread is inside this Function (else false,
  // and nothing ran). Light: little work (small static shapes, small feeds) and no lock taken but
  // this Function's (no variables, no print), so a binding may run it without releasing its
  // interpreter lock: waiting on nothing else cannot deadlock. When it ran, feeds is left empty
  // (its capacity kept, for the caller to reuse) and outs holds the results (its previous contents
  // dropped, its capacity reused).
  bool try_call(std::vector<Tensor>&& feeds, std::vector<Tensor>& outs);

 private:
  struct Impl;  // the compiled plan
  std::unique_ptr<Impl> impl_;
};

// Evaluate a tensor once (cached plans are the caller's business).
Tensor eval(const Expr& x);

}  // namespace keras_cpp
