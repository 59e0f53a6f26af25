// keras_cpp/sparse.h — sparse tensors: 2-D matrices in CSR form, held by a Tensor (is_sparse()).
// A sparse value flows through Function feeds, outputs and variables like a dense one. Ops that
// accept it: to_dense, dot (sparse x dense and dense x sparse, never densified), concatenate of
// sparse inputs, shape; any other op given a sparse tensor raises TypeError (call to_dense first).
// Duplicate entries are allowed and mean their sum (as in scipy); rows need not be sorted.
#pragma once
#include <string>

#include "expr.h"
#include "tensor.h"

namespace keras_cpp {

// Row r holds entries indptr[r] .. indptr[r+1]-1: column indices[k], value values[k].
// indptr and indices are int32 or int64 (the same dtype); values has the tensor's dtype.
struct SparseParts {
  Tensor indptr;   // (rows + 1,)
  Tensor indices;  // (nnz,)
  Tensor values;   // (nnz,)
  int64_t nnz() const { return values.numel(); }
};

// A sparse (rows, cols) tensor from CSR arrays; validates them (ValueError naming `op`). The
// arrays are shared, not copied (borrowed storage stays borrowed).
Tensor sparse_csr(int64_t rows, int64_t cols, Tensor indptr, Tensor indices, Tensor values,
                  const std::string& op = "sparse");
// The same without validation, for kernels whose output is valid by construction.
Tensor make_sparse_tensor(const Shape& shape, std::shared_ptr<const SparseParts> parts);
// From COO triplets (row, col, value), in any order: O(nnz) conversion to CSR.
Tensor sparse_from_coo(int64_t rows, int64_t cols, const Tensor& row, const Tensor& col, const Tensor& values,
                       const std::string& op = "sparse");
// Dense <-> sparse conversions (explicit: they are the only places a sparse value is densified).
Tensor sparse_to_dense(const Tensor& s);
Tensor dense_to_sparse(const Tensor& d);  // rank 2; keeps the nonzeros
// v as a sparse (or dense) value, converting only when it is the other kind (feeds, set_value).
Tensor match_sparsity(const Tensor& v, bool sparse);

// A placeholder fed with sparse values (dense feeds are converted). Rank 2 (dims may be unknown).
Expr sparse_placeholder(const Shape& shape, DType dtype, const std::string& name = "");
// Dense tensor of a sparse one; a dense tensor is returned unchanged.
Expr to_dense(const Expr& x);

}  // namespace keras_cpp
