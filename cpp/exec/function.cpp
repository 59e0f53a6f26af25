// cpp/exec/function.cpp — compile a Function once (prune, order, liveness) and run it without
// Python: inputs are handed to kernels at their last use (so elementwise ops can write in
// place), dead buffers go back to a per-Function pool, updates are assigned after all outputs.
#include "keras_cpp/function.h"

#include <unordered_map>
#include <unordered_set>

#include "exec/allocator.h"
#include "graph/topo.h"
#include "keras_cpp/sparse.h"
#include "ops/registry.h"
#include "ops/state.h"

namespace keras_cpp {

struct Step {
  Node* node;
  std::vector<int> in;
  std::vector<char> hand_over;  // in[k]'s slot dies here: move it into the kernel
  int out;
};

class Plan {
 public:
  Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<std::pair<Expr, Expr>>& updates);
  std::vector<Tensor> run(const std::vector<Tensor>& feeds, bool apply_updates);
  size_t steps() const { return steps_.size(); }

 private:
  std::vector<std::shared_ptr<Node>> keep_;  // keeps the graph alive
  std::vector<Node*> feeds_;
  std::vector<int> feed_slot_;
  std::vector<std::pair<int, Node*>> leaves_;
  std::vector<Step> steps_;
  std::vector<int> out_slot_;
  std::vector<std::pair<Node*, int>> updates_;
  int nslots_ = 0;
  Allocator alloc_;
  std::vector<Tensor> slots_;
};

Plan::Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<std::pair<Expr, Expr>>& updates) {
  std::unordered_set<Node*> fed;
  for (auto& e : inputs) {
    if (!e) throw ValueError("[function] inputs must be tensors, got None");
    feeds_.push_back(e.node().get());
    fed.insert(e.node().get());
    keep_.push_back(e.node());
  }
  std::vector<Node*> roots;
  for (auto& e : outputs) {
    if (!e) throw ValueError("[function] outputs must be tensors, got None");
    roots.push_back(e.node().get());
    keep_.push_back(e.node());
  }
  std::unordered_set<Node*> updated;
  for (auto& [var, val] : updates) {
    if (!var || var->kind != NodeKind::variable) throw TypeError("[function] an update must target a variable");
    if (!val) throw ValueError("[function] update of '" + var->name + "' has no value (None)");
    if (!updated.insert(var.node().get()).second) continue;  // Theano keeps the first update of a variable
    roots.push_back(val.node().get());
    keep_.push_back(var.node());
    keep_.push_back(val.node());
  }
  std::vector<Node*> order = topo_order(roots, fed);
  std::unordered_map<Node*, int> slot;
  for (Node* n : order) slot[n] = nslots_++;
  std::unordered_map<int, int> last_use;
  for (Node* n : order) {
    int s = slot[n];
    if (fed.count(n)) continue;
    if (n->kind == NodeKind::variable || n->kind == NodeKind::constant) {
      leaves_.push_back({s, n});
    } else if (n->kind == NodeKind::placeholder) {
      if (!n->value.defined())
        throw ValueError("[function] placeholder '" + n->name + "' " + shape_str(n->shape) +
                         " is needed to compute the outputs but is not among the inputs");
      leaves_.push_back({s, n});
    } else {
      Step st{n, {}, {}, s};
      for (auto& in : n->inputs) {
        st.in.push_back(slot.at(in.get()));
        last_use[slot.at(in.get())] = static_cast<int>(steps_.size());
      }
      steps_.push_back(std::move(st));
    }
  }
  for (Node* f : feeds_) feed_slot_.push_back(slot.count(f) ? slot[f] : -1);
  std::unordered_set<int> pinned;
  for (auto& e : outputs) { out_slot_.push_back(slot[e.node().get()]); pinned.insert(slot[e.node().get()]); }
  std::unordered_set<Node*> done;
  for (auto& [var, val] : updates) {
    if (!done.insert(var.node().get()).second) continue;
    updates_.push_back({var.node().get(), slot[val.node().get()]});
    pinned.insert(slot[val.node().get()]);
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& st = steps_[i];
    st.hand_over.assign(st.in.size(), 0);
    for (size_t k = 0; k < st.in.size(); ++k) {
      int s = st.in[k];
      bool once = std::count(st.in.begin(), st.in.end(), s) == 1;
      st.hand_over[k] = once && !pinned.count(s) && last_use[s] == static_cast<int>(i);
    }
  }
}

