// cpp/ops/loop.h — what the loop ops (map_fn, foldl, foldr, rnn's scan) share between their
// forward files (control_flow.cpp, rnn.cpp) and their gradient file (control_flow_grad.cpp).
//
// A loop node's attrs: mode ("map" | "foldl" | "foldr" | "scan"); body = [params..., captured
// placeholders..., outs...], a closed graph (it reads nothing but its placeholders and constants);
// nparams (map 1: element; fold 2: accumulator, element); nouts (default 1). Its inputs: map
// [elems, captured...]; fold [elems, init, captured...]; scan [seqs..., inits..., captured...],
// so input k feeds body placeholder k, except that elems/seqs are fed one slice at a time. The
// scan layout and results are in rnn.cpp.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "keras_cpp/function.h"
#include "ops/registry.h"

namespace keras_cpp {

// The compiled body (and, for a gradient node, its compiled VJP) of one loop node: the node's
// KernelState, so it is compiled on the plan's first run and lives as long as that plan.
struct LoopState : KernelState {
  std::unique_ptr<Function> fwd, bwd;
};
// The node's body function (built by `make` on first use).
Function& loop_function(KernelCtx& ctx, bool backward, const std::function<Function*()>& make);
// Compile the body: (params..., captured placeholders...) -> outs.
Function* compile_loop_body(const Node& n);

std::vector<Expr> loop_body(const Node& n);  // attrs "body" as Exprs
inline size_t loop_nouts(const Node& n) { return static_cast<size_t>(n.attrs.i("nouts", 1)); }
std::vector<Expr> loop_body_inputs(const Node& n);   // params and captured placeholders
std::vector<Expr> loop_body_outputs(const Node& n);  // the last nouts body entries
inline bool loop_is_fold(const Node& n) { return n.attrs.s("mode") == "foldl" || n.attrs.s("mode") == "foldr"; }
inline size_t loop_first_captured(const Node& n) { return loop_is_fold(n) ? 2 : 1; }
const char* loop_name(const Node& n);  // "map_fn", "foldl", "foldr" or "rnn" (for errors)

// Slice i of t along `axis` (that axis dropped), as a view (writable when t is a fresh buffer).
Tensor loop_slice(const Tensor& t, int axis, int64_t i);
inline Tensor loop_row(const Tensor& t, int64_t i) { return loop_slice(t, 0, i); }
// Build a loop node of op `op`: traces `outs` back to `params` (the placeholders the callable
// was traced on), closes the body (outer tensors it reads become extra inputs, fed to captured
// placeholders) and sets body/nparams/nouts on top of `attrs`.
Expr make_loop_node(const OpDef& op, Attrs attrs, std::vector<Expr> inputs, const std::vector<Expr>& params,
                    const std::vector<Expr>& outs);
// Copy the graph of `outs` with the leaves in `remap` replaced (remap gains the copies).
std::vector<Expr> clone_graph(const std::vector<Expr>& outs, std::unordered_map<Expr, Expr, ExprHash>& remap);
// Element index processed at step t of a fold of `len` elements.
int64_t fold_index(const Node& n, int64_t t, int64_t len);
// Run a fold over in = [elems, init, captured...]; with `trace`, also keep the accumulator
// before each step (trace[t]).
Tensor run_fold(const Node& n, Function& body, const std::vector<Tensor>& in, std::vector<Tensor>* trace);

// The scan loop's layout attrs (rnn.cpp): seqs sliced along `axis`, processed last to first
// when `reverse`; nstack per-step outputs stacked along `axis` in processing order. Its results:
// [stacked (nstack)..., final carries (ncarry)..., traces (ncarry)...], where trace c is
// (steps, carry c's shape): carry c before each step, kept for the backward pass.
struct ScanLayout {
  int axis;
  bool reverse;
  size_t nseq, ncarry, nstack;
};
ScanLayout scan_layout(const Node& n);
// rnn's build-time rewrites of a new scan node (ops/rnn_plan.cpp): input products hoisted out of
// the loop, weights marked for packing and, unless `unrolled`, attr "saved" = the body results its VJP reads (kept per
// step as extra results after the traces, so BPTT does not recompute the step).
Expr plan_scan(const Expr& loop, bool unrolled);
// The `_scan` op (registered in rnn.cpp), for the rewrites that rebuild a scan node.
const OpDef& scan_op();
inline size_t scan_nsaved(const Node& n) { return n.attrs.has("saved") ? n.attrs.get("saved").list.size() : 0; }

// The loop ops' VJPs (control_flow_grad.cpp): one gradient node with a result per input that
// gets a gradient.
std::vector<Expr> loop_grad(const std::shared_ptr<Node>& n, const std::vector<Expr>& g);
std::vector<Expr> scan_grad(const std::shared_ptr<Node>& n, const std::vector<Expr>& g);

}  // namespace keras_cpp
