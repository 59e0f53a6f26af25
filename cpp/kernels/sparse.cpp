// cpp/kernels/sparse.cpp — the sparse (CSR) tensor value: construction with validation (fed arrays
// come from users), COO -> CSR, and the two explicit dense conversions. The kernels of the
// sparse ops (dot, concatenate, gradients) live in ops/sparse_kernels.cpp.
#include <atomic>
#include <cstring>

#include "kernels/sparse_index.h"
#include "kernels/parallel.h"

namespace keras_cpp {

Tensor make_sparse_tensor(const Shape& shape, std::shared_ptr<const SparseParts> parts) {
  // The tensor's own storage is an empty handle whose flag says whether any part borrows caller
  // memory, so the executor's "never hand back borrowed memory" checks see through it.
  bool borrowed = parts->indptr.storage()->borrowed() || parts->indices.storage()->borrowed() ||
                  parts->values.storage()->borrowed();
  Tensor t(Storage::wrap(nullptr, 0, nullptr, borrowed), shape, contiguous_strides(shape), 0, parts->values.dtype());
  t.sparse_ = std::move(parts);
  return t;
}

namespace {

[[noreturn]] void fail(const std::string& op, const std::string& msg) { throw ValueError("[" + op + "] " + msg); }

Tensor vector_arg(const Tensor& t, const std::string& op, const char* what) {
  if (t.ndim() != 1) fail(op, std::string(what) + " must be 1-D, got shape " + shape_str(t.shape()));
  return t.contiguous();
}

// Every indptr step is >= 0 and ends at nnz; every column index is in [0, cols).
template <class I>
void check_csr(const I* indptr, const I* indices, int64_t rows, int64_t cols, int64_t nnz, const std::string& op) {
  if (indptr[0] != 0 || static_cast<int64_t>(indptr[rows]) != nnz)
    fail(op, "indptr must start at 0 and end at nnz=" + std::to_string(nnz) + ", got " + std::to_string(indptr[0]) +
                       " .. " + std::to_string(indptr[rows]));
  for (int64_t r = 0; r < rows; ++r)
    if (indptr[r + 1] < indptr[r]) fail(op, "indptr decreases at row " + std::to_string(r));
  std::atomic<int64_t> bad{-1};
  parallel_for(nnz, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k)
      if (indices[k] < 0 || indices[k] >= cols) { bad = k; return; }
  });
  if (bad >= 0)
    fail(op, "column index " + std::to_string(indices[bad.load()]) + " at entry " + std::to_string(bad.load()) +
                       " is out of range for " + std::to_string(cols) + " columns");
}

}  // namespace

Tensor sparse_csr(int64_t rows, int64_t cols, Tensor indptr, Tensor indices, Tensor values, const std::string& op) {
  if (rows < 0 || cols < 0) fail(op, "a sparse matrix needs a known shape, got (" + std::to_string(rows) + ", " + std::to_string(cols) + ")");
  indptr = vector_arg(indptr, op, "indptr");
  indices = vector_arg(indices, op, "indices");
  values = vector_arg(values, op, "values");
  if (indptr.dtype() != indices.dtype()) {
    indptr = indptr.astype(DType::int64);
    indices = indices.astype(DType::int64);
  }
  if (indptr.numel() != rows + 1)
    fail(op, "indptr has " + std::to_string(indptr.numel()) + " entries for " + std::to_string(rows) + " rows (expected rows + 1)");
  if (indices.numel() != values.numel())
    fail(op, "indices has " + std::to_string(indices.numel()) + " entries but values has " + std::to_string(values.numel()));
  dispatch_index(indptr.dtype(), [&](auto tag) {
    using I = decltype(tag);
    check_csr<I>(indptr.data<I>(), indices.data<I>(), rows, cols, values.numel(), op);
  });
  return make_sparse_tensor({rows, cols}, std::make_shared<SparseParts>(SparseParts{indptr, indices, values}));
}

