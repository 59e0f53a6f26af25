// python/src/bind.h — shared declarations of the binding files (one init_* per file).
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "keras_cpp/keras_cpp.h"

namespace py = pybind11;

namespace keras_cpp {
void init_config(py::module_& m);
void init_graph(py::module_& m);
void init_ops(py::module_& m);
void init_sparse(py::module_& m);

// numpy <-> Tensor. `borrow`: wrap the array's memory (valid while the array lives).
Tensor array_to_tensor(const py::array& a, bool borrow);
py::array as_array(py::handle h);  // numpy.asarray; numpy's failure as a ValueError
Shape placeholder_shape(py::handle shape);  // ints >= 0 or None (unknown), else a clear error
py::array tensor_to_array(const Tensor& t);
DType dtype_of_array(const py::array& a);
// A Function feed (array, number or scipy.sparse matrix), borrowing its memory; `keep` holds the
// Python objects borrowed from. Results go back as arrays, or scipy CSR matrices when sparse.
Tensor feed_to_tensor(py::handle v, std::vector<py::object>& keep);
py::object tensor_to_py(const Tensor& t);
// Python value -> op argument; numbers/arrays for tensor parameters become constants of `ref`'s
// dtype when both are floats (Keras: python scalars take the tensor operand's dtype).
Value to_value(py::handle h, int kind, DType* ref);
void sync_config();  // pull Keras's config (keras.backend.common) into the C++ state if loaded
}  // namespace keras_cpp
