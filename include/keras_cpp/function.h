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
  // `updates`: (variable, new value) pairs. All outputs and all new values are computed from
  // the pre-call state; then the variables are assigned. `post_outputs` are evaluated after the
  // updates (Keras's stateful metrics read the updated state).
  Function(std::vector<Expr> inputs, std::vector<Expr> outputs,
           std::vector<std::pair<Expr, Expr>> updates = {}, std::vector<Expr> post_outputs = {});
  ~Function();
  // Feeds in `inputs` order (cast to each placeholder's dtype when they differ). Returns
  // outputs then post_outputs. Thread-safe (calls are serialized).
  std::vector<Tensor> operator()(const std::vector<Tensor>& feeds);
  size_t num_steps() const;

 private:
  struct Impl;  // the compiled plans
  std::unique_ptr<Impl> impl_;
};

// Evaluate a tensor once (cached plans are the caller's business).
Tensor eval(const Expr& x);

}  // namespace keras_cpp
