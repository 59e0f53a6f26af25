// cpp/ops/registry_list.cpp — one line per family file.
#include "ops/families.h"

namespace keras_cpp {
void register_unary();
void register_binary();
void register_reduce();
void register_shape_ops();
void register_getitem();
void register_matmul();
void register_nn();
void register_state();
void register_activations();
void register_normalization();
void register_control_flow();
void register_control_flow_grad();
void register_shape_manip();  // shape_manip.cpp (+ slice_gather.cpp)
void register_resize_pad();
void register_conv();
void register_pool();
void register_rnn();
void register_ctc();  // ctc.cpp (+ ctc_decode.cpp)
void register_random();
void register_sparse();
void register_optimizers();

void register_all_families() {
  register_unary();
  register_binary();
  register_reduce();
  register_shape_ops();
  register_getitem();
  register_matmul();
  register_nn();
  register_state();
  register_activations();
  register_normalization();
  register_control_flow();
  register_control_flow_grad();
  register_shape_manip();
  register_resize_pad();
  register_conv();
  register_pool();
  register_rnn();
  register_ctc();
  register_random();
  register_sparse();
  register_optimizers();
}
}  // namespace keras_cpp
