// cpp/ops/matmul.cpp — batched matrix products (float32/float64 on our GEMM, kernels/sgemm.h;
// integer dtypes on Eigen's), and Keras's dot/batch_dot built on them. Transposed views are read
// in place (no copy); a 2-D right operand folds the left operand's batch into one large GEMM; a
// right operand that is a variable or constant (a weight) is packed once and reused across calls.
#include <Eigen/Core>

#include "kernels/gemm.h"
#include "kernels/gemm_cache.h"
#include "ops/getitem.h"
#include "ops/helpers.h"
#include "ops/sparse.h"
#include "ops/weights.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;

TypeInfo matmul_infer(const std::vector<TypeInfo>& in, const Attrs&) {
  const TypeInfo &a = in[0], &b = in[1];
  if (a.ndim() < 2 || b.ndim() < 2)
    fail_value("matmul", "operands must have rank >= 2, got " + shape_str(a.shape) + " and " + shape_str(b.shape));
  int64_t ka = a.shape[a.ndim() - 1], kb = b.shape[b.ndim() - 2];
  if (ka >= 0 && kb >= 0 && ka != kb)
    fail_value("matmul", "contracted dimensions differ: " + shape_str(a.shape) + " @ " + shape_str(b.shape) + " (" + std::to_string(ka) + " vs " + std::to_string(kb) + ")");
  Shape ba(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  Shape s = broadcast_shapes(ba, bb, "matmul");
  s.push_back(a.shape[a.ndim() - 2]);
  s.push_back(b.shape[b.ndim() - 1]);
  if (a.dtype != b.dtype) fail_type("matmul", std::string("operands have different dtypes: ") + dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
  return TypeInfo{s, a.dtype, true};
}

Tensor matmul_forward(KernelCtx& ctx) {
  Tensor a = ctx.in[0], b = ctx.in[1];
  DType od = a.dtype();
  if (od == DType::float16 || od == DType::bool_) { a = a.astype(DType::float32); b = b.astype(DType::float32); }
  const int na = a.ndim(), nb = b.ndim();
  const int64_t M = a.shape()[na - 2], K = a.shape()[na - 1], N = b.shape()[nb - 1];
  if (K != b.shape()[nb - 2])  // static shapes with unknown dims could not check this
    fail_value(ctx.attrs().has("who") ? ctx.attrs().s("who") : "matmul",
               "contracted dimensions differ at run time: " + shape_str(ctx.in[0].shape()) + " @ " + shape_str(ctx.in[1].shape()));
  // Fold a's batch into M when b is a plain matrix and a is row-major contiguous.
  if (nb == 2 && na > 2 && a.is_contiguous()) {
    Shape s(a.shape().begin(), a.shape().end() - 1);
    s.push_back(N);
    Tensor a2 = a.reshape({shape_numel(Shape(s.begin(), s.end() - 1)), K});  // rows even when K == 0
    KernelCtx sub{ctx.node, {a2, b}, ctx.alloc};
    return matmul_forward(sub).reshape(s).astype(od);  // a fresh contiguous buffer: reshaped in place
  }
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape bs = broadcast_shapes(ba, bb, "matmul");
  Shape s = bs;
  s.push_back(M);
  s.push_back(N);
  Shape fa = bs, fb = bs;
  fa.push_back(M); fa.push_back(K);
  fb.push_back(K); fb.push_back(N);
  MatView va, vb;
  if (!mat_view(a, va)) { a = a.contiguous(); mat_view(a, va); }
  if (!mat_view(b, vb)) { b = b.contiguous(); mat_view(b, vb); }
  Tensor ab = a.broadcast_to(fa), bbt = b.broadcast_to(fb);
  Tensor out = ctx.alloc_tensor(s, a.dtype());
  int64_t batch = shape_numel(bs);
  bool b_shared = true;  // the same B matrix for every batch entry
  for (size_t d = 0; d < bs.size(); ++d) b_shared = b_shared && (bbt.strides()[d] == 0 || bs[d] == 1);
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, half> && !std::is_same_v<T, bool>) {
      std::shared_ptr<const blas::PackedB<T>> packed;
      if constexpr (kBlasType<T>) {
        if (b_shared && M > 1 && N > 1 && K > 0 && cached_weight_input(ctx, ctx.node, 1))
          packed = cached_pack_b<T>(b, bbt.data<T>(), K, N, vb.rs(), vb.cs());
      }
      auto one = [&](int64_t i) {
        int64_t oa = 0, ob = 0, rem = i;
        for (int d = static_cast<int>(bs.size()) - 1; d >= 0; --d) {
          int64_t idx = rem % bs[d];
          rem /= bs[d];
          oa += idx * ab.strides()[d];
          ob += idx * bbt.strides()[d];
        }
        T* c = out.data<T>() + i * M * N;
        if (K == 0) { std::fill(c, c + M * N, T(0)); return; }
        if constexpr (kBlasType<T>) {
          if (packed) return blas::gemm<T>(M, N, K, ab.data<T>() + oa, va.rs(), va.cs(), *packed, c, N);
        }
        gemm<T>(ab.data<T>() + oa, va, bbt.data<T>() + ob, vb, c, M, K, N);
      };
      if (batch > 1 && M * N * K < (int64_t(1) << 21)) {
        parallel_for(batch, std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, M * N * K)),
                     [&](int64_t b0, int64_t b1) { for (int64_t i = b0; i < b1; ++i) one(i); });
      } else {
        for (int64_t i = 0; i < batch; ++i) one(i);  // each GEMM is threaded itself
      }
    }
  });
  return out.astype(od);
}

