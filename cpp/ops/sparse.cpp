// cpp/ops/sparse.cpp — ops on sparse (CSR) tensors: to_dense, the sparse paths of dot and
// concatenate, and their gradients. Only ops flagged kSparse accept a sparse input; dot never
// densifies, concatenate of sparse inputs stays sparse, and mixed sparse/dense concatenation
// densifies the sparse inputs (as Keras's TF backend does). Gradients w.r.t. a sparse operand are
// sparse with its pattern (the gradient of its values). Kernels: ops/sparse_kernels.cpp.
#include "ops/sparse.h"

#include "ops/helpers.h"
#include "ops/sparse_kernels.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;
OpRef kToDense, kSparseToDense, kSparseMask, kSparseDenseMatmul, kSddmm, kSparseConcat, kSparseConcatPart, kSparseAdd;

void need_sparse(const std::string& op, const TypeInfo& t, const char* arg) {
  if (!t.sparse) fail_type(op, std::string(arg) + " must be a sparse tensor");
  if (t.ndim() != 2) fail_value(op, std::string(arg) + " must be 2-D, got shape " + shape_str(t.shape));
}

void need_dense_matrix(const std::string& op, const TypeInfo& t, const char* arg) {
  if (t.sparse) fail_type(op, std::string(arg) + " must be dense");
  if (!t.rank_known || t.ndim() != 2) fail_value(op, std::string(arg) + " must be 2-D, got shape " + shape_str(t.shape));
}

TypeInfo sparse_like(const TypeInfo& t, DType dt) { return TypeInfo{t.shape, dt, true, true}; }

// Sparse and dense dims agree unless one is unknown.
void check_dim(const std::string& op, int64_t a, int64_t b, const TypeInfo& x, const TypeInfo& y) {
  if (a >= 0 && b >= 0 && a != b)
    fail_value(op, "contracted dimensions differ: " + shape_str(x.shape) + " and " + shape_str(y.shape));
}

Expr sdm(const Expr& a, const Expr& b, bool adjoint) {
  Attrs at;
  at.set("adjoint_a", Value(adjoint));
  return make_node(kSparseDenseMatmul, {a, b}, at);
}

// A gradient arriving at a sparse node as a dense tensor is restricted to the node's pattern.
Expr sparse_grad(const Expr& y, const Expr& g) { return g.sparse() ? g : make_node(kSparseMask, {y, g}); }

Expr to_dense_build(const OpDef&, std::vector<Value>& a) { return to_dense(Expr(a[0].t)); }

TypeInfo to_dense_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  need_sparse("to_dense", in[0], "tensor");
  return TypeInfo{in[0].shape, in[0].dtype, true, false};
}
Tensor to_dense_forward(KernelCtx& ctx) { return sparse_to_dense(ctx.in[0]); }
G to_dense_grad(const Expr& y, const Expr& g) { return G{make_node(kSparseMask, {Expr(y->inputs[0]), g})}; }

TypeInfo mask_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  need_sparse("_sparse_mask", in[0], "s");
  need_dense_matrix("_sparse_mask", in[1], "d");
  check_dim("_sparse_mask", in[0].shape[0], in[1].shape[0], in[0], in[1]);
  check_dim("_sparse_mask", in[0].shape[1], in[1].shape[1], in[0], in[1]);
  return sparse_like(in[0], in[1].dtype);
}

Tensor mask_forward(KernelCtx& ctx) {
  if (ctx.in[0].shape() != ctx.in[1].shape())
    fail_value("_sparse_mask", "shapes differ: " + shape_str(ctx.in[0].shape()) + " and " + shape_str(ctx.in[1].shape()));
  return csr_mask(ctx.in[0], ctx.in[1]);
}
G mask_grad(const Expr&, const Expr& g) { return G{Expr(), to_dense(g)}; }

TypeInfo sdm_infer(const std::vector<TypeInfo>& in, const Attrs& at) {
  need_sparse("dot", in[0], "the sparse operand");
  need_dense_matrix("dot", in[1], "the dense operand");
  if (in[0].dtype != in[1].dtype)
    fail_type("dot", std::string("operands have different dtypes: ") + dtype_name(in[0].dtype) + " and " + dtype_name(in[1].dtype));
  if (!is_floating(in[0].dtype)) fail_type("dot", std::string("sparse products need float tensors, got ") + dtype_name(in[0].dtype));
  bool adj = at.b("adjoint_a");
  check_dim("dot", in[0].shape[adj ? 0 : 1], in[1].shape[0], in[0], in[1]);
  return TypeInfo{{in[0].shape[adj ? 1 : 0], in[1].shape[1]}, in[0].dtype, true, false};
}

Tensor sdm_forward(KernelCtx& ctx) {
  bool adj = ctx.attrs().b("adjoint_a");
  const Tensor& a = ctx.in[0];
  if (a.shape()[adj ? 0 : 1] != ctx.in[1].shape()[0])
    fail_value("dot", "contracted dimensions differ at run time: " + shape_str(a.shape()) + (adj ? " (transposed)" : "") + " and " +
                          shape_str(ctx.in[1].shape()));
  return csr_matmul(adj ? csr_transpose(a) : a, ctx.in[1]);
}

