// keras_cpp/config.h — process-wide defaults shared by C++ and Python (keras.json is read in
// Python; the values live here so C++ embedders see the same settings).
#pragma once
#include <cstdint>
#include <string>

#include "dtype.h"

namespace keras_cpp {
namespace config {

DType floatx();
void set_floatx(DType t);  // float16/float32/float64 only, else ValueError
double epsilon();
void set_epsilon(double e);
std::string image_data_format();
void set_image_data_format(const std::string& f);  // channels_last/channels_first, else ValueError

}  // namespace config

// Threads that kernels use, the calling thread included. The default is OMP_NUM_THREADS when set,
// else the CPUs this process may run on; set_num_threads(n >= 1) changes it for later calls at any
// time (ValueError otherwise).
int get_num_threads();
void set_num_threads(int64_t n);
}  // namespace keras_cpp
