// keras_cpp/autodiff.h — reverse-mode gradients as graph nodes (so they differentiate again).
#pragma once
#include <vector>

#include "expr.h"

namespace keras_cpp {

// d(sum(loss))/d(wrt[i]) for each i; an undefined Expr where loss does not depend on wrt[i]
// (or only through non-differentiable ops), as Keras's optimizers expect (TF returns None).
std::vector<Expr> gradients(const Expr& loss, const std::vector<Expr>& wrt);
// The vector-Jacobian product: sum over k of grad_ys[k] (an undefined entry: none) pulled back
// through ys[k] to each wrt[i]; the cotangents seed the outputs directly (no loss is built, so
// the outputs' own values are not needed unless their VJPs read them).
std::vector<Expr> gradients(const std::vector<Expr>& ys, const std::vector<Expr>& grad_ys, const std::vector<Expr>& wrt);

}  // namespace keras_cpp
