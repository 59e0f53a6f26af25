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

// numpy <-> Tensor. `borrow`: wrap the array's memory (valid while the array lives).
Tensor array_to_tensor(const py::array& a, bool borrow);
py::array tensor_to_array(Tensor t);  // moved in: no copy when it holds the only reference
DType dtype_of_array(const py::array& a);
// Python value -> op argument; numbers/arrays for tensor parameters become constants of `ref`'s
// dtype when both are floats (Keras: python scalars take the tensor operand's dtype).
Value to_value(py::handle h, int kind, DType* ref);
void sync_config();  // pull Keras's config (keras.backend.common) into the C++ state if loaded
}  // namespace keras_cpp
