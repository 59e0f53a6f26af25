// cpp/exec/fuse.cpp — the elementwise fusion pass over a plan's steps (exec/fuse.h).
//
// Steps are visited from the last to the first: a fusable step joins the group of its readers
// when all of them are in one group, its result is not pinned, and its static shape is the
// group's (so no intermediate is broadcast); otherwise it starts a group. A group runs at its
// root's position, which comes after every member, so all its inputs exist by then. Only pure
// steps fuse, so moving a member's work to the root changes nothing that another step sees.
#include "exec/fuse.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace keras_cpp {
namespace {

using Form = OpDef::EwForm;
constexpr int kMaxMembers = 48;  // bounds the registers a block needs
constexpr int kMaxExtra = 8;     // extra results per group

const TypeInfo& input_type(const Node* n, size_t k) { return n->inputs[k]->type(n->inputs[k].index()); }

bool is_comparison(uint8_t code) {
  using B = ew::BinaryOp;
  const B op = static_cast<B>(code);
  return op == B::equal || op == B::not_equal || op == B::greater || op == B::greater_equal || op == B::less ||
         op == B::less_equal;
}

// The op's forward would run exactly this kernel on these dtypes (no promotion, no float16
// detour, no sparse values): only then does the fused block give the same bits.
bool fusable(const Step& st) {
  if (st.gemm || st.fused || st.slices || st.sepconv || st.shape_only) return false;  // already a fused step (exec/fuse_gemm.cpp, fuse_slices.cpp)
  const Node* n = st.node;
  const OpDef& op = *n->op;
  if (op.ew.kind == Form::none || n->num_outputs() != 1 || !op.forward || (op.flags & (kAssign | kRandom | kStateful)))
    return false;
  const TypeInfo& o = n->type(0);
  if (!o.rank_known || o.sparse) return false;
  std::vector<DType> in;
  for (size_t k = 0; k < n->inputs.size(); ++k) {
    const TypeInfo& t = input_type(n, k);
    if (!t.rank_known || t.sparse || t.ndim() > o.ndim()) return false;
    in.push_back(t.dtype);
  }
  if (in.empty()) return false;
  const DType kt = in[0] == DType::float16 ? DType::float32 : in[0];  // float16 is computed in float32
  switch (op.ew.kind) {
    case Form::unary:
      return in.size() == 1 && in[0] == o.dtype && ew::unary(static_cast<ew::UnaryOp>(op.ew.code), kt);
    case Form::binary:
      return in.size() == 2 && in[0] == in[1] && (o.dtype == in[0] || (is_comparison(op.ew.code) && o.dtype == DType::bool_)) &&
             ew::binary(static_cast<ew::BinaryOp>(op.ew.code), kt);
    case Form::select:
      return in.size() == 3 && in[0] == DType::bool_ && in[1] == o.dtype && in[2] == o.dtype;
    case Form::cast:
      return in.size() == 1;
    default:
      return false;
  }
}

fused::Instr make_instr(const Node* n, const std::vector<int>& args) {
  fused::Instr in;
  const Form& f = n->op->ew;
  in.kind = f.kind == Form::unary ? fused::Kind::unary
          : f.kind == Form::binary ? fused::Kind::binary
          : f.kind == Form::select ? fused::Kind::select : fused::Kind::cast;
  in.code = f.code;
  in.dtype = input_type(n, f.kind == Form::select ? 1 : 0).dtype;
  in.out = n->type(0).dtype;
  for (size_t k = 0; k < args.size(); ++k) in.arg[k] = args[k];
  return in;
}

// The program of one group (members in plan order); in_slots gets the slots it reads, out_slots
// the extra members' result slots (after the root's).
std::shared_ptr<FusedStep> build_group(const std::vector<Step>& steps, const std::vector<int>& members,
                                       const std::vector<char>& extra, std::vector<int>& in_slots, std::vector<int>& out_slots) {
  auto f = std::make_shared<FusedStep>();
  std::unordered_map<int, int> made;  // slot -> member that makes it
  for (int i : members) {
    const Step& st = steps[i];
    std::vector<int> args;
    for (size_t k = 0; k < st.in.size(); ++k) {
      const int s = st.in[k];
      auto it = made.find(s);
      if (it != made.end()) {
        args.push_back(it->second);
        continue;
      }
      auto pos = std::find(in_slots.begin(), in_slots.end(), s);
      if (pos == in_slots.end()) {
        in_slots.push_back(s);
        f->in_dtype.push_back(input_type(st.node, k).dtype);
        pos = in_slots.end() - 1;
      }
      args.push_back(fused::input_arg(static_cast<int>(pos - in_slots.begin())));
    }
    made[st.out[0]] = static_cast<int>(f->members.size());
    if (extra[i]) {
      f->extra.push_back(static_cast<int>(f->members.size()));
      out_slots.push_back(st.out[0]);
    }
    f->prog.code.push_back(make_instr(st.node, args));
    f->members.push_back(st.node);
    f->args.push_back(std::move(args));
  }
  f->prog.ninputs = static_cast<int>(in_slots.size());
  f->prog.extra = f->extra;
  f->prog.prepare();
  return f;
}

// The group step i joins (-1: it starts one): that of its readers when they are in one group, or
// of its first grouped reader when the other readers come after that group's root (which
// produces all the group's results; `extra` is then set, as when the result is pinned).
int join_group(int i, const std::vector<Step>& steps, const std::vector<int>& readers, const std::vector<int>& group,
               const std::vector<std::vector<int>>& members, bool pinned, bool& extra) {
  int g = -1;
  for (int r : readers)
    if (group[r] >= 0) {
      g = group[r];
      break;
    }
  if (g < 0) return -1;
  const int root = members[g].front();
  if (steps[i].node->type(0).shape != steps[root].node->type(0).shape || members[g].size() >= kMaxMembers) return -1;
  extra = pinned;
  for (int r : readers) {
    if (group[r] == g) continue;
    if (r <= root) return -1;  // read before the group runs
    extra = true;
  }
  return g;
}

// Which group each step belongs to (-1: none), visiting readers before the steps they read;
// `extra`: the members that are also results of their group's step.
std::vector<int> assign_groups(const std::vector<Step>& steps, const std::vector<char>& pinned, int nslots,
                               std::vector<std::vector<int>>& members, std::vector<char>& extra) {
  const int n = static_cast<int>(steps.size());
  const std::vector<std::vector<int>> readers = step_readers(steps, nslots);
  std::vector<int> group(n, -1), nextra;
  extra.assign(n, 0);
  for (int i = n - 1; i >= 0; --i) {
    if (!fusable(steps[i])) continue;
    const int s = steps[i].out[0];
    bool x = false;
    int g = join_group(i, steps, readers[s], group, members, pinned[s] != 0, x);
    if (g >= 0 && x && nextra[g] >= kMaxExtra) g = -1;
    if (g < 0) {
      g = static_cast<int>(members.size());
      members.emplace_back();
      nextra.push_back(0);
      x = false;
    }
    group[i] = g;
    extra[i] = x;
    nextra[g] += x;
    members[g].push_back(i);  // root first, then members in reverse plan order
  }
  return group;
}

bool broadcast_into(const Shape& a, const Shape& b, Shape& out) {
  const size_t n = std::max(a.size(), b.size());
  out.assign(n, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x != y && x != 1 && y != 1) return false;
    out[i] = x == 1 ? y : x;
  }
  return true;
}

