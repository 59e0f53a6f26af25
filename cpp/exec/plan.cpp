// cpp/exec/plan.cpp — compile (prune, order, one slot per result, liveness) and run a plan.
#include "exec/plan.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "graph/topo.h"

namespace keras_cpp {

Plan::Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<std::pair<Expr, Expr>>& updates) {
  std::unordered_set<Node*> fed;
  std::vector<std::pair<Node*, Expr>> ups;
  std::vector<Node*> order = prune(inputs, outputs, updates, fed, ups);
  for (Node* n : order) {
    base_[n] = nslots_;
    nslots_ += static_cast<int>(n->num_outputs());
  }
  std::vector<int> last_use = make_steps(order, fed);
  std::vector<char> pinned(nslots_, 0);
  for (auto& e : outputs) {
    out_slot_.push_back(slot(e));
    pinned[out_slot_.back()] = 1;
  }
  for (auto& [var, val] : ups) {
    updates_.push_back({var, slot(val)});
    pinned[slot(val)] = 1;
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& st = steps_[i];
    for (int s : st.in) {
      bool once = std::count(st.in.begin(), st.in.end(), s) == 1;
      st.hand_over.push_back(once && !pinned[s] && last_use[s] == static_cast<int>(i));
    }
    for (int s : st.out) st.used.push_back(pinned[s] || last_use[s] >= 0);
  }
  base_.clear();
}

int Plan::slot(const Expr& e) const { return base_.at(e.node().get()) + static_cast<int>(e.index()); }

std::vector<Node*> Plan::prune(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                               const std::vector<std::pair<Expr, Expr>>& updates, std::unordered_set<Node*>& fed,
                               std::vector<std::pair<Node*, Expr>>& ups) {
  for (auto& e : inputs) {
    if (!e) throw ValueError("[function] inputs must be tensors, got None");
    feeds_.push_back(e);
    fed.insert(e.node().get());
    keep_.push_back(e.node());
  }
  std::vector<Node*> roots;
  for (auto& e : outputs) {
    if (!e) throw ValueError("[function] outputs must be tensors, got None");
    roots.push_back(e.node().get());
    keep_.push_back(e.node());
  }
  for (auto& [var, val] : updates) {
    if (!var || var->kind != NodeKind::variable) throw TypeError("[function] an update must target a variable");
    if (!val) throw ValueError("[function] update of '" + var->name + "' has no value (None)");
    // Theano keeps the first update of a variable.
    if (std::any_of(ups.begin(), ups.end(), [&](auto& u) { return u.first == var.node().get(); })) continue;
    ups.push_back({var.node().get(), val});
    roots.push_back(val.node().get());
    keep_.push_back(var.node());
    keep_.push_back(val.node());
  }
  return topo_order(roots, fed);
}

std::vector<int> Plan::make_steps(const std::vector<Node*>& order, const std::unordered_set<Node*>& fed) {
  std::vector<char> fed_slot(nslots_, 0);
  for (auto& e : feeds_) {
    feed_slot_.push_back(base_.count(e.node().get()) ? slot(e) : -1);
    if (feed_slot_.back() >= 0) fed_slot[feed_slot_.back()] = 1;
  }
  std::vector<int> last_use(nslots_, -1);
  for (Node* n : order) {
    if (fed.count(n)) continue;
    if (n->kind != NodeKind::op) {
      if (n->kind == NodeKind::placeholder && !n->value.defined())
        throw ValueError("[function] placeholder '" + n->name + "' " + shape_str(n->type().shape) +
                         " is needed to compute the outputs but is not among the inputs");
      leaves_.push_back({base_[n], n});
      continue;
    }
    Step st{n, {}, {}, {}, {}, nullptr};
    for (auto& in : n->inputs) {
      int s = slot(in);
      if (fed.count(in.node().get()) && !fed_slot[s])
        throw ValueError("[function] result " + std::to_string(in.index()) + " of input '" + in->name +
                         "' is needed but only other results of it are fed");
      st.in.push_back(s);
      last_use[s] = static_cast<int>(steps_.size());
    }
    for (size_t k = 0; k < n->num_outputs(); ++k) st.out.push_back(base_[n] + static_cast<int>(k));
    steps_.push_back(std::move(st));
  }
  return last_use;
}

