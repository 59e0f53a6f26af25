// cpp/ops/sparse_kernels.h — CSR kernels behind the sparse ops (ops/sparse.cpp). Sparse inputs
// may have int32 or int64 indices (scipy's arrays are borrowed as they are); sparse results have
// int64 indices. Results that keep an input's pattern share its index arrays (no copy).
#pragma once
#include <vector>

#include "keras_cpp/sparse.h"

namespace keras_cpp {

// s (R, C) @ b (C, N) -> dense (R, N); float32/float64 (float16 computed in float32). Rows run in
// parallel on the pool; no dense copy of s is ever made.
Tensor csr_matmul(const Tensor& s, const Tensor& b);
// The (C, R) transpose of s in CSR form: O(nnz + C).
Tensor csr_transpose(const Tensor& s);
// Sparse with s's pattern: entry k at (r, c) gets dot(x[r, :], y[c, :]) (x (R, N), y (C, N)).
Tensor csr_sddmm(const Tensor& s, const Tensor& x, const Tensor& y);
// Sparse with s's pattern and d's dtype: entry k at (r, c) gets d[r, c].
Tensor csr_mask(const Tensor& s, const Tensor& d);
// Join sparse matrices along axis 0 (rows) or 1 (columns).
Tensor csr_concat(const std::vector<Tensor>& parts, int axis);
// Rows [r0, r1) and columns [c0, c1) of s, as a (r1 - r0, c1 - c0) sparse matrix.
Tensor csr_slice(const Tensor& s, int64_t r0, int64_t r1, int64_t c0, int64_t c1);
// a + b (same shape): each row holds a's entries then b's (duplicates sum).
Tensor csr_add(const Tensor& a, const Tensor& b);

}  // namespace keras_cpp
