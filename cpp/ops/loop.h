// cpp/ops/loop.h — what the loop ops (map_fn, foldl, foldr) share between their forward file
// (control_flow.cpp) and their gradient file (control_flow_grad.cpp).
//
// A loop node's attrs: mode ("map" | "foldl" | "foldr"); body = [params..., captured
// placeholders..., out], a closed graph (it reads nothing but its placeholders and constants);
// nparams (map 1: element; fold 2: accumulator, element); cache (the compiled body).
// Its inputs: map [elems, captured...]; fold [elems, init, captured...], so input k feeds body
// placeholder k, except that elems is fed one row at a time.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
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
inline bool loop_is_fold(const Node& n) { return n.attrs.s("mode") != "map"; }
inline size_t loop_first_captured(const Node& n) { return loop_is_fold(n) ? 2 : 1; }
const char* loop_name(const Node& n);  // "map_fn", "foldl" or "foldr" (for errors)

// Row i of t along axis 0, as a view (writable when t is a fresh buffer).
Tensor loop_row(const Tensor& t, int64_t i);
// Element index processed at step t of a fold of `len` elements.
int64_t fold_index(const Node& n, int64_t t, int64_t len);
// Run a fold over in = [elems, init, captured...]; with `trace`, also keep the accumulator
// before each step (trace[t]).
Tensor run_fold(const Node& n, Function& body, const std::vector<Tensor>& in, std::vector<Tensor>* trace);

// The loop op's VJP (control_flow_grad.cpp).
std::vector<Expr> loop_grad(const Expr& y, const Expr& g);

}  // namespace keras_cpp
