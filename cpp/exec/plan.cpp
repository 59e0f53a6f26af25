// cpp/exec/plan.cpp — compile (prune, order, one slot per result, liveness) and run a plan.
#include "exec/plan.h"
#include "exec/fuse.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "graph/topo.h"
#include "keras_cpp/sparse.h"
#include "ops/weights.h"

namespace keras_cpp {

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

Plan::Plan(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs, const std::vector<Expr>& effects) {
  std::vector<Node*> order = prune(inputs, outputs, effects);
  for (Node* n : order) {
    base_[n] = nslots_;
    nslots_ += static_cast<int>(n->num_outputs());
  }
  std::vector<int> last_use = make_steps(order);
  find_churn();
  std::vector<char> pinned(nslots_, 0);
  for (const Step& st : steps_)
    if (st.node->op->flags & kAssign) pinned[st.out[0]] = 1;  // staged values are never reused
  for (auto& e : outputs) {
    out_slot_.push_back(slot(e));
    pinned[out_slot_.back()] = 1;
  }
  mark_shape_only(pinned);
  if (fusion_enabled()) {
    fuse_gemm_adds(steps_, pinned, nslots_);
    fuse_separable(steps_, pinned, nslots_);
    fuse_slice_grads(steps_, pinned, nslots_);
    fuse_elementwise(steps_, pinned, nslots_);
    std::fill(last_use.begin(), last_use.end(), -1);
    for (size_t i = 0; i < steps_.size(); ++i)
      for (int s : steps_[i].in) last_use[s] = static_cast<int>(i);
  }
  fold_unit_factors(steps_);
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& st = steps_[i];
    for (int s : st.in) {
      bool once = std::count(st.in.begin(), st.in.end(), s) == 1;
      st.hand_over.push_back(once && !pinned[s] && last_use[s] == static_cast<int>(i));
    }
    for (int s : st.out) st.used.push_back(pinned[s] || last_use[s] >= 0);
  }
  mark_lazy_branches(pinned);
  for (size_t i = 0; i < out_slot_.size(); ++i) {
    int s = out_slot_[i];
    bool again = std::count(out_slot_.begin(), out_slot_.end(), s) > 1;
    bool staged = std::any_of(last_update_.begin(), last_update_.end(), [s](const auto& u) { return u.second == s; });
    out_move_.push_back(!again && !staged);
  }
  for (auto& [var, s] : last_update_) locked_.push_back(var);
  std::sort(locked_.begin(), locked_.end(), [](Node* a, Node* b) { return a->id < b->id; });
  for (Leaf& l : leaves_) l.held = last_update_.count(l.node) > 0;
  base_.clear();
  after_.clear();
  light_ = find_light();
}

// Updated variables that at most two steps read as a product's or convolution's weight
// (input 1): a training step's layers, whose packed form would serve one call only.
void Plan::find_churn() {
  std::unordered_map<const Node*, int> uses;
  for (const Step& st : steps_) {
    const Node* w = weight_node(*st.node, 1);
    if (w && last_update_.count(const_cast<Node*>(w))) ++uses[w];
  }
  for (const auto& [w, k] : uses)
    if (k <= 2) churn_.insert(w);
}

// Light: no variable (their locks), no stateful op (print_tensor calls into Python), no op with
// a body (loops may run long) and at most kLightElements elements in all results and constants.
bool Plan::find_light() const {
  int64_t total = 0;
  auto add = [&](const TypeInfo& t) {
    if (!t.rank_known) return false;
    int64_t e = 1;
    for (int64_t d : t.shape) {
      if (d < 0 || d > kLightElements) return false;
      e *= d;
      if (e > kLightElements) return false;
    }
    total += e;
    return total <= kLightElements;
  };
  if (!locked_.empty()) return false;
  for (const Leaf& l : leaves_)
    if (l.node->kind == NodeKind::variable || !add(l.node->type(0))) return false;
  for (const Step& st : steps_) {
    const Node& n = *st.node;
    if (n.op->flags & (kStateful | kAssign | kDynamicShape)) return false;
    for (const auto& kv : n.attrs.items())
      if (kv.second.kind == Value::Tensor || kv.second.kind == Value::List) return false;
    for (size_t k = 0; k < n.num_outputs(); ++k)
      if (!add(n.type(k))) return false;
  }
  return true;
}

