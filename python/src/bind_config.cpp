// python/src/bind_config.cpp — the C++ config state, for keras_cpp/backend/_config.py.
#include "bind.h"
#include "keras_cpp/config.h"

namespace keras_cpp {

void init_config(py::module_& m) {
  m.def("config_floatx", [] { return std::string(dtype_name(config::floatx())); });
  m.def("config_set_floatx", [](const std::string& s) { config::set_floatx(dtype_from_name(s)); });
  m.def("config_epsilon", &config::epsilon);
  m.def("config_set_epsilon", &config::set_epsilon);
  m.def("config_image_data_format", &config::image_data_format);
  m.def("config_set_image_data_format", &config::set_image_data_format);
  m.def("get_num_threads", &get_num_threads, "Threads that kernels use, the calling thread included.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Use n >= 1 threads for later kernel calls.");
}

}  // namespace keras_cpp
