// cpp/exec/function.cpp — Function: one compiled plan (exec/plan.h) for the outputs and the
// updates; calls are serialized.
#include "keras_cpp/function.h"

#include <mutex>

#include "exec/plan.h"
#include "keras_cpp/ops.h"

namespace keras_cpp {

struct Function::Impl {
  std::unique_ptr<Plan> plan;
  std::mutex mu;
};

Function::Function(std::vector<Expr> inputs, std::vector<Expr> outputs, std::vector<std::pair<Expr, Expr>> updates,
                   std::vector<Expr> update_ops)
    : impl_(std::make_unique<Impl>()) {
  ControlDependencies none({}, true);  // the update ops made here depend on nothing
  for (auto& [var, val] : updates) {
    if (!var || var->kind != NodeKind::variable) throw TypeError("[function] an update must target a variable");
    if (!val) throw ValueError("[function] update of '" + var->name + "' has no value (None)");
    update_ops.push_back(update(var, val));
  }
  impl_->plan = std::make_unique<Plan>(inputs, outputs, update_ops);
}
Function::~Function() = default;

std::vector<Tensor> Function::operator()(const std::vector<Tensor>& feeds) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->plan->run(feeds);
}

std::vector<Tensor> Function::operator()(std::vector<Tensor>&& feeds) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->plan->run(std::move(feeds));
}

size_t Function::num_steps() const { return impl_->plan->steps(); }

Tensor eval(const Expr& x) {
  Function f({}, {x});
  return f({})[0];
}

}  // namespace keras_cpp