Tensor sparse_from_coo(int64_t rows, int64_t cols, const Tensor& row0, const Tensor& col0, const Tensor& values0,
                       const std::string& op) {
  if (rows < 0 || cols < 0) fail(op, "a sparse matrix needs a known shape");
  Tensor row = vector_arg(row0, op, "row").astype(DType::int64), col = vector_arg(col0, op, "col").astype(DType::int64);
  Tensor values = vector_arg(values0, op, "values");
  int64_t nnz = values.numel();
  if (row.numel() != nnz || col.numel() != nnz)
    fail(op, "row, col and values must have the same length, got " + std::to_string(row.numel()) + ", " +
                       std::to_string(col.numel()) + " and " + std::to_string(nnz));
  const int64_t *pr = row.data<int64_t>(), *pc = col.data<int64_t>();
  Tensor indptr = Tensor::zeros({rows + 1}, DType::int64);
  int64_t* ip = indptr.data<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) {
    if (pr[k] < 0 || pr[k] >= rows || pc[k] < 0 || pc[k] >= cols)
      fail(op, "entry " + std::to_string(k) + " at (" + std::to_string(pr[k]) + ", " + std::to_string(pc[k]) +
                         ") is out of range for shape (" + std::to_string(rows) + ", " + std::to_string(cols) + ")");
    ++ip[pr[k] + 1];
  }
  for (int64_t r = 0; r < rows; ++r) ip[r + 1] += ip[r];
  // Counting sort by row (stable, so each row keeps the COO order).
  Tensor indices = Tensor::empty({nnz}, DType::int64), vals = Tensor::empty({nnz}, values.dtype());
  std::vector<int64_t> next(ip, ip + rows);
  size_t vs = dtype_size(values.dtype());
  const char* src = static_cast<const char*>(values.raw());
  char* dst = static_cast<char*>(vals.raw());
  int64_t* pi = indices.data<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t at = next[pr[k]]++;
    pi[at] = pc[k];
    std::memcpy(dst + at * vs, src + k * vs, vs);
  }
  return make_sparse_tensor({rows, cols}, std::make_shared<SparseParts>(SparseParts{indptr, indices, vals}));
}

Tensor sparse_to_dense(const Tensor& s) {
  Tensor out = Tensor::zeros(s.shape(), s.dtype());
  const SparseParts& p = s.sparse();
  dispatch_index(p.indptr.dtype(), [&](auto itag) {
    using I = decltype(itag);
    CsrView<I> m(s);
    dispatch(s.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* v = p.values.data<T>();
      T* o = out.data<T>();
      int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, p.nnz() / std::max<int64_t>(m.rows, 1)));
      parallel_for(m.rows, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t k = m.begin(r); k < m.end(r); ++k) accumulate(o[r * m.cols + m.indices[k]], v[k]);
      });
    });
  });
  return out;
}

Tensor dense_to_sparse(const Tensor& d0) {
  if (d0.ndim() != 2) throw ValueError("[sparse] only 2-D tensors can be made sparse, got shape " + shape_str(d0.shape()));
  Tensor d = d0.contiguous();
  const int64_t rows = d.shape()[0], cols = d.shape()[1];
  Tensor indptr = Tensor::empty({rows + 1}, DType::int64);
  int64_t* ip = indptr.data<int64_t>();
  return dispatch(d.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = d.data<T>();
    ip[0] = 0;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t n = 0;
      for (int64_t c = 0; c < cols; ++c) n += convert<bool>(x[r * cols + c]);
      ip[r + 1] = ip[r] + n;
    }
    Tensor indices = Tensor::empty({ip[rows]}, DType::int64), values = Tensor::empty({ip[rows]}, d.dtype());
    int64_t* pi = indices.data<int64_t>();
    T* pv = values.data<T>();
    for (int64_t r = 0, k = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        if (convert<bool>(x[r * cols + c])) { pi[k] = c; pv[k++] = x[r * cols + c]; }
    return make_sparse_tensor({rows, cols}, std::make_shared<SparseParts>(SparseParts{indptr, indices, values}));
  });
}

Tensor match_sparsity(const Tensor& v, bool sparse) {
  if (v.is_sparse() == sparse) return v;
  return sparse ? dense_to_sparse(v) : sparse_to_dense(v);
}

}  // namespace keras_cpp
