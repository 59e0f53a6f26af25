// cpp/exec/function.cpp — compile a Function once (prune, order, liveness) and run it without
// Python: inputs are handed to kernels at their last use (so elementwise ops can write in
// place), dead buffers go back to a per-Function pool.
//
// Variables and update ops within one call (the order is fixed when the Function is built):
// - Nodes run in a topological order of data inputs and control dependencies (deps first).
// - A node that reads variable v sees the value made by the last update of v that it depends
//   on (through inputs or control dependencies), else v's value at the start of the call. So
//   outputs that do not depend on an update see the pre-call state.
// - The updates of one variable run one after another (dependency order, else the order they
//   are reached: outputs first, then the update list); each starts from the previous result.
// - New values are committed together after every step succeeded (a failing call changes no
//   variable), and the variables a call updates stay locked from their first read to the commit,
//   so concurrent calls updating the same variable serialize instead of losing updates.
#include "keras_cpp/function.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "exec/allocator.h"
#include "graph/topo.h"
#include "keras_cpp/ops.h"
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
  Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<Expr>& effects);
  std::vector<Tensor> run(const std::vector<Tensor>& feeds);
  size_t steps() const { return steps_.size(); }

 private:
  struct Leaf {
    int slot;
    Node* node;
    bool held;  // a variable this plan updates (its lock is held for the call)
  };
  void plan_step(Node* n, const std::unordered_map<Node*, int>& slot);

  std::vector<std::shared_ptr<Node>> keep_;  // keeps the graph alive
  std::unordered_set<Node*> fed_;
  std::vector<Node*> feeds_;
  std::vector<int> feed_slot_;
  std::vector<Leaf> leaves_;
  std::vector<Step> steps_;
  std::vector<int> out_slot_;
  // Planning state: per node, (variable, slot of the latest update it depends on).
  std::unordered_map<Node*, std::vector<std::pair<Node*, int>>> after_;
  std::unordered_map<Node*, int> last_update_;  // variable -> slot of its latest update so far
  std::unordered_map<int, int> last_use_;
  std::vector<Node*> locked_;  // updated variables, in lock order (node id)
  int nslots_ = 0;
  Allocator alloc_;
  std::vector<Tensor> slots_;
};

namespace {
void note_update(std::vector<std::pair<Node*, int>>& v, Node* var, int s) {
  for (auto& [x, t] : v)
    if (x == var) {
      t = std::max(t, s);
      return;
    }
  v.push_back({var, s});
}
}  // namespace

void Plan::plan_step(Node* n, const std::unordered_map<Node*, int>& slot) {
  std::vector<std::pair<Node*, int>> seen;  // the updates n depends on
  auto merge = [&](Node* p) {
    auto it = after_.find(p);
    if (it != after_.end())
      for (auto& [v, s] : it->second) note_update(seen, v, s);
  };
  for (auto& d : n->deps) merge(d.get());
  for (auto& in : n->inputs) merge(in.get());
  bool assign = (n->op->flags & kAssign) != 0;
  if (assign && n->inputs[0]->kind != NodeKind::variable)
    throw ValueError("[" + n->attrs.s("op") + "] updates inside map_fn/foldl/foldr/rnn bodies are not supported");
  Step st{n, {}, {}, slot.at(n)};
  for (size_t k = 0; k < n->inputs.size(); ++k) {
    Node* in = n->inputs[k].get();
    int src = slot.at(in);
    if (in->kind == NodeKind::variable && !fed_.count(in)) {
      if (assign && k == 0) {
        auto it = last_update_.find(in);
        if (it != last_update_.end()) src = it->second;
      } else {
        for (auto& [v, s] : seen)
          if (v == in) src = s;
      }
    }
    st.in.push_back(src);
    last_use_[src] = static_cast<int>(steps_.size());
  }
  if (assign) {
    last_update_[n->inputs[0].get()] = st.out;
    note_update(seen, n->inputs[0].get(), st.out);
  }
  if (!seen.empty()) after_[n] = std::move(seen);
  steps_.push_back(std::move(st));
}

