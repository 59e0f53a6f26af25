// cpp/ops/sparse_kernels.cpp — CSR kernels: sparse x dense product (parallel over rows on the
// pool), transpose, SDDMM and masking (the gradients), and the structural kernels (concatenate,
// slice, add), which build their result row by row in two parallel passes (count, then fill).
#include "ops/sparse_kernels.h"

#include <Eigen/Core>
#include <cstring>

#include "kernels/sparse_index.h"
#include "kernels/parallel.h"
#include "ops/registry.h"

namespace keras_cpp {
namespace {

// Rows per parallel chunk for row work of about `per_row` element operations.
int64_t row_grain(int64_t per_row) { return std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, per_row)); }

Tensor share_pattern(const Tensor& s, Tensor values) {
  const SparseParts& p = s.sparse();
  return make_sparse_tensor(s.shape(), std::make_shared<SparseParts>(SparseParts{p.indptr, p.indices, std::move(values)}));
}

DType compute_type(DType t) { return t == DType::float16 ? DType::float32 : t; }

// A CSR matrix with int64 indices and values of one dtype, as raw pointers (structural kernels).
struct Csr64 {
  Tensor ip_t, ix_t, v_t;
  const int64_t *ip, *ix;
  const char* v;
  size_t vs;
  int64_t rows, cols;
  Csr64(const Tensor& s, DType dt)
      : ip_t(s.sparse().indptr.astype(DType::int64)), ix_t(s.sparse().indices.astype(DType::int64)),
        v_t(s.sparse().values.astype(dt)), ip(ip_t.data<int64_t>()), ix(ix_t.data<int64_t>()),
        v(static_cast<const char*>(v_t.raw())), vs(dtype_size(dt)), rows(s.shape()[0]), cols(s.shape()[1]) {}
};

// Entries of row `row` of `m` whose column is in [c0, c1), placed at column - c0 + shift.
struct Seg {
  const Csr64* m;
  int64_t row, c0, c1, shift;
};

// A (rows, cols) CSR result whose row r is the concatenation of segs(r)'s segments.
template <class SegsOf>
Tensor build_rows(int64_t rows, int64_t cols, DType dt, SegsOf segs_of) {
  Tensor indptr = Tensor::empty({rows + 1}, DType::int64);
  int64_t* ip = indptr.data<int64_t>();
  ip[0] = 0;
  auto for_segs = [&](int64_t r, auto&& f) {
    std::vector<Seg> segs;
    segs_of(r, segs);
    for (const Seg& g : segs)
      for (int64_t k = g.m->ip[g.row]; k < g.m->ip[g.row + 1]; ++k)
        if (g.m->ix[k] >= g.c0 && g.m->ix[k] < g.c1) f(g, k);
  };
  parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = 0;
      for_segs(r, [&](const Seg&, int64_t) { ++n; });
      ip[r + 1] = n;
    }
  });
  for (int64_t r = 0; r < rows; ++r) ip[r + 1] += ip[r];
  Tensor indices = Tensor::empty({ip[rows]}, DType::int64), values = Tensor::empty({ip[rows]}, dt);
  int64_t* ox = indices.data<int64_t>();
  char* ov = ip[rows] ? static_cast<char*>(values.raw()) : nullptr;
  size_t vs = dtype_size(dt);
  parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t at = ip[r];
      for_segs(r, [&](const Seg& g, int64_t k) {
        ox[at] = g.m->ix[k] - g.c0 + g.shift;
        std::memcpy(ov + at * vs, g.m->v + k * vs, vs);
        ++at;
      });
    }
  });
  return make_sparse_tensor({rows, cols}, std::make_shared<SparseParts>(SparseParts{indptr, indices, values}));
}

// Columns [j0, j0 + W) of output row r = sum over the row's entries of value * b[col]: the
// accumulator is a fixed-size block the compiler keeps in vector registers.
template <int W, class T, class I>
inline void row_block(const T* v, const I* idx, int64_t k0, int64_t k1, const T* b, int64_t N, int64_t j0, T* o) {
  using Block = Eigen::Array<T, W, 1>;
  Block acc = Block::Zero();
  for (int64_t k = k0; k < k1; ++k)
    acc += v[k] * Eigen::Map<const Block>(b + static_cast<int64_t>(idx[k]) * N + j0);
  Eigen::Map<Block>(o + j0) = acc;
}

template <class T, class I>
void csr_row_times_dense(const T* v, const I* idx, int64_t k0, int64_t k1, const T* b, int64_t N, T* o) {
  constexpr int kWide = 64 / sizeof(T) * 4;  // 8 AVX registers of accumulators
  int64_t j = 0;
  for (; j + kWide <= N; j += kWide) row_block<kWide>(v, idx, k0, k1, b, N, j, o);
  for (; j + 8 <= N; j += 8) row_block<8>(v, idx, k0, k1, b, N, j, o);
  for (; j < N; ++j) row_block<1>(v, idx, k0, k1, b, N, j, o);
}

}  // namespace

Tensor csr_matmul(const Tensor& s, const Tensor& b0) {
  DType ct = compute_type(s.dtype());
  Tensor sv = s.sparse().values.astype(ct), b = b0.astype(ct).contiguous();
  const int64_t R = s.shape()[0], N = b.shape()[1];
  Tensor out = Tensor::empty({R, N}, ct);
  dispatch_index(s.sparse().indptr.dtype(), [&](auto itag) {
    using I = decltype(itag);
    CsrView<I> m(s);
    dispatch_float(ct, "dot", [&](auto tag) {
      using T = decltype(tag);
      const T* v = sv.data<T>();
      const T* pb = b.data<T>();
      T* po = out.data<T>();
      int64_t avg = s.sparse().nnz() / std::max<int64_t>(R, 1);
      parallel_for(R, row_grain((avg + 1) * N), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) csr_row_times_dense(v, m.indices, m.begin(r), m.end(r), pb, N, po + r * N);
      });
    });
  });
  return out.astype(s.dtype());
}

