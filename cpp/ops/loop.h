// cpp/ops/loop.h — what the loop ops (map_fn, foldl, foldr, rnn's scan) share between their
// forward files (control_flow.cpp, rnn.cpp) and their gradient file (control_flow_grad.cpp).
//
// A loop node's attrs: mode ("map" | "foldl" | "foldr" | "scan"); body = [params..., captured
// placeholders..., outs...], a closed graph (it reads nothing but its placeholders and constants);
// nparams (map 1: element; fold 2: accumulator, element); nouts (default 1); cache (the
// compiled body). Its inputs: map [elems, captured...]; fold [elems, init, captured...]; scan
// [seqs..., inits..., captured...], so input k feeds body placeholder k, except that elems/seqs
// are fed one slice at a time. The scan layout is in rnn.cpp.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "keras_cpp/function.h"
#include "ops/registry.h"

namespace keras_cpp {

// The compiled functions of one loop node. It rides in the node's attrs as a Tensor-kind value
// (a Node subclass), so it lives exactly as long as the node and needs no global table.
struct LoopCache : Node {
  std::mutex mu;
  std::unique_ptr<Function> fwd, bwd;
};

Value new_loop_cache();
// The node's cached function (built by `make` on first use; thread-safe).
Function& loop_function(const Node& n, bool backward, const std::function<Function*()>& make);
// Compile the body: (params..., captured placeholders...) -> out.
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
// placeholders) and sets body/nparams/nouts/cache on top of `attrs`.
Expr make_loop_node(const std::string& op, Attrs attrs, std::vector<Expr> inputs, const std::vector<Expr>& params,
                    const std::vector<Expr>& outs);
// Copy the graph of `outs` with the leaves in `remap` replaced (remap gains the copies).
std::vector<Expr> clone_graph(const std::vector<Expr>& outs, std::unordered_map<Node*, Expr>& remap);
// Element index processed at step t of a fold of `len` elements.
int64_t fold_index(const Node& n, int64_t t, int64_t len);
// Run a fold over in = [elems, init, captured...]; with `trace`, also keep the accumulator
// before each step (trace[t]).
Tensor run_fold(const Node& n, Function& body, const std::vector<Tensor>& in, std::vector<Tensor>* trace);

// The scan loop's layout attrs (rnn.cpp): seqs sliced along `axis`, processed last to first
// when `reverse`; nstack per-step outputs stacked along `axis` in processing order.
struct ScanLayout {
  int axis;
  bool reverse;
  size_t nseq, ncarry, nstack;
};
ScanLayout scan_layout(const Node& n);
// Index of the run-time tuple item holding carry c before step t (the forward's trace).
inline size_t scan_trace_item(const ScanLayout& L, int64_t t, size_t c) {
  return L.nstack + L.ncarry + static_cast<size_t>(t) * L.ncarry + c;
}

// The loop ops' VJPs (control_flow_grad.cpp).
std::vector<Expr> loop_grad(const Expr& y, const Expr& g);
std::vector<Expr> scan_grad(const Expr& y, const Expr& g);

}  // namespace keras_cpp