// The run-time shape every member has (false: a member's shape differs or a dtype is not the
// planned one; the members then run one by one).
bool fits(const FusedStep& f, const std::vector<Tensor>& in, Shape& shape) {
  for (size_t k = 0; k < in.size(); ++k)
    if (in[k].dtype() != f.in_dtype[k] || in[k].is_sparse()) return false;
  std::vector<Shape> shp(f.members.size());
  for (size_t j = 0; j < f.members.size(); ++j) {
    const std::vector<int>& a = f.args[j];
    shp[j] = a[0] < 0 ? in[-a[0] - 1].shape() : shp[a[0]];
    for (size_t k = 1; k < a.size(); ++k) {
      Shape t;
      if (!broadcast_into(shp[j], a[k] < 0 ? in[-a[k] - 1].shape() : shp[a[k]], t)) return false;
      shp[j] = std::move(t);
    }
  }
  shape = shp.back();
  for (const Shape& s : shp)
    if (s != shape) return false;
  return true;
}

Tensor run_members(const FusedStep& f, KernelCtx& ctx, std::vector<Tensor>& extra) {
  std::vector<Tensor> vals(f.members.size());
  for (size_t j = 0; j < f.members.size(); ++j) {
    KernelCtx c{*f.members[j], {}, ctx.alloc};
    for (int a : f.args[j]) c.in.push_back(a < 0 ? ctx.in[-a - 1] : vals[a]);
    vals[j] = f.members[j]->op->forward(c);
  }
  for (int j : f.extra) extra.push_back(vals[j]);
  return vals.back();
}

bool reusable(const Tensor& x, const Shape& shape, DType dtype) {
  const auto& s = x.storage();
  return s && s->owned() && s.use_count() == 1 && x.dtype() == dtype && x.shape() == shape && x.is_contiguous() &&
         x.offset() == 0;
}

}  // namespace

bool fusion_enabled() {
  const char* e = std::getenv("KERAS_CPP_FUSION");
  return !(e && std::strcmp(e, "0") == 0);
}

void fuse_elementwise(std::vector<Step>& steps, const std::vector<char>& pinned, int nslots) {
  std::vector<std::vector<int>> members;
  std::vector<char> extra;
  const std::vector<int> group = assign_groups(steps, pinned, nslots, members, extra);
  std::vector<Step> out;
  out.reserve(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    const int g = group[i];
    if (g < 0 || members[g].size() < 2) {
      out.push_back(std::move(steps[i]));
      continue;
    }
    if (static_cast<int>(i) != members[g].front()) continue;  // runs with its root
    std::vector<int> order(members[g].rbegin(), members[g].rend());
    Step st{steps[i].node, {}, {}, steps[i].out, {}, nullptr};
    st.fused = build_group(steps, order, extra, st.in, st.out);
    out.push_back(std::move(st));
  }
  steps.swap(out);
}

Tensor run_fused(const FusedStep& f, KernelCtx& ctx, std::vector<Tensor>& extra) {
  Shape shape;
  if (!fits(f, ctx.in, shape)) return run_members(f, ctx, extra);
  const DType od = f.prog.code.back().out;
  Tensor out;
  for (size_t k = 0; k < ctx.in.size() && !out.defined(); ++k)
    if (reusable(ctx.in[k], shape, od)) out = ctx.alloc_like_input(static_cast<int>(k), shape, od);
  if (!out.defined()) out = ctx.alloc_tensor(shape, od);
  for (int j : f.extra) extra.push_back(ctx.alloc_tensor(shape, f.prog.code[j].out));  // fresh: never an input's buffer
  fused::run(f.prog, ctx.in, out, extra);
  return out;
}

}  // namespace keras_cpp
