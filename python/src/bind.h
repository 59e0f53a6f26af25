// python/src/bind.h — shared declarations of the binding files (one init_* per file), and the
// conversion between Expr and Python's Tensor objects.
#pragma once
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "graph/node.h"
#include "keras_cpp/keras_cpp.h"

namespace py = pybind11;

// Shape (keras_cpp::SmallDims) crosses to and from Python as std::vector<int64_t> does: a list
// of ints out, any sequence of ints in.
namespace pybind11::detail {
template <>
struct type_caster<keras_cpp::SmallDims> {
  PYBIND11_TYPE_CASTER(keras_cpp::SmallDims, make_caster<std::vector<int64_t>>::name);  // the same signatures in the stubs
  bool load(handle src, bool convert) {
    make_caster<std::vector<int64_t>> v;
    if (!v.load(src, convert)) return false;
    value = cast_op<std::vector<int64_t>&&>(std::move(v));
    return true;
  }
  static handle cast(const keras_cpp::SmallDims& s, return_value_policy p, handle parent) {
    return make_caster<std::vector<int64_t>>::cast(s.vec(), p, parent);
  }
};
}  // namespace pybind11::detail

namespace keras_cpp {
void init_config(py::module_& m);
void init_graph(py::module_& m);
void init_functions(py::module_& m);
void init_ops(py::module_& m);
void init_sparse(py::module_& m);
void init_call(py::module_& m);

// numpy <-> Tensor. `borrow`: wrap the array's memory (valid while the array lives).
Tensor array_to_tensor(const py::array& a, bool borrow);
py::array as_array(py::handle h);  // numpy.asarray; numpy's failure as a ValueError
Shape placeholder_shape(py::handle shape);  // ints >= 0 or None (unknown), else a clear error
py::array tensor_to_array(Tensor t);  // moved in: no copy when it holds the only reference
DType dtype_of_array(const py::array& a);
bool native_byteorder(char numpy_byteorder);  // the dtype's byteorder char: native words or not applicable
// A Function feed (array, number or scipy.sparse matrix), borrowing its memory; `keep` holds the
// Python objects borrowed from. Results go back as arrays, or scipy CSR matrices when sparse.
Tensor feed_to_tensor(py::handle v, std::vector<py::object>& keep);
py::object tensor_to_py(const Tensor& t);
// A Function result as TF's Session.run gives it: an ndarray, a numpy scalar when 0-d, or a
// scipy CSR matrix when sparse (moved in, as tensor_to_array).
py::object result_value(Tensor t);
// Python value -> op argument; numbers/arrays for tensor parameters become constants of `ref`'s
// dtype when both are floats (Keras: python scalars take the tensor operand's dtype).
Value to_value(py::handle h, int kind, DType* ref);
// The dtype that numbers and arrays among `args` take (unset handles are skipped): the first
// tensor's, else the first numeric array's. False if there is neither.
bool reference_dtype(const std::vector<py::handle>& args, DType& ref);
}  // namespace keras_cpp

// Python's Tensor is a node's Output (graph/node.h), held through a shared_ptr that shares the
// node's ownership. pybind11 keeps one Python object per live Output, so the same result always
// comes back as the same object (with the attributes Keras set on it). None <-> undefined Expr.
namespace pybind11 {
namespace detail {
template <>
struct type_caster<keras_cpp::Expr> {
  PYBIND11_TYPE_CASTER(keras_cpp::Expr, const_name("Tensor"));
  bool load(handle src, bool) {
    if (src.is_none()) {
      value = keras_cpp::Expr();
      return true;
    }
    if (!isinstance<keras_cpp::Output>(src)) return false;
    auto out = src.cast<std::shared_ptr<keras_cpp::Output>>();
    value = keras_cpp::Expr(std::shared_ptr<keras_cpp::Node>(out, out->node), out->index);
    return true;
  }
  static handle cast(const keras_cpp::Expr& e, return_value_policy, handle) {
    if (!e) return none().release();
    std::shared_ptr<keras_cpp::Output> out(e.node(), &e->outputs[e.index()]);
    return pybind11::cast(std::move(out)).release();
  }
};
}  // namespace detail
}  // namespace pybind11
