// cpp/exec/function.cpp — Function: a plan for the outputs and updates, and one for the
// outputs read after the updates; calls are serialized.
#include "keras_cpp/function.h"

#include <mutex>

#include "exec/plan.h"

namespace keras_cpp {

struct Function::Impl {
  std::unique_ptr<Plan> plan, post;
  std::mutex mu;
};

Function::Function(std::vector<Expr> inputs, std::vector<Expr> outputs, std::vector<std::pair<Expr, Expr>> updates,
                   std::vector<Expr> post_outputs)
    : impl_(std::make_unique<Impl>()) {
  impl_->plan = std::make_unique<Plan>(inputs, outputs, updates);
  if (!post_outputs.empty()) impl_->post = std::make_unique<Plan>(inputs, post_outputs, std::vector<std::pair<Expr, Expr>>{});
}
Function::~Function() = default;

std::vector<Tensor> Function::operator()(const std::vector<Tensor>& feeds) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  std::vector<Tensor> outs = impl_->plan->run(feeds, true);
  if (impl_->post) {
    std::vector<Tensor> more = impl_->post->run(feeds, false);
    outs.insert(outs.end(), more.begin(), more.end());
  }
  return outs;
}

size_t Function::num_steps() const { return impl_->plan->steps() + (impl_->post ? impl_->post->steps() : 0); }

Tensor eval(const Expr& x) {
  Function f({}, {x});
  return f({})[0];
}

}  // namespace keras_cpp
