// cpp/ops/state.h — hooks of the stateful ops for the Python binding.
#pragma once
#include <functional>
#include <string>

#include "keras_cpp/expr.h"

namespace keras_cpp {
// Made by update/update_add/update_sub/moving_average_update (ops flagged kAssign).
bool is_update_handle(const Expr& e);
// print_tensor's sink: the message and the value (default: numpy-like text on std::cout).
using PrintFunction = std::function<void(const std::string& message, const Tensor& value)>;
void set_print_function(PrintFunction f);
std::string tensor_to_string(const Tensor& t);
}  // namespace keras_cpp
