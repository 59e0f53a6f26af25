// cpp/ops/conv.cpp — Keras's convolution functions (conv1d/2d/3d, transposed, depthwise,
// separable, local) as composites over the channels_last primitives of conv_primitives.cpp.
// channels_first is a permute around the primitive. Pooling lives in pool.cpp.
#include <cctype>

#include "keras_cpp/config.h"
#include "ops/conv_helpers.h"
#include "ops/helpers.h"

namespace keras_cpp {

void register_conv_primitives();  // conv_primitives.cpp

namespace {

using Ints = std::vector<int64_t>;


std::string fmt_arg(const std::string& op, const Value& v) {
  std::string f = v.is_none() ? config::image_data_format() : v.s;
  for (auto& ch : f) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (f != "channels_last" && f != "channels_first")
    fail_value(op, "Unknown data_format: '" + f + "' (expected 'channels_last' or 'channels_first')");
  return f;
}

std::string padding_arg(const std::string& op, const std::string& p, bool causal_ok) {
  if (p == "valid" || p == "same" || (causal_ok && p == "causal")) return p;
  fail_value(op, "Invalid padding: '" + p + "' (expected " + (causal_ok ? "'valid', 'same' or 'causal'" : "'valid' or 'same'") + ")");
}

// An int or a tuple of n positive ints (Keras accepts both for strides and rates).
Ints tuple_arg(const std::string& op, const std::string& name, const Value& v, int n) {
  Ints r;
  if (v.kind == Value::Int) r.assign(n, v.i);
  else if (v.kind == Value::Ints) r = v.ints;
  else if (v.kind == Value::List) {
    for (auto& e : v.list) {
      if (e.kind != Value::Int) fail_type(op, "'" + name + "' must hold ints, got " + v.repr());
      r.push_back(e.i);
    }
  } else {
    fail_type(op, "'" + name + "' must be an int or a tuple of " + std::to_string(n) + " ints, got " + v.repr());
  }
  if (static_cast<int>(r.size()) != n)
    fail_value(op, "'" + name + "' must have " + std::to_string(n) + " entries, got " + v.repr());
  for (int64_t e : r)
    if (e < 1) fail_value(op, "'" + name + "' entries must be >= 1, got " + v.repr());
  return r;
}

void check_rank(const std::string& op, const char* what, const Expr& t, int rank) {
  if (t.ndim() != rank)
    fail_value(op, std::string(what) + " must have rank " + std::to_string(rank) + ", got shape " + shape_str(t.shape()));
}

// channels_first <-> channels_last around the primitives.
Expr to_last(const Expr& x, const std::string& fmt) {
  if (fmt == "channels_last") return x;
  Ints p{0};
  for (int i = 2; i < x.ndim(); ++i) p.push_back(i);
  p.push_back(1);
  return permute_dimensions(x, p);
}

Expr from_last(const Expr& y, const std::string& fmt) {
  if (fmt == "channels_last") return y;
  Ints p{0, y.ndim() - 1};
  for (int i = 1; i < y.ndim() - 1; ++i) p.push_back(i);
  return permute_dimensions(y, p);
}

void check_channels(const std::string& op, const Expr& x, const Expr& xl, const Expr& w, int64_t want,
                    const std::string& fmt, const char* what = "kernel") {
  int64_t c = xl.shape().back();
  if (c >= 0 && want >= 0 && c != want)
    fail_value(op, std::string(what) + " " + shape_str(w.shape()) + " expects " + std::to_string(want) + " input channels but x " +
                       shape_str(x.shape()) + " has " + std::to_string(c) + " (data_format='" + fmt + "')");
}

// The primitive's attrs; `op` is the Keras function, named in the run-time errors of the primitive
// and its gradients.
Attrs conv_attrs(const std::string& op, const Ints& strides, const Ints& dilation, const std::string& padding, int64_t groups) {
  Attrs a;
  a.set("op", Value(op));
  a.set("strides", Value(strides));
  a.set("dilation", Value(dilation));
  a.set("padding", Value(padding));
  a.set("groups", Value(groups));
  return a;
}

// A 1x1 unit-stride convolution of channels_first x is, per sample, W^T (Cout x C) times x seen
// as a C x (spatial) matrix: one batched product, no transposes of x or y. Only when x's channel
// count is known here (else the channels_last primitive checks it at run time). Null otherwise.
Expr pointwise_channels_first(const Expr& x, const Expr& w, const Ints& st, const std::string& fmt) {
  const int nsp = x.ndim() - 2;
  if (fmt != "channels_first" || !shape_known(w.shape()) || x.shape()[1] < 0) return Expr();
  for (int i = 0; i < nsp; ++i)
    if (w.shape()[i] != 1 || st[i] != 1) return Expr();
  const int64_t C = w.shape()[nsp], Cout = w.shape()[nsp + 1];
  Expr wt = permute_dimensions(reshape(w, {C, Cout}), {1, 0});
  Expr x3 = reshape_to(x, {dim_value(x, 0), Value(C), Value(int64_t(-1))});
  std::vector<Value> out{dim_value(x, 0), Value(Cout)};
  for (int i = 2; i < x.ndim(); ++i) out.push_back(dim_value(x, i));
  return reshape_to(matmul(wt, x3), out);
}

// conv1d/2d/3d(x, kernel, strides, padding, data_format, dilation_rate).
Expr conv_build(const std::string& op, int nsp, std::vector<Value>& a) {
  Expr x(a[0].t), w(a[1].t);
  std::string fmt = fmt_arg(op, a[4]), pad = padding_arg(op, a[3].s, nsp == 1);
  if (pad == "causal" && fmt == "channels_first")
    fail_value(op, "padding='causal' is only supported with data_format='channels_last'");
  Ints st = tuple_arg(op, "strides", a[2], nsp), dl = tuple_arg(op, "dilation_rate", a[5], nsp);
  check_rank(op, "x", x, nsp + 2);
  check_rank(op, "kernel", w, nsp + 2);
  Expr xl = to_last(x, fmt);
  check_channels(op, x, xl, w, w.shape()[nsp], fmt);
  if (Expr y = pointwise_channels_first(x, w, st, fmt); y.defined()) return y;
  return from_last(conv_node(xl, w, conv_attrs(op, st, dl, pad, 1)), fmt);
}

// Depthwise kernel (k..., C, mult) as a grouped conv: kernel (k..., 1, C*mult) with C groups,
// so output channel c*mult + m is group c's m-th filter.
Expr depthwise_node(const std::string& op, const Expr& x, const Expr& xl, const Expr& dk, const Ints& st, const Ints& dl,
                    const std::string& pad, const std::string& fmt) {
  const int nsp = xl.ndim() - 2;
  check_rank(op, "depthwise_kernel", dk, nsp + 2);
  check_channels(op, x, xl, dk, dk.shape()[nsp], fmt, "depthwise_kernel");
  if (!shape_known(dk.shape())) fail_value(op, "depthwise_kernel shape must be known, got " + shape_str(dk.shape()));
  Shape ks(dk.shape().begin(), dk.shape().end() - 2);
  int64_t c = dk.shape()[nsp], m = dk.shape()[nsp + 1];
  ks.push_back(1);
  ks.push_back(c * m);
  return conv_node(xl, reshape(dk, ks), conv_attrs(op, st, dl, pad, c));
}

Expr depthwise_build(const std::string& op, std::vector<Value>& a) {
  Expr x(a[0].t), dk(a[1].t);
  std::string fmt = fmt_arg(op, a[4]), pad = padding_arg(op, a[3].s, false);
  Ints st = tuple_arg(op, "strides", a[2], 2), dl = tuple_arg(op, "dilation_rate", a[5], 2);
  check_rank(op, "x", x, 4);
  return from_last(depthwise_node(op, x, to_last(x, fmt), dk, st, dl, pad, fmt), fmt);
}

// separable_conv1d/2d(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate).
Expr separable_build(const std::string& op, int nsp, std::vector<Value>& a) {
  Expr x(a[0].t), dk(a[1].t), pk(a[2].t);
  std::string fmt = fmt_arg(op, a[5]), pad = padding_arg(op, a[4].s, false);
  Ints st = tuple_arg(op, "strides", a[3], nsp), dl = tuple_arg(op, "dilation_rate", a[6], nsp);
  check_rank(op, "x", x, nsp + 2);
  check_rank(op, "pointwise_kernel", pk, nsp + 2);
  for (int i = 0; i < nsp; ++i)
    if (pk.shape()[i] != 1) fail_value(op, "pointwise_kernel must be 1x1, got shape " + shape_str(pk.shape()));
  Expr xl = to_last(x, fmt);
  Expr d = depthwise_node(op, x, xl, dk, st, dl, pad, fmt);
  if (pk.shape()[nsp] >= 0 && pk.shape()[nsp] != d.shape().back())
    fail_value(op, "pointwise_kernel " + shape_str(pk.shape()) + " expects " + std::to_string(pk.shape()[nsp]) +
                       " channels but the depthwise stage gives " + std::to_string(d.shape().back()));
  Ints one(nsp, 1);
  return from_last(conv_node(d, pk, conv_attrs(op, one, one, "valid", 1)), fmt);
}

// The entries of output_shape (tuple of ints/None/scalar tensors, or a 1-D tensor).
std::vector<Value> shape_entries(const std::string& op, const Value& v, int rank) {
  std::vector<Value> e;
  if (v.kind == Value::Ints) for (int64_t i : v.ints) e.push_back(Value(i));
  else if (v.kind == Value::List) e = v.list;
  else if (v.kind == Value::Tensor) {
    Expr t(v.t);
    if (t.ndim() != 1) fail_value(op, "output_shape tensor must be 1-D, got shape " + shape_str(t.shape()));
    for (int i = 0; i < rank; ++i) e.push_back(Value(getitem(t, {0, i, 0, 0})));
  } else {
    fail_type(op, "output_shape must be a tuple of ints/scalar tensors or a 1-D tensor, got " + v.repr());
  }
  if (static_cast<int>(e.size()) != rank) fail_value(op, "output_shape must have " + std::to_string(rank) + " entries, got " + v.repr());
  for (auto& x : e)
    if (x.kind != Value::Int && x.kind != Value::Tensor && x.kind != Value::None)
      fail_type(op, "output_shape entries must be ints, None or scalar tensors, got " + v.repr());
  return e;
}

// conv2d_transpose/conv3d_transpose(x, kernel, output_shape, strides, padding, data_format[, dilation_rate]).
Expr transpose_build(const std::string& op, int nsp, std::vector<Value>& a) {
  Expr x(a[0].t), w(a[1].t);
  std::string fmt = fmt_arg(op, a[5]), pad = padding_arg(op, a[4].s, false);
  Ints st = tuple_arg(op, "strides", a[3], nsp), dl(nsp, 1);
  if (a.size() > 6) dl = tuple_arg(op, "dilation_rate", a[6], nsp);
  check_rank(op, "x", x, nsp + 2);
  check_rank(op, "kernel", w, nsp + 2);
  Expr xl = to_last(x, fmt);
  check_channels(op, x, xl, w, w.shape()[nsp + 1], fmt);
  std::vector<Value> e = shape_entries(op, a[2], nsp + 2);
  const int ch = fmt == "channels_first" ? 1 : nsp + 1, sp0 = fmt == "channels_first" ? 2 : 1;
  if (e[ch].kind == Value::Int && w.shape()[nsp] >= 0 && e[ch].i != w.shape()[nsp])
    fail_value(op, "output_shape " + a[2].repr() + " has " + std::to_string(e[ch].i) + " channels but kernel " +
                       shape_str(w.shape()) + " produces " + std::to_string(w.shape()[nsp]) + " (kernel layout (k..., out, in))");
  std::vector<Value> spatial(e.begin() + sp0, e.begin() + sp0 + nsp);
  for (auto& s : spatial)
    if (s.kind == Value::None) fail_value(op, "output_shape spatial entries must be ints or scalar tensors, got " + a[2].repr());
  bool dilated = false;
  for (int64_t d : dl) dilated |= d != 1;
  if (dilated) {  // TF: atrous transpose, equal rates, strides ignored
    for (int64_t d : dl)
      if (d != dl[0]) fail_value(op, "dilation_rate entries must be equal, got " + a[6].repr());
    st.assign(nsp, 1);
  }
  Attrs at = conv_attrs(op, st, dl, pad, 1);
  for (int i = 0; i < nsp; ++i)
    if (spatial[i].kind == Value::Int) check_transpose_len(op, spatial[i].i, xl.shape()[1 + i], w.shape()[i], at, i);
  return from_last(conv_grad_input_node(xl, w, spatial, at), fmt);
}

// local_conv1d/2d: patches (im2col, valid) times a per-position kernel (P, prod(k)*C, filters).
Expr local_build(const std::string& op, int nsp, const Expr& x, const Expr& w, const Value& ksv, const Value& stv,
                 const Ints* out_shape, const Value& fv) {
  std::string fmt = fmt_arg(op, fv);
  Ints ks = tuple_arg(op, "kernel_size", ksv, nsp), st = tuple_arg(op, "strides", stv, nsp);
  check_rank(op, "inputs", x, nsp + 2);
  check_rank(op, "kernel", w, 3);
  if (!shape_known(w.shape())) fail_value(op, "kernel shape must be known, got " + shape_str(w.shape()));
  Expr xl = to_last(x, fmt);
  const int64_t C = xl.shape().back(), P = w.shape()[0], F = w.shape()[2];
  int64_t kk = 1;
  for (int64_t k : ks) kk *= k;
  if (C < 0 || w.shape()[1] != kk * C)
    fail_value(op, "kernel " + shape_str(w.shape()) + " needs dim 1 = prod(kernel_size) * channels = " + std::to_string(kk) + " * " +
                       std::to_string(C) + " for inputs " + shape_str(x.shape()) + " (data_format='" + fmt + "')");
  Attrs at;
  at.set("ksize", Value(ks));
  at.set("strides", Value(st));
  at.set("padding", Value(std::string("valid")));
  Expr patches = im2col_node(xl, at);
  Ints outs = out_shape ? *out_shape : Ints{P};
  int64_t np = 1;
  for (int i = 0; i < nsp; ++i) {
    int64_t o = patches.shape()[1 + i];
    if (o >= 0 && o != outs[i])
      fail_value(op, "output dim " + std::to_string(i) + " is " + std::to_string(o) + " for inputs " + shape_str(x.shape()) +
                         ", but output_shape/kernel say " + std::to_string(outs[i]));
    np *= outs[i];
  }
  if (np != P) fail_value(op, "kernel " + shape_str(w.shape()) + " has " + std::to_string(P) + " positions, output has " + std::to_string(np));
  Expr kern = w;
  if (fmt == "channels_first") {  // Keras flattens channels_first windows as (C, k...): reorder to (k..., C)
    Shape s{P, C};
    for (int64_t k : ks) s.push_back(k);
    s.push_back(F);
    Ints p{0};
    for (int i = 0; i < nsp; ++i) p.push_back(2 + i);
    p.push_back(1);
    p.push_back(nsp + 2);
    kern = reshape(permute_dimensions(reshape(w, s), p), {P, kk * C, F});
  }
  Expr pm = permute_dimensions(reshape(patches, {-1, P, kk * C}), {1, 0, 2});
  Expr r = permute_dimensions(matmul(pm, kern), {1, 0, 2});  // (N, P, F)
  Shape fs{-1};
  for (int64_t o : outs) fs.push_back(o);
  fs.push_back(F);
  return from_last(reshape(r, fs), fmt);
}

// The builds, by family; the C++ API below calls them with arguments in the registry's form.
template <int N>
Expr conv_b(const OpDef& op, std::vector<Value>& a) { return conv_build(op.name, N, a); }
template <int N>
Expr transpose_b(const OpDef& op, std::vector<Value>& a) { return transpose_build(op.name, N, a); }
template <int N>
Expr separable_b(const OpDef& op, std::vector<Value>& a) { return separable_build(op.name, N, a); }
Expr depthwise_b(const OpDef& op, std::vector<Value>& a) { return depthwise_build(op.name, a); }
Expr local1_b(const OpDef& op, std::vector<Value>& a) {
  return local_build(op.name, 1, Expr(a[0].t), Expr(a[1].t), a[2], a[3], nullptr, a[4]);
}
Expr local2_b(const OpDef& op, std::vector<Value>& a) {
  Ints os = tuple_arg(op.name, "output_shape", a[4], 2);
  return local_build(op.name, 2, Expr(a[0].t), Expr(a[1].t), a[2], a[3], &os, a[5]);
}

Value fmt_value(const std::string& f) { return f.empty() ? Value() : Value(f); }

}  // namespace

Expr conv1d(const Expr& x, const Expr& k, int64_t s, const std::string& p, const std::string& f, int64_t d) {
  std::vector<Value> a{x, k, Value(s), Value(p), fmt_value(f), Value(d)};
  return conv_build("conv1d", 1, a);
}
Expr conv2d(const Expr& x, const Expr& k, const std::vector<int64_t>& s, const std::string& p, const std::string& f,
            const std::vector<int64_t>& d) {
  std::vector<Value> a{x, k, Value(s), Value(p), fmt_value(f), Value(d)};
  return conv_build("conv2d", 2, a);
}
Expr conv3d(const Expr& x, const Expr& k, const std::vector<int64_t>& s, const std::string& p, const std::string& f,
            const std::vector<int64_t>& d) {
  std::vector<Value> a{x, k, Value(s), Value(p), fmt_value(f), Value(d)};
  return conv_build("conv3d", 3, a);
}
Expr conv2d_transpose(const Expr& x, const Expr& k, const std::vector<int64_t>& o, const std::vector<int64_t>& s,
                      const std::string& p, const std::string& f, const std::vector<int64_t>& d) {
  std::vector<Value> a{x, k, Value(o), Value(s), Value(p), fmt_value(f), Value(d)};
  return transpose_build("conv2d_transpose", 2, a);
}
Expr depthwise_conv2d(const Expr& x, const Expr& k, const std::vector<int64_t>& s, const std::string& p,
                      const std::string& f, const std::vector<int64_t>& d) {
  std::vector<Value> a{x, k, Value(s), Value(p), fmt_value(f), Value(d)};
  return depthwise_build("depthwise_conv2d", a);
}
Expr separable_conv2d(const Expr& x, const Expr& dk, const Expr& pk, const std::vector<int64_t>& s, const std::string& p,
                      const std::string& f, const std::vector<int64_t>& d) {
  std::vector<Value> a{x, dk, pk, Value(s), Value(p), fmt_value(f), Value(d)};
  return separable_build("separable_conv2d", 2, a);
}

void register_conv() {
  register_conv_primitives();
  register_op(Op("conv1d(x: tensor, kernel: tensor, strides: ints[1] = 1, padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[1] = 1)",
                 "1-D cross-correlation; kernel (kw, in, out); padding 'valid', 'same' or 'causal' (left pad dilation*(kw-1)).")
                  .build(conv_b<1>));
  register_op(Op("conv2d(x: tensor, kernel: tensor, strides: ints[2] = (1, 1), padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[2] = (1, 1))",
                 "2-D cross-correlation; kernel (kh, kw, in, out) whatever the data_format; SAME pads the odd extra at the end.")
                  .build(conv_b<2>));
  register_op(Op("conv3d(x: tensor, kernel: tensor, strides: ints[3] = (1, 1, 1), padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[3] = (1, 1, 1))",
                 "3-D cross-correlation; kernel (kd, kh, kw, in, out).")
                  .build(conv_b<3>));
  register_op(Op("conv2d_transpose(x: tensor, kernel: tensor, output_shape: shape, strides: ints[2] = (1, 1), padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[2] = (1, 1))",
                 "Adjoint of conv2d in its input; kernel (kh, kw, out, in); output_shape in data_format order must be consistent with x.")
                  .build(transpose_b<2>));
  register_op(Op("conv3d_transpose(x: tensor, kernel: tensor, output_shape: shape, strides: ints[3] = (1, 1, 1), padding: str = 'valid', data_format: data_format = None)",
                 "Adjoint of conv3d in its input; kernel (kd, kh, kw, out, in).")
                  .build(transpose_b<3>));
  register_op(Op("depthwise_conv2d(x: tensor, depthwise_kernel: tensor, strides: ints[2] = (1, 1), padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[2] = (1, 1))",
                 "Each input channel with its own filters: kernel (kh, kw, in, mult), output channel c*mult + m.")
                  .build(depthwise_b));
  register_op(Op("separable_conv1d(x: tensor, depthwise_kernel: tensor, pointwise_kernel: tensor, strides: ints[1] = 1, padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[1] = 1)",
                 "Depthwise (kw, in, mult) then pointwise (1, in*mult, out) convolution.")
                  .build(separable_b<1>));
  register_op(Op("separable_conv2d(x: tensor, depthwise_kernel: tensor, pointwise_kernel: tensor, strides: ints[2] = (1, 1), padding: str = 'valid', data_format: data_format = None, dilation_rate: ints[2] = (1, 1))",
                 "Depthwise (kh, kw, in, mult) then pointwise (1, 1, in*mult, out) convolution.")
                  .build(separable_b<2>));
  register_op(Op("local_conv1d(inputs: tensor, kernel: tensor, kernel_size: ints[1], strides: ints[1], data_format: data_format = None)",
                 "Unshared-weight valid 1-D conv; kernel (out_len, kw*C, filters).")
                  .build(local1_b));
  register_op(Op("local_conv2d(inputs: tensor, kernel: tensor, kernel_size: ints[2], strides: ints[2], output_shape: ints[2], data_format: data_format = None)",
                 "Unshared-weight valid 2-D conv; kernel (rows*cols, kh*kw*C, filters); windows (kh, kw, C) or (C, kh, kw) for channels_first.")
                  .build(local2_b));
}

}  // namespace keras_cpp
