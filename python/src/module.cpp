// python/src/module.cpp — the _core extension: one init_* call per binding file.
#include "bind.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "keras_cpp C++ engine";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const keras_cpp::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const keras_cpp::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const keras_cpp::NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    }
  });
  keras_cpp::init_config(m);
  keras_cpp::init_graph(m);
  keras_cpp::init_call(m);
  keras_cpp::init_functions(m);
  keras_cpp::init_ops(m);
  keras_cpp::init_sparse(m);
}