namespace {
using Guards = std::vector<std::pair<int, int>>;

Guards intersect(const Guards& a, const Guards& b) {
  Guards r;
  for (auto& g : a)
    if (std::find(b.begin(), b.end(), g) != b.end()) r.push_back(g);
  return r;
}

// A switch with a scalar condition whose branches have one static type: running only the chosen
// branch returns what picking between both would (as tf.cond does).
bool lazy_pick(const Step& st) {
  const Node* n = st.node;
  if (st.fused || n->op->name != "_switch_pick") return false;
  const TypeInfo& a = n->inputs[1]->type(n->inputs[1].index());
  const TypeInfo& b = n->inputs[2]->type(n->inputs[2].index());
  return a.rank_known && b.rank_known && a.shape == b.shape && a.dtype == b.dtype && !a.sparse && !b.sparse;
}
}  // namespace

// Steps are visited readers first: a step is guarded by (switch, branch) when every reader of
// every result it has is that branch's input of the switch or itself guarded by it. Results that
// are returned or staged, control dependencies, stateful or updating steps and loops (whose
// bodies' random draws must advance on every call) always run.
// The nodes a rewritten step (fused group, GEMM with its adds, slice-gradient sum) runs besides its own.
static std::vector<Node*> merged_nodes(const Step& st) {
  std::vector<Node*> out;
  if (st.fused) out = st.fused->members;
  if (st.gemm)
    for (Node* m : {st.gemm->mm, st.gemm->acc, st.gemm->bias})
      if (m) out.push_back(m);
  if (st.sepconv) out.push_back(st.sepconv->dw);
  if (st.slices) {
    out.insert(out.end(), st.slices->leaves.begin(), st.slices->leaves.end());
    out.insert(out.end(), st.slices->adds.begin(), st.slices->adds.end());
  }
  return out;
}

void Plan::mark_lazy_branches(const std::vector<char>& pinned) {
  if (std::none_of(steps_.begin(), steps_.end(), [](const Step& st) { return lazy_pick(st); })) return;
  const int ns = static_cast<int>(steps_.size());
  std::vector<Guards> readers(nslots_);  // slot -> (step, input position)
  std::unordered_set<const Node*> dep_targets;
  for (int i = 0; i < ns; ++i) {
    for (size_t k = 0; k < steps_[i].in.size(); ++k) readers[steps_[i].in[k]].push_back({i, static_cast<int>(k)});
    for (auto& d : steps_[i].node->deps) dep_targets.insert(d.get());
    for (Node* m : merged_nodes(steps_[i]))
      for (auto& d : m->deps) dep_targets.insert(d.get());
  }
  for (int i = ns - 1; i >= 0; --i) {
    Step& st = steps_[i];
    bool ok = !(st.node->op->flags & (kAssign | kStateful)) && !st.node->attrs.has("body") && !dep_targets.count(st.node);
    bool first = true;
    for (Node* m : merged_nodes(st)) ok = ok && !dep_targets.count(m);
    Guards g;
    for (size_t o = 0; ok && o < st.out.size(); ++o) {
      ok = !pinned[st.out[o]];
      for (auto [r, k] : readers[st.out[o]]) {
        Guards via = steps_[r].guards;
        if (k > 0 && lazy_pick(steps_[r])) via.push_back({r, k});
        g = first ? via : intersect(g, via);
        first = false;
      }
    }
    if (ok && !first) st.guards = std::move(g);
  }
}

// Whether a guarded step's switch was skipped or picks the other branch (a condition not
// computed yet: the step runs).
bool Plan::skip_step(const Step& st) const {
  for (auto [p, branch] : st.guards) {
    if (skipped_[p]) return true;
    const Tensor& c = slots_[steps_[p].in[0]];
    if (!c.defined() || c.is_sparse() || c.numel() != 1) continue;
    if ((c.item() != 0) != (branch == 1)) return true;
  }
  return false;
}

