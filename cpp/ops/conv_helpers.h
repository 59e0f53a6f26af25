// cpp/ops/conv_helpers.h — static checks and node builders shared by conv_primitives.cpp,
// conv.cpp and pool.cpp (shape rules of backend_api.md section 11).
#pragma once
#include <string>
#include <vector>

#include "ops/conv_kernels.h"
#include "ops/helpers.h"
#include "ops/registry.h"

namespace keras_cpp {

// Output length of spatial dim i (attrs strides, dilation, padding); -1 when n is unknown.
// ValueError when a valid/causal window does not fit in the input.
inline int64_t conv_out_len(const std::string& op, int64_t n, int64_t k, const Attrs& a, int i) {
  if (k < 0) return kUnknownDim;
  const int64_t s = a.ints("strides")[i], d = a.has("dilation") ? a.ints("dilation")[i] : 1;
  int64_t out, pb, pa;
  conv_dim(n, k, s, d, a.s("padding"), out, pb, pa);
  if (n >= 0 && a.s("padding") != "same" && n + pb < (k - 1) * d + 1)  // conv_dim checked these sums
    fail_value(op, "spatial dimension " + std::to_string(i) + " of size " + std::to_string(n) +
                       " is smaller than the (dilated) window " + std::to_string((k - 1) * d + 1) + " with padding '" +
                       a.s("padding") + "'");
  return out;
}

// Ranks, channel counts and dtypes of a channels_last x and a kernel (k..., in/groups, out).
inline void check_conv_inputs(const std::string& op, const TypeInfo& x, const TypeInfo& w, int nsp, int64_t groups) {
  if (x.ndim() != nsp + 2) fail_value(op, "x must have rank " + std::to_string(nsp + 2) + ", got shape " + shape_str(x.shape));
  if (w.ndim() != nsp + 2) fail_value(op, "kernel must have rank " + std::to_string(nsp + 2) + ", got shape " + shape_str(w.shape));
  int64_t c = x.shape.back(), ci = w.shape[nsp], co = w.shape[nsp + 1];
  if (c >= 0 && ci >= 0 && ci * groups != c)
    fail_value(op, "kernel " + shape_str(w.shape) + " expects " + std::to_string(ci * groups) + " input channels but x " +
                       shape_str(x.shape) + " has " + std::to_string(c));
  if (co >= 0 && co % groups) fail_value(op, "kernel output channels " + std::to_string(co) + " not divisible by groups");
  if (!is_floating(x.dtype)) fail_type(op, std::string("expected float tensors, got ") + dtype_name(x.dtype));
  if (x.dtype != w.dtype)
    fail_type(op, std::string("x and kernel have different dtypes: ") + dtype_name(x.dtype) + " and " + dtype_name(w.dtype));
}

// A transposed conv producing length n from length m must be consistent: conv(n) == m.
inline void check_transpose_len(const std::string& op, int64_t n, int64_t m, int64_t k, const Attrs& a, int i) {
  if (n < 0 || m < 0 || k < 0) return;
  int64_t s = a.ints("strides")[i], d = a.has("dilation") ? a.ints("dilation")[i] : 1, out, pb, pa;
  conv_dim(n, k, s, d, a.s("padding"), out, pb, pa);
  if (a.s("padding") != "same" && n + pb < (k - 1) * d + 1) out = -1;
  if (out != m)
    fail_value(op, "output_shape spatial dim " + std::to_string(i) + " = " + std::to_string(n) + " is inconsistent with x: a '" +
                       a.s("padding") + "' convolution (kernel " + std::to_string(k) + ", stride " + std::to_string(s) +
                       ") of length " + std::to_string(n) + " gives " + std::to_string(out) + ", but x has " + std::to_string(m));
}

// The attrs the conv primitives share (drops per-op extras such as in_shape and kshape).
inline Attrs conv_attrs_of(const Attrs& a) {
  Attrs b;
  for (const char* k : {"op", "strides", "dilation", "padding", "groups"}) b.set(k, a.get(k));
  return b;
}

// The Keras function a conv primitive came from (for messages), or the primitive's own name.
inline std::string conv_op_name(const Attrs& a, const char* primitive) { return a.has("op") ? a.s("op") : primitive; }

// Run-time checks of a convolution's input x against its kernel shape (k..., C/groups, Cout):
// what the static checks could not see when dims were unknown. `what` names the kernel.
inline void check_conv_run(const std::string& op, const Shape& x, const Shape& w, int64_t groups, const Attrs& a,
                           const char* what = "kernel") {
  const int nsp = static_cast<int>(a.ints("strides").size());
  if (static_cast<int>(x.size()) != nsp + 2)
    fail_value(op, "x must have rank " + std::to_string(nsp + 2) + ", got a value of shape " + shape_str(x));
  const int64_t want = w[nsp] * groups;
  if (x.back() != want)
    fail_value(op, std::string(what) + " " + shape_str(w) + (groups > 1 ? " in " + std::to_string(groups) + " groups" : "") +
                       " expects " + std::to_string(want) + " input channels but x " + shape_str(x) + " has " +
                       std::to_string(x.back()) + " (channels_last at this point)");
  for (int i = 0; i < nsp; ++i) conv_out_len(op, x[1 + i], w[i], a, i);  // raises when a window does not fit
}

// The spatial dims of x: ints when static, else scalar tensors read from shape(x) at run time.
inline std::vector<Value> spatial_values(const Expr& x) {
  std::vector<Value> v;
  for (int i = 1; i + 1 < x.ndim(); ++i) v.push_back(dim_value(x, i));
  return v;
}

// The conv primitives' nodes (conv_primitives.cpp).
Expr conv_node(const Expr& x, const Expr& kernel, const Attrs& a);  // `_conv`
// The forward of depthwise `_conv` dw (multiplier 1) then 1x1 `_conv` pw on ctx.in = [x, dw
// kernel, pw kernel] in one pass (exec/fuse_conv.cpp); false when the run-time values do not fit.
bool separable_fused_forward(KernelCtx& ctx, const Node& dw, const Node& pw, Tensor& out);
Expr im2col_node(const Expr& x, const Attrs& a);                    // `_im2col`
// `_conv_grad_input` node: input spatial sizes given as ints or scalar tensors.
Expr conv_grad_input_node(const Expr& g, const Expr& w, const std::vector<Value>& spatial, const Attrs& a);

}  // namespace keras_cpp