Plan::Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<Expr>& effects) {
  for (auto& e : inputs) {
    if (!e) throw ValueError("[function] inputs must be tensors, got None");
    feeds_.push_back(e.node().get());
    fed_.insert(e.node().get());
    keep_.push_back(e.node());
  }
  std::vector<Node*> roots;
  for (auto& e : outputs) {
    if (!e) throw ValueError("[function] outputs must be tensors, got None");
    roots.push_back(e.node().get());
    keep_.push_back(e.node());
  }
  for (auto& e : effects) {
    if (!e) throw ValueError("[function] updates must be tensors or (variable, value) pairs, got None");
    roots.push_back(e.node().get());
    keep_.push_back(e.node());
  }
  std::vector<Node*> order = topo_order(roots, fed_, true);
  std::unordered_map<Node*, int> slot;
  for (Node* n : order) slot[n] = nslots_++;
  std::unordered_set<int> pinned;
  for (Node* n : order) {
    if (fed_.count(n)) continue;
    if (n->kind == NodeKind::placeholder && !n->value.defined())
      throw ValueError("[function] placeholder '" + n->name + "' " + shape_str(n->shape) +
                       " is needed to compute the outputs but is not among the inputs");
    if (n->kind != NodeKind::op) leaves_.push_back({slot[n], n, false});
    else plan_step(n, slot);
    if (n->op && (n->op->flags & kAssign)) pinned.insert(slot[n]);  // staged values are never reused
  }
  after_.clear();
  for (auto& [var, s] : last_update_) locked_.push_back(var);
  std::sort(locked_.begin(), locked_.end(), [](Node* a, Node* b) { return a->id < b->id; });
  for (Leaf& l : leaves_) l.held = last_update_.count(l.node) > 0;
  for (Node* f : feeds_) feed_slot_.push_back(slot.count(f) ? slot[f] : -1);
  for (auto& e : outputs) { out_slot_.push_back(slot[e.node().get()]); pinned.insert(slot[e.node().get()]); }
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& st = steps_[i];
    st.hand_over.assign(st.in.size(), 0);
    for (size_t k = 0; k < st.in.size(); ++k) {
      int s = st.in[k];
      bool once = std::count(st.in.begin(), st.in.end(), s) == 1;
      st.hand_over[k] = once && !pinned.count(s) && last_use_[s] == static_cast<int>(i);
    }
  }
}

std::vector<Tensor> Plan::run(const std::vector<Tensor>& feeds) {
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
    if (feed_slot_[i] >= 0) slots_[feed_slot_[i]] = v.astype(p->dtype);
  }
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(locked_.size());
  for (Node* v : locked_) locks.emplace_back(v->var->mu);
  for (const Leaf& l : leaves_) {
    if (l.node->kind != NodeKind::variable) {
      slots_[l.slot] = l.node->value;
    } else if (l.held) {
      slots_[l.slot] = l.node->var->value;
    } else {
      std::lock_guard<std::mutex> lk(l.node->var->mu);
      slots_[l.slot] = l.node->var->value;
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
  for (auto& [var, s] : last_update_) var->var->value = slots_[s];  // under the locks taken above
  slots_.clear();
  return outs;
}

Function::Function(std::vector<Expr> inputs, std::vector<Expr> outputs, std::vector<std::pair<Expr, Expr>> updates,
                   std::vector<Expr> update_ops) {
  ControlDependencies none({}, true);  // the update ops made here depend on nothing
  for (auto& [var, val] : updates) {
    if (!var || var->kind != NodeKind::variable) throw TypeError("[function] an update must target a variable");
    if (!val) throw ValueError("[function] update of '" + var->name + "' has no value (None)");
    update_ops.push_back(update(var, val));
  }
  plan_ = std::make_unique<Plan>(inputs, outputs, update_ops);
}
Function::~Function() = default;

std::vector<Tensor> Function::operator()(const std::vector<Tensor>& feeds) {
  std::lock_guard<std::mutex> lk(mu_);
  return plan_->run(feeds);
}

size_t Function::num_steps() const { return plan_->steps(); }

Tensor eval(const Expr& x) {
  Function f({}, {x});
  return f({})[0];
}

}  // namespace keras_cpp
