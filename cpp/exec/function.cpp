// cpp/exec/function.cpp — Function: one compiled plan (exec/plan.h) for the outputs and the
// updates; calls are serialized.
#include "keras_cpp/function.h"

#include "core/fork.h"
#include "exec/plan.h"
#include "keras_cpp/ops.h"

namespace keras_cpp {

struct Function::Impl {
  std::unique_ptr<Plan> plan;
  std::vector<Expr> inputs, outputs, update_ops;  // to rebuild the plan in a forked child
  ForkAwareMutex mu;
  void run(std::vector<Tensor>& feeds, std::vector<Tensor>& outs);  // with mu held
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
  impl_->inputs = std::move(inputs);
  impl_->outputs = std::move(outputs);
  impl_->update_ops = std::move(update_ops);
}
Function::~Function() = default;

std::vector<Tensor> Function::operator()(const std::vector<Tensor>& feeds) { return (*this)(std::vector<Tensor>(feeds)); }

void Function::Impl::run(std::vector<Tensor>& feeds, std::vector<Tensor>& outs) {
  if (mu.take_recovered()) {
    // Forked while another thread was inside this call: its plan state is half-written and
    // may be inconsistent even to destroy, so it is left as it is and the plan is made again.
    (void)plan.release();
    plan = std::make_unique<Plan>(inputs, outputs, update_ops);
  }
  plan->run(feeds, outs);
}

std::vector<Tensor> Function::operator()(std::vector<Tensor>&& feeds) {
  std::vector<Tensor> in(std::move(feeds)), outs;  // taken over, as before: the caller's vector is left empty
  std::lock_guard<ForkAwareMutex> lk(impl_->mu);
  impl_->run(in, outs);
  return outs;
}

bool Function::try_call(std::vector<Tensor>&& feeds, std::vector<Tensor>& outs) {
  if (!impl_->plan->light()) return false;
  int64_t n = 0;
  for (const Tensor& t : feeds) n += t.is_sparse() ? Plan::kLightElements + 1 : t.numel();
  if (n > Plan::kLightElements) return false;
  std::unique_lock<ForkAwareMutex> lk(impl_->mu, std::try_to_lock);
  if (!lk.owns_lock()) return false;
  struct Taken {  // the feeds are taken over, even when the call throws; the buffer stays the caller's
    std::vector<Tensor>& v;
    ~Taken() { v.clear(); }
  } taken{feeds};
  impl_->run(feeds, outs);
  return true;
}

size_t Function::num_steps() const { return impl_->plan->steps(); }

Tensor eval(const Expr& x) {
  Function f({}, {x});
  return f({})[0];
}

}  // namespace keras_cpp
