// keras_cpp/keras_cpp.h — the umbrella header for embedding keras_cpp in C++ programs.
//
// keras_cpp is a tensor engine with the Keras 2 backend API. You build a symbolic graph out of
// placeholders, variables and constants with functions named as in Keras (`dot`, `relu`,
// `categorical_crossentropy`...), take gradients as more graph nodes, and compile
// `Function(inputs, outputs, updates)` into a plan that runs without Python. Errors are
// exceptions deriving from keras_cpp::Error.
//
// Example: one SGD step of a linear model.
//
//   #include <keras_cpp/keras_cpp.h>
//   namespace kc = keras_cpp;
//   kc::Expr x = kc::placeholder({-1, 3}, kc::DType::float32, "x");
//   kc::Expr y = kc::placeholder({-1, 1}, kc::DType::float32, "y");
//   kc::Expr w = kc::variable(kc::Tensor::zeros({3, 1}, kc::DType::float32), "w");
//   kc::Expr loss = kc::mean(kc::square(kc::dot(x, w) - y));
//   kc::Expr g = kc::gradients(loss, {w})[0];
//   kc::Function step({x, y}, {loss}, {{w, w - 0.1 * g}});
//   std::vector<kc::Tensor> out = step({x_batch, y_batch});   // out[0] holds the loss
//
// Tensors are row-major and refcounted; `Tensor::from_data` copies caller memory, and
// `Tensor(Storage::wrap(...), ...)` borrows it. Unknown dimensions (Keras `None`) are -1. An Expr
// names one result of a graph node; most functions give one, rnn/ctc_decode/
// normalize_batch_in_training give several.
// Threads: kernels use one level of threads from keras_cpp's own pool; set_num_threads(n) (or
// OMP_NUM_THREADS at start-up) chooses how many.
#pragma once
#include "autodiff.h"
#include "config.h"
#include "dtype.h"
#include "error.h"
#include "expr.h"
#include "function.h"
#include "ops.h"
#include "shape.h"
#include "sparse.h"
#include "tensor.h"