Expr swap_last(const Expr& x) {
  std::vector<int64_t> p;
  for (int i = 0; i < x.ndim(); ++i) p.push_back(i);
  std::swap(p[x.ndim() - 1], p[x.ndim() - 2]);
  return permute_dimensions(x, p);
}

OpRef kMatmul, kDot, kBatchDot;

// Product of dims [lo, hi) of x: an int when static, else a scalar tensor from shape(x) (reshape
// targets without -1, which cannot be inferred for unknown or empty dims).
Value dims_product(const Expr& x, int lo, int hi) {
  int64_t p = 1;
  for (int i = lo; i < hi; ++i) {
    if (x.shape()[i] < 0) return Value(prod(getitem(shape(x), {1, lo, hi, 1})));
    p = checked_mul(p, x.shape()[i], "dot");
  }
  return Value(p);
}

G matmul_grad(const Expr& y, const Expr& g) {
  Expr a(y->inputs[0]), b(y->inputs[1]);
  Expr ga = sum_to(matmul(g, swap_last(b)), a);
  if (a.rank_known() && b.rank_known() && g.rank_known() && a.ndim() > 2 && b.ndim() == 2 && g.ndim() == a.ndim()) {
    // A plain weight matrix: a's batch folds into the contracted rows, one GEMM (K, rows) x
    // (rows, N) instead of a product per batch entry summed afterwards.
    const int na = a.ndim();
    Expr a2 = reshape_to(a, {dims_product(a, 0, na - 1), dim_value(a, na - 1)});
    Expr g2 = reshape_to(g, {dims_product(g, 0, na - 1), dim_value(g, na - 1)});
    return G{ga, matmul(swap_last(a2), g2)};
  }
  return G{ga, sum_to(matmul(swap_last(a), g), b)};
}

// matmul naming the public op in its run-time errors.
Expr matmul_for(const char* who, const Expr& a, const Expr& b) {
  Attrs at;
  at.set("who", Value(std::string(who)));
  return make_node(kMatmul, {a, b}, at);
}

// N-d rule: x's last axis with y's second-to-last; result x[:-1] + y[:-2] + y[-1:].
Expr dot_nd(const Expr& x, const Expr& y) {
  int nx = x.ndim(), ny = y.ndim();
  std::vector<int64_t> perm{ny - 2};
  for (int i = 0; i < ny; ++i) if (i != ny - 2) perm.push_back(i);
  Expr yt = permute_dimensions(y, perm);  // (K, y_batch..., N)
  Expr y2 = reshape_to(yt, {dim_value(yt, 0), dims_product(yt, 1, ny)});
  Expr x2 = reshape_to(x, {dims_product(x, 0, nx - 1), dim_value(x, nx - 1)});
  Expr r = matmul_for("dot", x2, y2);
  std::vector<Value> out;
  for (int i = 0; i < nx - 1; ++i) out.push_back(dim_value(x, i));
  for (int i = 0; i < ny; ++i) if (i != ny - 2) out.push_back(dim_value(y, i));
  return reshape_to(r, out);
}

// batch_dot's contracted axes (a0 of x, a1 of y), checked against the shapes.
std::pair<int64_t, int64_t> batch_dot_axes(const Expr& x, const Expr& y, const std::optional<std::vector<int64_t>>& axes) {
  int nx = x.ndim(), ny = y.ndim();
  if (nx < 2 || ny < 2) fail_value("batch_dot", "inputs must have rank >= 2, got " + shape_str(x.shape()) + " and " + shape_str(y.shape()));
  Value ax = axes ? Value(*axes) : Value();
  int64_t a0, a1;
  if (!axes) { a0 = nx - 1; a1 = ny == 2 ? 1 : ny - 2; }
  else if (axes->size() == 1) { a0 = a1 = (*axes)[0]; }
  else if (axes->size() == 2) { a0 = (*axes)[0]; a1 = (*axes)[1]; }
  else fail_value("batch_dot", "axes must be an int or a pair of ints, got " + ax.repr());
  a0 = normalize_axis(a0, nx, "batch_dot", "axes[0]");
  a1 = normalize_axis(a1, ny, "batch_dot", "axes[1]");
  if (a0 == 0 || a1 == 0) fail_value("batch_dot", "cannot contract over the batch axis 0 (axes=" + ax.repr() + ")");
  int64_t bx = x.shape()[0], by = y.shape()[0];
  if (bx >= 0 && by >= 0 && bx != by) fail_value("batch_dot", "batch sizes differ: " + shape_str(x.shape()) + " and " + shape_str(y.shape()));
  int64_t kx = x.shape()[a0], ky = y.shape()[a1];
  if (kx >= 0 && ky >= 0 && kx != ky)
    fail_value("batch_dot", "contracted dimensions differ: axis " + std::to_string(a0) + " of " + shape_str(x.shape()) + " and axis " +
                                std::to_string(a1) + " of " + shape_str(y.shape()));
  return {a0, a1};
}

