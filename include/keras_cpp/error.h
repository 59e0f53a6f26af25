// keras_cpp/error.h — the exceptions the library throws on bad input.
// Python sees Error as RuntimeError, ValueError as ValueError, TypeError as TypeError.
#pragma once
#include <stdexcept>
#include <string>

namespace keras_cpp {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A bad argument value (axis out of range, shape mismatch, unknown data_format...).
struct ValueError : Error {
  using Error::Error;
};
// A bad argument type or dtype.
struct TypeError : Error {
  using Error::Error;
};
// Raised by `tile` and friends where Keras itself raises NotImplementedError.
struct NotImplementedError : Error {
  using Error::Error;
};

}  // namespace keras_cpp