// Readers first: a step is shape-only when its op's result shape follows from its inputs'
// shapes (kShapeFromShapes), its result is dense, neither returned nor staged nor a control
// dependency, and every reader reads it only for its shape: an op's shape input
// (OpDef::shape_inputs) or another shape-only step. Its own inputs then count as shape reads.
void Plan::mark_shape_only(const std::vector<char>& pinned) {
  const int ns = static_cast<int>(steps_.size());
  std::vector<std::vector<std::pair<int, int>>> readers(nslots_);  // slot -> (step, input position)
  std::unordered_set<const Node*> dep_targets;
  for (int i = 0; i < ns; ++i) {
    for (size_t k = 0; k < steps_[i].in.size(); ++k) readers[steps_[i].in[k]].push_back({i, static_cast<int>(k)});
    for (auto& d : steps_[i].node->deps) dep_targets.insert(d.get());
  }
  for (int i = ns - 1; i >= 0; --i) {
    Step& st = steps_[i];
    const Node* n = st.node;
    const OpDef& op = *n->op;
    if (!(op.flags & kShapeFromShapes) || (op.flags & (kAssign | kRandom | kStateful | kDynamicShape)) || !op.forward ||
        st.out.size() != 1 || pinned[st.out[0]] || dep_targets.count(n) || n->type(0).sparse || readers[st.out[0]].empty())
      continue;
    bool ok = true;
    for (auto [r, k] : readers[st.out[0]])
      ok = ok && (steps_[r].shape_only || (k < 32 && (steps_[r].node->op->shape_inputs >> k) & 1u));
    st.shape_only = ok;
  }
}

// The result of a shape-only step: its run-time shape and dtype from the op's shape inference
// (which also checks the inputs as the kernel would), as a zero-stride view of one element.
void Plan::run_shape_step(Step& st) {
  const OpDef& op = *st.node->op;
  std::vector<TypeInfo> in;
  in.reserve(st.in.size());
  for (int s : st.in) {
    const Tensor& t = slots_[s];
    in.push_back(TypeInfo{t.shape(), t.dtype(), true, t.is_sparse()});
  }
  std::vector<TypeInfo> o = op.infer_multi(in, st.node->attrs);
  if (o.size() != 1 || !o[0].rank_known || !shape_known(o[0].shape))
    fail_value(op.name, "internal: shape inference left the run-time shape open (" + shape_str(o.empty() ? Shape{} : o[0].shape) + ")");
  for (size_t k = 0; k < st.in.size(); ++k)
    if (st.hand_over[k]) alloc_.release(std::move(slots_[st.in[k]]));
  slots_[st.out[0]] = Tensor::scalar(0.0, o[0].dtype).broadcast_to(o[0].shape);
}

int Plan::slot(const Expr& e) const { return base_.at(e.node().get()) + static_cast<int>(e.index()); }