G sdm_grad(const Expr& y, const Expr& g) {
  Expr a(y->inputs[0]), b(y->inputs[1]);
  bool adj = y->attrs.b("adjoint_a");
  // dA[r, c] = g[r] . b[c] (adjoint: b[r] . g[c]); dB = op(a)^T g.
  Expr ga = adj ? make_node(kSddmm, {a, b, g}) : make_node(kSddmm, {a, g, b});
  return G{ga, sdm(a, g, !adj)};
}

TypeInfo sddmm_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  need_sparse("_sparse_sddmm", in[0], "s");
  need_dense_matrix("_sparse_sddmm", in[1], "x");
  need_dense_matrix("_sparse_sddmm", in[2], "y");
  check_dim("_sparse_sddmm", in[0].shape[0], in[1].shape[0], in[0], in[1]);
  check_dim("_sparse_sddmm", in[0].shape[1], in[2].shape[0], in[0], in[2]);
  check_dim("_sparse_sddmm", in[1].shape[1], in[2].shape[1], in[1], in[2]);
  return sparse_like(in[0], in[1].dtype);
}
Tensor sddmm_forward(KernelCtx& ctx) { return csr_sddmm(ctx.in[0], ctx.in[1], ctx.in[2]); }
G sddmm_grad(const Expr& y, const Expr& g) {
  Expr gs = sparse_grad(y, g), x(y->inputs[1]), yy(y->inputs[2]);
  return G{Expr(), sdm(gs, yy, false), sdm(gs, x, true)};
}

TypeInfo concat_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  int ax = static_cast<int>(a.i("axis"));
  TypeInfo out = in[0];
  for (size_t i = 0; i < in.size(); ++i) {
    need_sparse("concatenate", in[i], "every input");
    if (i == 0) continue;
    const Shape& s = in[i].shape;
    for (int k = 0; k < 2; ++k) {
      if (k == ax) out.shape[k] = out.shape[k] < 0 || s[k] < 0 ? kUnknownDim : out.shape[k] + s[k];
      else if (out.shape[k] >= 0 && s[k] >= 0 && out.shape[k] != s[k])
        fail_value("concatenate", "input 0 has shape " + shape_str(in[0].shape) + " but input " + std::to_string(i) +
                                      " has shape " + shape_str(s) + "; all dims except axis " + std::to_string(ax) + " must match");
      else if (out.shape[k] < 0) out.shape[k] = s[k];
    }
    out.dtype = promote_types(out.dtype, in[i].dtype);
  }
  return out;
}

Tensor concat_forward(KernelCtx& ctx) {
  int ax = static_cast<int>(ctx.attrs().i("axis"));
  for (size_t i = 1; i < ctx.in.size(); ++i)
    if (ctx.in[i].shape()[1 - ax] != ctx.in[0].shape()[1 - ax])
      fail_value("concatenate", "input 0 has shape " + shape_str(ctx.in[0].shape()) + " but input " + std::to_string(i) + " has shape " +
                                    shape_str(ctx.in[i].shape()) + " at run time");
  return csr_concat(ctx.in, ax);
}

G concat_grad(const Expr& y, const Expr& g) {
  Expr gs = sparse_grad(y, g);
  G out;
  for (size_t i = 0; i < y->inputs.size(); ++i) {
    std::vector<Expr> ins{gs};
    for (auto& x : y->inputs) ins.push_back(Expr(x));
    Attrs a;
    a.set("axis", y->attrs.get("axis"));
    a.set("index", Value(static_cast<int64_t>(i)));
    out.push_back(make_node(kSparseConcatPart, ins, a));
  }
  return out;
}

TypeInfo concat_part_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  need_sparse("_sparse_concat_part", in[0], "g");
  const TypeInfo& part = in[1 + a.i("index")];
  return sparse_like(part, part.dtype);  // the part's dtype: autodiff cannot cast a sparse gradient
}

Tensor concat_part_forward(KernelCtx& ctx) {
  int ax = static_cast<int>(ctx.attrs().i("axis")), idx = static_cast<int>(ctx.attrs().i("index"));
  int64_t off = 0;
  for (int j = 0; j < idx; ++j) off += ctx.in[1 + j].shape()[ax];
  const Tensor& g = ctx.in[0];
  int64_t n = ctx.in[1 + idx].shape()[ax];
  Tensor part = ax == 0 ? csr_slice(g, off, off + n, 0, g.shape()[1]) : csr_slice(g, 0, g.shape()[0], off, off + n);
  return part.astype(ctx.in[1 + idx].dtype());
}