std::vector<Tensor> Plan::run(const std::vector<Tensor>& feeds, bool apply_updates) {
  if (feeds.size() != feeds_.size())
    throw ValueError("[function] expected " + std::to_string(feeds_.size()) + " input values, got " + std::to_string(feeds.size()));
  slots_.assign(nslots_, Tensor());
  for (size_t i = 0; i < feeds.size(); ++i) {
    Node* p = feeds_[i];
    const Tensor& v = feeds[i];
    bool ok = !p->rank_known || v.ndim() == p->ndim();
    for (int d = 0; ok && p->rank_known && d < p->ndim(); ++d) ok = p->shape[d] < 0 || p->shape[d] == v.shape()[d];
    if (!ok)
      throw ValueError("[function] input " + std::to_string(i) + " ('" + p->name + "') expects shape " + shape_str(p->shape) +
                       ", got a value of shape " + shape_str(v.shape()));
    if (feed_slot_[i] >= 0) slots_[feed_slot_[i]] = match_sparsity(v.astype(p->dtype), p->sparse);
  }
  for (auto& [s, n] : leaves_) {
    if (n->kind == NodeKind::variable) {
      std::lock_guard<std::mutex> lk(n->var->mu);
      slots_[s] = n->var->value;
    } else {
      slots_[s] = n->value;
    }
  }
  for (Step& st : steps_) {
    KernelCtx ctx{*st.node, {}, &alloc_};
    ctx.in.reserve(st.in.size());
    for (size_t k = 0; k < st.in.size(); ++k)
      ctx.in.push_back(st.hand_over[k] ? std::move(slots_[st.in[k]]) : slots_[st.in[k]]);
    if (st.node->op->flags & kRandom) ctx.eval_index = st.node->eval_count.fetch_add(1);
    Tensor out = st.node->op->forward(ctx);
    for (size_t k = 0; k < ctx.in.size(); ++k)
      if (st.hand_over[k]) alloc_.release(std::move(ctx.in[k]));
    slots_[st.out] = std::move(out);
  }
  std::vector<Tensor> outs;
  for (int s : out_slot_) {
    Tensor t = slots_[s];
    if (t.storage()->borrowed()) t = t.clone();  // never hand back the caller's memory
    outs.push_back(t);
  }
  std::vector<Tensor> replaced;
  if (apply_updates) {
    for (auto& [var, s] : updates_) {
      Tensor v = match_sparsity(slots_[s].astype(var->dtype), var->sparse);
      if (v.shape() != var->shape)
        throw ValueError("[function] update of variable '" + var->name + "' " + shape_str(var->shape) + " got a value of shape " + shape_str(v.shape()));
      if (v.storage()->borrowed() || !v.is_contiguous()) v = v.clone();
      std::lock_guard<std::mutex> lk(var->var->mu);
      replaced.push_back(std::move(var->var->value));
      var->var->value = v;
    }
  }
  slots_.clear();
  // A replaced value nobody else holds serves the next call's new values (warm pages, no
  // allocation): release() keeps only buffers this was the last reference to.
  for (Tensor& t : replaced) alloc_.release(std::move(t));
  return outs;
}

Function::Function(std::vector<Expr> inputs, std::vector<Expr> outputs, std::vector<std::pair<Expr, Expr>> updates,
                   std::vector<Expr> post_outputs) {
  plan_ = std::make_unique<Plan>(inputs, outputs, updates);
  if (!post_outputs.empty()) post_ = std::make_unique<Plan>(inputs, post_outputs, std::vector<std::pair<Expr, Expr>>{});
}
Function::~Function() = default;

std::vector<Tensor> Function::operator()(const std::vector<Tensor>& feeds) {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Tensor> outs = plan_->run(feeds, true);
  if (post_) {
    std::vector<Tensor> more = post_->run(feeds, false);
    outs.insert(outs.end(), more.begin(), more.end());
  }
  return outs;
}

size_t Function::num_steps() const { return plan_->steps() + (post_ ? post_->steps() : 0); }

Tensor eval(const Expr& x) {
  Function f({}, {x});
  return f({})[0];
}

}  // namespace keras_cpp
