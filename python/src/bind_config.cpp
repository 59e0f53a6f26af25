// python/src/bind_config.cpp — the C++ config state, for keras_cpp/backend/_config.py.
#include "bind.h"
#include "keras_cpp/config.h"
#include "kernels/parallel.h"
#include "kernels/sgemm.h"

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
  m.def("_set_parallel_backoff", [](bool on) { detail::set_backoff_enabled(on); }, py::arg("on"),
        "Test hook: whether a late worker makes the thread pool run work serially for a while (default true).");
  // For benchmarks: which GEMM/conv kernels run, the blocking they use, and this core's FMA peak.
  m.def("_kernel_info", [] {
    const blas::Isa isa = blas::active_isa();
    const blas::CacheSizes& cs = blas::cache_sizes();
    const blas::Blocking b = blas::blocking(isa, false);
    py::dict d;
    d["isa"] = blas::isa_name(isa);
    d["avx512_available"] = blas::cpu_has(blas::Isa::avx512);
    d["exact_math"] = env_exact_math();  // KERAS_CPP_EXACT_MATH=1: correctly rounded float32 exp/log/tanh/sigmoid
    d["l1"] = cs.l1; d["l2"] = cs.l2; d["l3"] = cs.l3;
    d["mr"] = b.mr; d["nr"] = b.nr; d["kc"] = b.kc; d["nc"] = b.nc; d["mc"] = b.mc;
    return d;
  });
  m.def("_fma_peak", [](const std::string& isa, double seconds) {
    py::gil_scoped_release nogil;
    return blas::fma_peak(isa == "avx512" ? blas::Isa::avx512 : blas::Isa::avx2, seconds);
  }, py::arg("isa"), py::arg("seconds") = 0.5, "float32 GFLOP/s of one core's FMA units (0: ISA not available).");
}

}  // namespace keras_cpp
