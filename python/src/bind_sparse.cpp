// python/src/bind_sparse.cpp — scipy.sparse <-> sparse Tensor, and the sparse leaves. CSR
// matrices are fed by borrowing their three arrays (no copy, never densified); COO matrices are
// converted to CSR in C++ (O(nnz)); other formats go through scipy's tocsr().
#include "bind.h"

namespace keras_cpp {

namespace {

bool is_scipy_sparse(py::handle h) {
  return !py::isinstance<py::array>(h) && py::hasattr(h, "nnz") && py::hasattr(h, "format") && py::hasattr(h, "tocsr");
}

py::array array_attr(py::handle m, const char* name, std::vector<py::object>& keep) {
  py::array a = py::array::ensure(m.attr(name));
  if (!a) throw TypeError(std::string("scipy sparse matrix has no array '") + name + "'");
  keep.push_back(a);
  return a;
}

Tensor scipy_to_tensor(py::handle m0, bool borrow, std::vector<py::object>& keep) {
  py::object m = py::reinterpret_borrow<py::object>(m0);
  py::tuple shape = m.attr("shape");
  if (py::len(shape) != 2) throw ValueError("[sparse] only 2-D sparse matrices are supported");
  int64_t rows = shape[0].cast<int64_t>(), cols = shape[1].cast<int64_t>();
  std::string fmt = m.attr("format").cast<std::string>();
  if (fmt == "coo") {
    Tensor r = array_to_tensor(array_attr(m, "row", keep), borrow), c = array_to_tensor(array_attr(m, "col", keep), borrow);
    return sparse_from_coo(rows, cols, r, c, array_to_tensor(array_attr(m, "data", keep), borrow), "sparse");
  }
  if (fmt != "csr") {
    m = m.attr("tocsr")();
    keep.push_back(m);
  }
  Tensor ip = array_to_tensor(array_attr(m, "indptr", keep), borrow);
  Tensor ix = array_to_tensor(array_attr(m, "indices", keep), borrow);
  Tensor v = array_to_tensor(array_attr(m, "data", keep), borrow);
  return sparse_csr(rows, cols, ip, ix, v, "sparse");
}

py::object sparse_to_scipy(const Tensor& t) {
  py::module_ sp;
  try {
    sp = py::module_::import("scipy.sparse");
  } catch (py::error_already_set&) {
    throw TypeError("a sparse tensor is returned as a scipy.sparse matrix, but scipy is not installed; "
                    "convert it with K.to_dense first");
  }
  const SparseParts& p = t.sparse();
  py::tuple arrays = py::make_tuple(tensor_to_array(p.values), tensor_to_array(p.indices), tensor_to_array(p.indptr));
  return sp.attr("csr_matrix")(arrays, py::arg("shape") = py::make_tuple(t.shape()[0], t.shape()[1]));
}

}  // namespace

Tensor feed_to_tensor(py::handle v, std::vector<py::object>& keep) {
  if (is_scipy_sparse(v)) return scipy_to_tensor(v, true, keep);
  py::array a = as_array(v);
  keep.push_back(a);
  return array_to_tensor(a, true);
}

py::object tensor_to_py(const Tensor& t) { return t.is_sparse() ? sparse_to_scipy(t) : py::object(tensor_to_array(t)); }

void init_sparse(py::module_& m) {
  m.def("_is_scipy_sparse", [](py::handle h) { return is_scipy_sparse(h); });
  m.def("_sparse_placeholder", [](py::object shape, const std::string& dtype, const std::string& name) {
    if (shape.is_none()) throw ValueError("[placeholder] a sparse placeholder needs a 2-D shape (dims may be None)");
    return sparse_placeholder(placeholder_shape(shape), dtype_from_name(dtype), name);
  });
  m.def("_sparse_variable", [](py::handle matrix, const std::string& dtype, const std::string& name) {
    std::vector<py::object> keep;
    Tensor t = scipy_to_tensor(matrix, false, keep).astype(dtype_from_name(dtype));
    return variable(t, name);
  });
  m.def("_set_sparse_value", [](const Expr& v, py::handle matrix) {
    std::vector<py::object> keep;
    set_value(v, scipy_to_tensor(matrix, false, keep));
  });
  m.def("_value_to_py", [](const Expr& v) { return tensor_to_py(get_value(v)); });
}

}  // namespace keras_cpp