Tensor csr_transpose(const Tensor& s) {
  const int64_t R = s.shape()[0], C = s.shape()[1], nnz = s.sparse().nnz();
  Tensor indptr = Tensor::zeros({C + 1}, DType::int64), indices = Tensor::empty({nnz}, DType::int64);
  Tensor values = Tensor::empty({nnz}, s.dtype());
  int64_t* ip = indptr.data<int64_t>();
  int64_t* ox = indices.data<int64_t>();
  dispatch_index(s.sparse().indptr.dtype(), [&](auto itag) {
    using I = decltype(itag);
    CsrView<I> m(s);
    for (int64_t k = 0; k < nnz; ++k) ++ip[static_cast<int64_t>(m.indices[k]) + 1];
    for (int64_t c = 0; c < C; ++c) ip[c + 1] += ip[c];
    std::vector<int64_t> next(ip, ip + C);
    dispatch(s.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* v = s.sparse().values.data<T>();
      T* ov = values.data<T>();
      for (int64_t r = 0; r < R; ++r)
        for (int64_t k = m.begin(r); k < m.end(r); ++k) {
          int64_t at = next[static_cast<int64_t>(m.indices[k])]++;
          ox[at] = r;
          ov[at] = v[k];
        }
    });
  });
  return make_sparse_tensor({C, R}, std::make_shared<SparseParts>(SparseParts{indptr, indices, values}));
}

Tensor csr_sddmm(const Tensor& s, const Tensor& x0, const Tensor& y0) {
  DType ct = compute_type(x0.dtype());
  Tensor x = x0.astype(ct).contiguous(), y = y0.astype(ct).contiguous();
  const int64_t R = s.shape()[0], N = x.shape()[1];
  Tensor values = Tensor::empty({s.sparse().nnz()}, ct);
  dispatch_index(s.sparse().indptr.dtype(), [&](auto itag) {
    using I = decltype(itag);
    CsrView<I> m(s);
    dispatch_float(ct, "dot", [&](auto tag) {
      using T = decltype(tag);
      const T *px = x.data<T>(), *py = y.data<T>();
      T* ov = values.data<T>();
      int64_t avg = s.sparse().nnz() / std::max<int64_t>(R, 1);
      parallel_for(R, row_grain((avg + 1) * N), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t k = m.begin(r); k < m.end(r); ++k) {
            using Vec = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;
            ov[k] = Vec(px + r * N, N).dot(Vec(py + static_cast<int64_t>(m.indices[k]) * N, N));
          }
      });
    });
  });
  return share_pattern(s, values.astype(x0.dtype()));
}

Tensor csr_mask(const Tensor& s, const Tensor& d0) {
  Tensor d = d0.contiguous();
  const int64_t R = s.shape()[0], C = s.shape()[1];
  Tensor values = Tensor::empty({s.sparse().nnz()}, d.dtype());
  dispatch_index(s.sparse().indptr.dtype(), [&](auto itag) {
    using I = decltype(itag);
    CsrView<I> m(s);
    dispatch(d.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* pd = d.data<T>();
      T* ov = values.data<T>();
      parallel_for(R, 1024, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t k = m.begin(r); k < m.end(r); ++k) ov[k] = pd[r * C + static_cast<int64_t>(m.indices[k])];
      });
    });
  });
  return share_pattern(s, values);
}

Tensor csr_concat(const std::vector<Tensor>& parts, int axis) {
  DType dt = parts[0].dtype();
  for (auto& p : parts) dt = promote_types(dt, p.dtype());
  std::vector<Csr64> ms;
  ms.reserve(parts.size());
  for (auto& p : parts) ms.emplace_back(p, dt);
  std::vector<int64_t> off{0};  // where each part starts along axis
  for (auto& m : ms) off.push_back(off.back() + (axis == 0 ? m.rows : m.cols));
  int64_t rows = axis == 0 ? off.back() : ms[0].rows, cols = axis == 0 ? ms[0].cols : off.back();
  return build_rows(rows, cols, dt, [&](int64_t r, std::vector<Seg>& segs) {
    if (axis == 1) {
      for (size_t i = 0; i < ms.size(); ++i) segs.push_back({&ms[i], r, 0, ms[i].cols, off[i]});
      return;
    }
    size_t i = std::upper_bound(off.begin(), off.end(), r) - off.begin() - 1;
    segs.push_back({&ms[i], r - off[i], 0, ms[i].cols, 0});
  });
}

Tensor csr_slice(const Tensor& s, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  Csr64 m(s, s.dtype());
  return build_rows(r1 - r0, c1 - c0, s.dtype(),
                    [&](int64_t r, std::vector<Seg>& segs) { segs.push_back({&m, r0 + r, c0, c1, 0}); });
}

Tensor csr_add(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    fail_value("add", "sparse operands have different shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
  DType dt = promote_types(a.dtype(), b.dtype());
  Csr64 ma(a, dt), mb(b, dt);
  return build_rows(ma.rows, ma.cols, dt, [&](int64_t r, std::vector<Seg>& segs) {
    segs.push_back({&ma, r, 0, ma.cols, 0});
    segs.push_back({&mb, r, 0, mb.cols, 0});
  });
}

}  // namespace keras_cpp
