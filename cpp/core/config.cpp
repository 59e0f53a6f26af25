// cpp/core/config.cpp — the single home of floatx, epsilon and image_data_format.
#include "keras_cpp/config.h"

#include <atomic>
#include <mutex>

#include "keras_cpp/error.h"

namespace keras_cpp {
namespace config {
namespace {
std::atomic<DType> g_floatx{DType::float32};
std::atomic<double> g_epsilon{1e-7};
std::mutex g_mu;
std::string g_format = "channels_last";
}  // namespace

DType floatx() { return g_floatx.load(); }
void set_floatx(DType t) {
  if (t != DType::float16 && t != DType::float32 && t != DType::float64)
    throw ValueError(std::string("Unknown floatx type: ") + dtype_name(t) +
                     " (expected one of float16, float32, float64)");
  g_floatx.store(t);
}
double epsilon() { return g_epsilon.load(); }
void set_epsilon(double e) { g_epsilon.store(e); }
std::string image_data_format() {
  std::lock_guard<std::mutex> lk(g_mu);
  return g_format;
}
void set_image_data_format(const std::string& f) {
  if (f != "channels_last" && f != "channels_first")
    throw ValueError("Unknown data_format: '" + f + "' (expected 'channels_last' or 'channels_first')");
  std::lock_guard<std::mutex> lk(g_mu);
  g_format = f;
}

}  // namespace config
}  // namespace keras_cpp