TypeInfo add_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  need_sparse("_sparse_add", in[0], "a");
  need_sparse("_sparse_add", in[1], "b");
  for (int k = 0; k < 2; ++k) check_dim("_sparse_add", in[0].shape[k], in[1].shape[k], in[0], in[1]);
  return sparse_like(in[0], promote_types(in[0].dtype, in[1].dtype));
}
Tensor add_forward(KernelCtx& ctx) { return csr_add(ctx.in[0], ctx.in[1]); }
G add_grad(const Expr&, const Expr& g) { return G{g, g}; }

}  // namespace

Expr to_dense(const Expr& x) { return x.sparse() ? make_node(kSparseToDense, {x}) : x; }

Expr sparse_placeholder(const Shape& shape, DType dtype, const std::string& name) {
  if (shape.size() != 2) fail_value("placeholder", "sparse tensors are 2-D matrices, got shape " + shape_str(shape));
  Expr p = placeholder(shape, dtype, name);
  p->outputs[0].type.sparse = true;
  return p;
}

Expr sparse_dot(const Expr& x, const Expr& y) {
  if (x.sparse() && y.sparse()) fail_type("dot", "both operands are sparse; convert one with to_dense");
  if (x.sparse()) {
    if (y.ndim() == 1) return squeeze(sdm(x, expand_dims(y, 1), false), -1);
    if (y.ndim() != 2) fail_value("dot", "a sparse x needs a 1-D or 2-D y, got shape " + shape_str(y.shape()));
    return sdm(x, y, false);
  }
  // dense x sparse: (y^T x^T)^T, with the transposes as views.
  if (x.ndim() == 1) return squeeze(sparse_dot(expand_dims(x, 0), y), 0);
  if (x.ndim() != 2) fail_value("dot", "a sparse y needs a 1-D or 2-D x, got shape " + shape_str(x.shape()));
  return transpose(sdm(y, transpose(x), true));
}

Expr sparse_concatenate(const std::vector<Expr>& xs, int64_t axis) {
  bool all = true;
  for (auto& x : xs) all = all && x.sparse();
  if (!all) {  // Keras (TF backend): mixed inputs are densified
    std::vector<Expr> dense;
    for (auto& x : xs) dense.push_back(to_dense(x));
    return concatenate(dense, axis);
  }
  int64_t ax = ((axis % 2) + 2) % 2;  // Keras: modulo the rank
  if (axis >= 2) fail_value("concatenate", "axis=" + std::to_string(axis) + " is out of range for sparse (2-D) inputs");
  Attrs a;
  a.set("axis", Value(ax));
  a.set("n", Value(static_cast<int64_t>(xs.size())));
  return make_node(kSparseConcat, xs, a);
}

Expr sparse_add(const Expr& a, const Expr& b) {
  if (a.sparse() && b.sparse()) return make_node(kSparseAdd, {a, b});
  return to_dense(a) + to_dense(b);
}

void register_sparse() {
  register_op(kToDense, Op("to_dense(tensor: tensor)", "Dense tensor of a sparse one; a dense tensor is returned unchanged.").build(to_dense_build));
  register_op(kSparseToDense, Op("_sparse_to_dense(x: tensor)", "Dense (rows, cols) tensor of a sparse one (duplicates summed).")
                                  .infer(to_dense_infer).forward(to_dense_forward).grad(to_dense_grad).flags(kSparse));
  register_op(kSparseMask, Op("_sparse_mask(s: tensor, d: tensor)", "Sparse with s's pattern holding d's values at those positions.")
                               .infer(mask_infer).forward(mask_forward).grad(mask_grad).flags(kSparse));
  register_op(kSparseDenseMatmul, Op("_sparse_dense_matmul(a: tensor, b: tensor, adjoint_a: bool = False)",
                                     "a @ b (a transposed when adjoint_a) for sparse a and dense 2-D b, without densifying a.")
                                      .infer(sdm_infer).forward(sdm_forward).grad(sdm_grad).flags(kSparse));
  register_op(kSddmm, Op("_sparse_sddmm(s: tensor, x: tensor, y: tensor)",
                         "Sparse with s's pattern: the entry at (r, c) is dot(x[r], y[c]) (the gradient of a sparse product).")
                          .infer(sddmm_infer).forward(sddmm_forward).grad(sddmm_grad).flags(kSparse));
  register_op(kSparseConcat, Op("_sparse_concatenate(tensors: tensors, axis: int)", "Join sparse matrices along axis 0 or 1; the result is sparse.")
                                 .infer(concat_infer).forward(concat_forward).grad(concat_grad).flags(kSparse));
  // Second-order gradients through a sparse concatenation are not provided (kNonDiff).
  register_op(kSparseConcatPart, Op("_sparse_concat_part(g: tensor, parts: tensors, axis: int, index: int)",
                                    "The block of sparse g that _sparse_concatenate took from parts[index] (run-time offsets).")
                                     .infer(concat_part_infer).forward(concat_part_forward).flags(kSparse | kNonDiff));
  register_op(kSparseAdd, Op("_sparse_add(a: tensor, b: tensor)", "Sum of two sparse matrices of one shape (entries of both kept).")
                              .infer(add_infer).forward(add_forward).grad(add_grad).flags(kSparse));
}

}  // namespace keras_cpp