void Plan::run_step(Step& st) {
  const OpDef& op = *st.node->op;
  KernelCtx ctx{*st.node, {}, &alloc_};
  ctx.in.reserve(st.in.size());
  for (size_t k = 0; k < st.in.size(); ++k)
    ctx.in.push_back(st.hand_over[k] ? std::move(slots_[st.in[k]]) : slots_[st.in[k]]);
  if (op.flags & kRandom) ctx.eval_index = st.node->eval_count.fetch_add(1);
  ctx.used = &st.used;
  ctx.state = &st.state;
  if (op.forward) {  // single result: no vector to allocate
    Tensor out = op.forward(ctx);
    for (size_t k = 0; k < ctx.in.size(); ++k)
      if (st.hand_over[k]) alloc_.release(std::move(ctx.in[k]));
    slots_[st.out[0]] = std::move(out);
    return;
  }
  std::vector<Tensor> outs = op.forward_multi(ctx);
  if (outs.size() != st.out.size())
    fail_value(op.name, "internal: the kernel returned " + std::to_string(outs.size()) + " results for " +
                            std::to_string(st.out.size()) + " outputs");
  for (size_t k = 0; k < ctx.in.size(); ++k)
    if (st.hand_over[k]) alloc_.release(std::move(ctx.in[k]));
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!st.used[k]) {
      alloc_.release(std::move(outs[k]));
    } else {
      if (!outs[k].defined()) fail_value(op.name, "internal: the kernel skipped result " + std::to_string(k) + ", which is used");
      slots_[st.out[k]] = std::move(outs[k]);
    }
  }
}

std::vector<Tensor> Plan::run(const std::vector<Tensor>& feeds, bool apply_updates) {
  if (feeds.size() != feeds_.size())
    throw ValueError("[function] expected " + std::to_string(feeds_.size()) + " input values, got " + std::to_string(feeds.size()));
  slots_.assign(nslots_, Tensor());
  for (size_t i = 0; i < feeds.size(); ++i) {
    const TypeInfo& p = feeds_[i]->type(feeds_[i].index());  // no copy: this runs per call
    const Tensor& v = feeds[i];
    bool ok = !p.rank_known || v.ndim() == p.ndim();
    for (int d = 0; ok && p.rank_known && d < p.ndim(); ++d) ok = p.shape[d] < 0 || p.shape[d] == v.shape()[d];
    if (!ok)
      throw ValueError("[function] input " + std::to_string(i) + " ('" + feeds_[i]->name + "') expects shape " +
                       shape_str(p.shape) + ", got a value of shape " + shape_str(v.shape()));
    if (feed_slot_[i] >= 0) slots_[feed_slot_[i]] = v.astype(p.dtype);
  }
  for (auto& [s, n] : leaves_) {
    if (n->kind == NodeKind::variable) {
      std::lock_guard<std::mutex> lk(n->var->mu);
      slots_[s] = n->var->value;
    } else {
      slots_[s] = n->value;
    }
  }
  for (Step& st : steps_) run_step(st);
  std::vector<Tensor> outs;
  for (int s : out_slot_) {
    Tensor t = slots_[s];
    if (t.storage()->borrowed()) t = t.clone();  // never hand back the caller's memory
    outs.push_back(t);
  }
  if (apply_updates) {
    for (auto& [var, s] : updates_) {
      Tensor v = slots_[s].astype(var->type().dtype);
      if (v.shape() != var->type().shape)
        throw ValueError("[function] update of variable '" + var->name + "' " + shape_str(var->type().shape) +
                         " got a value of shape " + shape_str(v.shape()));
      if (v.storage()->borrowed() || !v.is_contiguous()) v = v.clone();
      std::lock_guard<std::mutex> lk(var->var->mu);
      var->var->value = v;
    }
  }
  slots_.clear();
  return outs;
}

}  // namespace keras_cpp