std::vector<Node*> Plan::prune(const std::vector<Expr>& inputs, const std::vector<Expr>& outputs,
                               const std::vector<Expr>& effects) {
  for (auto& e : inputs) {
    if (!e) throw ValueError("[function] inputs must be tensors, got None");
    feeds_.push_back(e);
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
  return topo_order(roots, fed_, true);
}

std::vector<int> Plan::make_steps(const std::vector<Node*>& order) {
  std::vector<char> fed_slot(nslots_, 0);
  for (auto& e : feeds_) {
    feed_slot_.push_back(base_.count(e.node().get()) ? slot(e) : -1);
    if (feed_slot_.back() >= 0) fed_slot[feed_slot_.back()] = 1;
  }
  std::vector<int> last_use(nslots_, -1);
  for (Node* n : order) {
    if (fed_.count(n)) continue;
    if (n->kind == NodeKind::placeholder && !n->value.defined())
      throw ValueError("[function] placeholder '" + n->name + "' " + shape_str(n->type().shape) +
                       " is needed to compute the outputs but is not among the inputs");
    if (n->kind != NodeKind::op) leaves_.push_back({base_[n], n, false});
    else plan_step(n, fed_slot, last_use);
  }
  return last_use;
}

// The updates node n depends on through its inputs and control dependencies: (variable, slot).
std::vector<std::pair<Node*, int>> Plan::updates_before(const Node* n) const {
  std::vector<std::pair<Node*, int>> seen;
  auto merge = [&](const Node* p) {
    auto it = after_.find(p);
    if (it != after_.end())
      for (auto& [v, s] : it->second) note_update(seen, v, s);
  };
  for (auto& d : n->deps) merge(d.get());
  for (auto& in : n->inputs) merge(in.node().get());
  return seen;
}

// The slot input k of n reads: a variable reads the latest update of it that n depends on (an
// update op's variable: the latest update of all, so the updates of one variable chain).
int Plan::input_slot(const Node* n, size_t k, const std::vector<std::pair<Node*, int>>& seen,
                     const std::vector<char>& fed_slot) const {
  const Expr& in = n->inputs[k];
  Node* p = in.node().get();
  int src = slot(in);
  if (fed_.count(p) && !fed_slot[src])
    throw ValueError("[function] result " + std::to_string(in.index()) + " of input '" + in->name +
                     "' is needed but only other results of it are fed");
  if (p->kind != NodeKind::variable || fed_.count(p)) return src;
  if ((n->op->flags & kAssign) && k == 0) {
    auto it = last_update_.find(p);
    return it != last_update_.end() ? it->second : src;
  }
  for (auto& [v, s] : seen)
    if (v == p) src = s;
  return src;
}

// One step; a variable input reads the latest update of it that the node depends on.
void Plan::plan_step(Node* n, const std::vector<char>& fed_slot, std::vector<int>& last_use) {
  std::vector<std::pair<Node*, int>> seen = updates_before(n);
  bool assign = (n->op->flags & kAssign) != 0;
  if (assign && n->inputs[0]->kind != NodeKind::variable)
    throw ValueError("[" + n->attrs.s("op") + "] updates inside map_fn/foldl/foldr/rnn bodies are not supported");
  Step st{n, {}, {}, {}, {}, nullptr, {}, nullptr, {}};
  for (size_t k = 0; k < n->inputs.size(); ++k) {
    int src = input_slot(n, k, seen, fed_slot);
    st.in.push_back(src);
    last_use[src] = static_cast<int>(steps_.size());
  }
  for (size_t k = 0; k < n->num_outputs(); ++k) st.out.push_back(base_.at(n) + static_cast<int>(k));
  if (assign) {
    last_update_[n->inputs[0].node().get()] = st.out[0];
    note_update(seen, n->inputs[0].node().get(), st.out[0]);
  }
  if (!seen.empty()) after_[n] = std::move(seen);
  steps_.push_back(std::move(st));
}

void Plan::run_step(Step& st) {
  const OpDef& op = *st.node->op;
  KernelCtx ctx{*st.node, std::move(st.scratch), &alloc_};
  ctx.in.clear();
  ctx.in.reserve(st.in.size());
  for (size_t k = 0; k < st.in.size(); ++k)
    ctx.in.push_back(st.hand_over[k] ? std::move(slots_[st.in[k]]) : slots_[st.in[k]]);
  if (op.flags & kRandom) ctx.eval_index = st.node->eval_count.fetch_add(1);
  ctx.used = &st.used;
  ctx.state = &st.state;
  ctx.churn = &churn_;
  if (op.forward) {  // single result (a fused group's extras aside): no vector to allocate
    std::vector<Tensor> extra;
    Tensor out = st.copy_of >= 0 ? run_unit_copy(st, ctx)
                 : st.fused    ? run_fused(*st.fused, ctx, extra)
                 : st.gemm   ? run_gemm_acc(*st.gemm, ctx)
                 : st.slices ? run_slice_sum(*st.slices, ctx)
                 : st.sepconv ? run_separable(*st.sepconv, ctx)
                             : op.forward(ctx);
    for (size_t k = 0; k < ctx.in.size(); ++k)
      if (st.hand_over[k]) alloc_.release(std::move(ctx.in[k]));
    slots_[st.out[0]] = std::move(out);
    for (size_t k = 0; k < extra.size(); ++k) slots_[st.out[k + 1]] = std::move(extra[k]);
    ctx.in.clear();
    st.scratch = std::move(ctx.in);
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

void Plan::load_feeds(std::vector<Tensor>& feeds) {
  if (feeds.size() != feeds_.size())
    throw ValueError("[function] expected " + std::to_string(feeds_.size()) + " input values, got " + std::to_string(feeds.size()));
  slots_.clear();  // empty unless a call failed; default values, not copies of one (the cheaper fill)
  slots_.resize(nslots_);
  for (size_t i = 0; i < feeds.size(); ++i) {
    const TypeInfo& p = feeds_[i]->type(feeds_[i].index());  // no copy: this runs per call
    Tensor& v = feeds[i];
    bool ok = !p.rank_known || v.ndim() == p.ndim();
    for (int d = 0; ok && p.rank_known && d < p.ndim(); ++d) ok = p.shape[d] < 0 || p.shape[d] == v.shape()[d];
    if (!ok)
      throw ValueError("[function] input " + std::to_string(i) + " ('" + feeds_[i]->name + "') expects shape " +
                       shape_str(p.shape) + ", got a value of shape " + shape_str(v.shape()));
    if (feed_slot_[i] < 0) continue;
    if (v.dtype() == p.dtype && v.is_sparse() == p.sparse) slots_[feed_slot_[i]] = std::move(v);
    else slots_[feed_slot_[i]] = match_sparsity(v.astype(p.dtype), p.sparse);
  }
}

// Constants and variables into their slots; a variable this plan updates is already locked.
void Plan::load_leaves() {
  for (const Leaf& l : leaves_) {
    if (l.node->kind != NodeKind::variable) {
      slots_[l.slot] = l.node->value;
    } else if (l.held) {
      slots_[l.slot] = l.node->var->value;
    } else {
      std::lock_guard<ForkAwareMutex> lk(l.node->var->mu);
      slots_[l.slot] = l.node->var->value;
    }
  }
}

// The staged updates become the variables' values (the caller holds their locks).
void Plan::commit_updates() {
  std::vector<Tensor> replaced;
  for (auto& [var, s] : last_update_) {
    replaced.push_back(std::move(var->var->value));
    var->var->value = slots_[s];
  }
  // A replaced value nobody else holds serves the next call's new values (warm pages, no
  // allocation): release() keeps only buffers this was the last reference to.
  for (Tensor& t : replaced) alloc_.release(std::move(t));
}

void Plan::run(std::vector<Tensor>& feeds, std::vector<Tensor>& outs) {
  load_feeds(feeds);
  std::vector<std::unique_lock<ForkAwareMutex>> locks;
  locks.reserve(locked_.size());
  for (Node* v : locked_) locks.emplace_back(v->var->mu);
  load_leaves();
  skipped_.assign(steps_.size(), 0);
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& st = steps_[i];
    if (st.guards.empty() || !skip_step(st)) {
      if (st.shape_only) run_shape_step(st);
      else run_step(st);
      continue;
    }
    skipped_[i] = 1;
    if (st.node->op->flags & kRandom) st.node->eval_count.fetch_add(1);  // later draws as if it ran
    for (size_t k = 0; k < st.in.size(); ++k)
      if (st.hand_over[k]) alloc_.release(std::move(slots_[st.in[k]]));
  }
  outs.clear();
  outs.reserve(out_slot_.size());
  for (size_t i = 0; i < out_slot_.size(); ++i) {
    Tensor& t = slots_[out_slot_[i]];
    if (t.storage()->borrowed()) outs.push_back(t.clone());  // never hand back the caller's memory
    else outs.push_back(out_move_[i] ? std::move(t) : t);
  }
  if (!last_update_.empty()) commit_updates();  // under the locks taken above
  slots_.clear();
}

}  // namespace keras_cpp
