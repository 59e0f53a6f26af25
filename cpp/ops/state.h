// cpp/ops/state.h — hooks of the stateful ops for the Python binding.
#pragma once
#include <functional>
#include <string>

#include "keras_cpp/expr.h"

namespace keras_cpp {
bool is_update_handle(const Expr& e);  // made by update/update_add/update_sub/moving_average_update
void set_print_function(std::function<void(const std::string&)> f);  // print_tensor's sink
std::string tensor_to_string(const Tensor& t);
}  // namespace keras_cpp