// The product of e's dims 1.. except `skip`, or -1 when one is unknown (a -1 cannot be inferred
// when the batch is empty, so static free dims are given as numbers).
int64_t free_size(const Expr& e, int64_t skip) {
  int64_t p = 1;
  for (int i = 1; i < e.ndim(); ++i)
    if (i != skip) {
      if (e.shape()[i] < 0) return -1;
      p = checked_mul(p, e.shape()[i], "batch_dot");
    }
  return p;
}

Expr dot_build(const OpDef&, std::vector<Value>& a) { return dot(Expr(a[0].t), Expr(a[1].t)); }

Expr batch_dot_build(const OpDef&, std::vector<Value>& a) {
  return batch_dot(Expr(a[0].t), Expr(a[1].t), a[2].is_none() ? std::optional<std::vector<int64_t>>() : a[2].ints);
}

}  // namespace

Expr matmul(const Expr& a, const Expr& b) { return make_node(kMatmul, {a, b}); }

Expr dot(const Expr& x, const Expr& y) {
  if (x.sparse() || y.sparse()) return sparse_dot(x, y);  // ops/sparse.cpp: never densifies
  if (!x.rank_known() || !y.rank_known()) fail_value("dot", "needs tensors of known rank (the rule depends on the ranks)");
  int nx = x.ndim(), ny = y.ndim();
  if (nx == 0 || ny == 0) return x * y;
  if (x.dtype() != y.dtype()) fail_type("dot", std::string("operands have different dtypes: ") + dtype_name(x.dtype()) + " and " + dtype_name(y.dtype()));
  if (ny == 1) {  // contract with a vector
    Expr r = matmul_for("dot", nx == 1 ? expand_dims(x, 0) : x, expand_dims(y, 1));
    r = squeeze(r, -1);
    return nx == 1 ? squeeze(r, 0) : r;
  }
  if (nx == 1) return squeeze(matmul_for("dot", expand_dims(x, 0), y), -2);
  if (ny == 2) return matmul_for("dot", x, y);
  return dot_nd(x, y);
}

// x -> (B, restx..., K), y -> (B, K, resty...), then one batched matmul.
Expr batch_dot(const Expr& x, const Expr& y, std::optional<std::vector<int64_t>> axes) {
  auto [a0, a1] = batch_dot_axes(x, y, axes);
  int nx = x.ndim(), ny = y.ndim();
  std::vector<int64_t> px{0}, py{0, a1};
  for (int i = 1; i < nx; ++i) if (i != a0) px.push_back(i);
  px.push_back(a0);
  for (int i = 1; i < ny; ++i) if (i != a1) py.push_back(i);
  Expr xt = permute_dimensions(x, px), yt = permute_dimensions(y, py);
  int64_t bx = x.shape()[0], by = y.shape()[0], kx = x.shape()[a0], ky = y.shape()[a1];
  Value B = bx >= 0 ? Value(bx) : by >= 0 ? Value(by) : Value(dim_tensor(x, 0));
  Value K = kx >= 0 ? Value(kx) : ky >= 0 ? Value(ky) : Value(dim_tensor(x, static_cast<int>(a0)));
  Expr r = matmul_for("batch_dot", reshape_to(xt, {B, Value(free_size(x, a0)), K}), reshape_to(yt, {B, K, Value(free_size(y, a1))}));
  std::vector<Value> out{B};
  for (int i = 1; i < nx; ++i) if (i != a0) out.push_back(dim_value(x, i));
  for (int i = 1; i < ny; ++i) if (i != a1) out.push_back(dim_value(y, i));
  if (nx == 2 && ny == 2) out.push_back(Value(int64_t(1)));  // Keras: (batch, 1)
  return reshape_to(r, out);
}

void register_matmul() {
  register_op(kMatmul, Op("matmul(a: tensor, b: tensor)", "Batched matrix product with numpy broadcasting of the leading axes.")
                           .infer(matmul_infer).forward(matmul_forward).grad(matmul_grad));
  register_op(kDot, Op("dot(x: tensor, y: tensor)",
                       "Matrix product; for rank > 2 contracts x's last axis with y's second-to-last (shape x[:-1] + y[:-2] + y[-1:]).")
                        .build(dot_build));
  register_op(kBatchDot, Op("batch_dot(x: tensor, y: tensor, axes: ints[2] = None)",
                            "Per-sample dot over batch axis 0, contracting axes (a0, a1); 2-D x 2-D gives (batch, 1).")
                             .build(batch_dot_build));
}

}  // namespace keras_cpp
