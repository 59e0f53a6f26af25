// keras_cpp/config.h — process-wide defaults shared by C++ and Python (keras.json is read in
// Python; the values live here so C++ embedders see the same settings).
#pragma once
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
}  // namespace keras_cpp
