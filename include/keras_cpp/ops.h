// keras_cpp/ops.h — the graph-building API, named exactly as the Keras backend functions.
// Each function builds a node (shape errors are raised here, at build time); nothing runs
// until a Function evaluates it. Defaults mirror Keras's.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "expr.h"

namespace keras_cpp {

using Axes = std::optional<std::vector<int64_t>>;  // nullopt = all axes (Keras axis=None)

// Elementwise math.
Expr abs(const Expr& x);
Expr negative(const Expr& x);
Expr square(const Expr& x);
Expr sqrt(const Expr& x);  // Keras: negative inputs are clipped to 0 first
Expr exp(const Expr& x);
Expr log(const Expr& x);
Expr sin(const Expr& x);
Expr cos(const Expr& x);
Expr tanh(const Expr& x);
Expr sigmoid(const Expr& x);
Expr sign(const Expr& x);
Expr round(const Expr& x);  // half to even
Expr softplus(const Expr& x);
Expr softsign(const Expr& x);
Expr logical_not(const Expr& x);

// Binary arithmetic with numpy broadcasting.
Expr add(const Expr& a, const Expr& b);
Expr subtract(const Expr& a, const Expr& b);
Expr multiply(const Expr& a, const Expr& b);
Expr divide(const Expr& a, const Expr& b);
Expr floordiv(const Expr& a, const Expr& b);
Expr mod(const Expr& a, const Expr& b);
Expr pow(const Expr& x, const Expr& a);
Expr pow(const Expr& x, double a);
Expr maximum(const Expr& a, const Expr& b);
Expr minimum(const Expr& a, const Expr& b);
Expr equal(const Expr& a, const Expr& b);
Expr not_equal(const Expr& a, const Expr& b);
Expr greater(const Expr& a, const Expr& b);
Expr greater_equal(const Expr& a, const Expr& b);
Expr less(const Expr& a, const Expr& b);
Expr less_equal(const Expr& a, const Expr& b);
Expr logical_and(const Expr& a, const Expr& b);
Expr logical_or(const Expr& a, const Expr& b);

Expr operator+(const Expr& a, const Expr& b);
Expr operator-(const Expr& a, const Expr& b);
Expr operator*(const Expr& a, const Expr& b);
Expr operator/(const Expr& a, const Expr& b);
Expr operator-(const Expr& a);
Expr operator+(const Expr& a, double b);
Expr operator-(const Expr& a, double b);
Expr operator*(const Expr& a, double b);
Expr operator/(const Expr& a, double b);
Expr operator+(double a, const Expr& b);
Expr operator-(double a, const Expr& b);
Expr operator*(double a, const Expr& b);
Expr operator/(double a, const Expr& b);

// Reductions (axis=None: all axes; negative axes count from the end).
Expr sum(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr mean(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr max(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr min(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr prod(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr any(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr all(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr var(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr std(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr logsumexp(const Expr& x, Axes axis = std::nullopt, bool keepdims = false);
Expr argmax(const Expr& x, int64_t axis = -1);
Expr argmin(const Expr& x, int64_t axis = -1);
Expr cumsum(const Expr& x, int64_t axis = 0);
Expr cumprod(const Expr& x, int64_t axis = 0);

// Linear algebra.
Expr dot(const Expr& x, const Expr& y);  // N-d rule: x's last axis with y's second-to-last
Expr batch_dot(const Expr& x, const Expr& y, std::optional<std::vector<int64_t>> axes = std::nullopt);
Expr matmul(const Expr& a, const Expr& b);  // batched, numpy matmul broadcasting
Expr transpose(const Expr& x);

// Shapes and dtypes.
Expr cast(const Expr& x, DType dtype);
Expr reshape(const Expr& x, const Shape& shape);
Expr permute_dimensions(const Expr& x, const std::vector<int64_t>& pattern);
Expr expand_dims(const Expr& x, int64_t axis = -1);
Expr squeeze(const Expr& x, int64_t axis);
Expr identity(const Expr& x);
Expr stop_gradient(const Expr& x);
Expr zeros_like(const Expr& x, std::optional<DType> dtype = std::nullopt);
Expr ones_like(const Expr& x, std::optional<DType> dtype = std::nullopt);
Expr shape(const Expr& x);  // 1-D int32 tensor of the run-time shape

// NN.
Expr relu(const Expr& x, double alpha = 0.0, std::optional<double> max_value = std::nullopt, double threshold = 0.0);
Expr softmax(const Expr& x, int64_t axis = -1);
Expr bias_add(const Expr& x, const Expr& bias, const std::string& data_format = "");
Expr categorical_crossentropy(const Expr& target, const Expr& output, bool from_logits = false, int64_t axis = -1);
Expr sparse_categorical_crossentropy(const Expr& target, const Expr& output, bool from_logits = false,
                                     int64_t axis = -1);
Expr where(const Expr& cond, const Expr& a, const Expr& b);  // elementwise select, broadcasting
Expr clip(const Expr& x, double min_value, double max_value);  // max < min: max is raised to min (Keras)
Expr one_hot(const Expr& indices, int64_t num_classes);         // float32, out-of-range: all-zero row

// Variable updates: update ops that assign when evaluated (K.eval, a Function output or update)
// and yield the new value; see function.h for their order within a call.
Expr update(const Expr& x, const Expr& new_x);
Expr update_add(const Expr& x, const Expr& increment);
Expr update_sub(const Expr& x, const Expr& decrement);

// Activations, classification helpers, normalization and control flow.
Expr elu(const Expr& x, double alpha = 1.0);  // x if x > 0 else alpha * (exp(x) - 1)
Expr hard_sigmoid(const Expr& x);  // clip(0.2 x + 0.5, 0, 1)
Expr in_top_k(const Expr& predictions, const Expr& targets, int64_t k);  // bool (batch,); ties count as in
Expr l2_normalize(const Expr& x, Axes axis = std::nullopt);  // x / sqrt(max(sum(x^2), 1e-12))
Expr batch_normalization(const Expr& x, const Expr& mean, const Expr& var, const Expr& beta, const Expr& gamma,
                         int64_t axis = -1, double epsilon = 1e-3);  // beta/gamma may be undefined (None)
// (normed, mean, var) with batch mean and population variance over reduction_axes.
std::tuple<Expr, Expr, Expr> normalize_batch_in_training(const Expr& x, const Expr& gamma, const Expr& beta,
                                                         const std::vector<int64_t>& reduction_axes, double epsilon = 1e-3);
// fn is traced once on a placeholder shaped like elems[0] (named `name`/element); the loop runs
// in the executor.
Expr map_fn(const std::function<Expr(const Expr&)>& fn, const Expr& elems, std::optional<DType> dtype = std::nullopt,
            const std::string& name = "");
// acc = fn(acc, elems[i]) for i ascending (foldr: descending); undefined initializer = first (last) element.
Expr foldl(const std::function<Expr(const Expr&, const Expr&)>& fn, const Expr& elems, const Expr& initializer = Expr(),
           const std::string& name = "");
Expr foldr(const std::function<Expr(const Expr&, const Expr&)>& fn, const Expr& elems, const Expr& initializer = Expr(),
           const std::string& name = "");
// Keras switch (`switch` is a C++ keyword): scalar condition picks a branch, else elementwise.
Expr switch_(const Expr& condition, const Expr& then_expression, const Expr& else_expression);
// Shape manipulation, padding and resizing.
Expr concatenate(const std::vector<Expr>& tensors, int64_t axis = -1);  // negative axis: modulo rank
Expr stack(const std::vector<Expr>& tensors, int64_t axis = 0);         // along a new axis
Expr tile(const Expr& x, const std::vector<int64_t>& n);                 // shorter n: left-padded with 1s
Expr repeat_elements(const Expr& x, int64_t rep, int64_t axis);          // np.repeat along axis
Expr repeat(const Expr& x, int64_t n);                                   // (batch, dim) -> (batch, n, dim)
Expr flatten(const Expr& x);                                             // 1-D, row-major
Expr batch_flatten(const Expr& x);                                       // (batch, prod(other dims))
Expr reverse(const Expr& x, const std::vector<int64_t>& axes);           // flip the axes (a view)
Expr slice(const Expr& x, const std::vector<int64_t>& start, const std::vector<int64_t>& size);  // size -1: to the end
Expr gather(const Expr& reference, const Expr& indices);                 // rows along axis 0
Expr size(const Expr& x);                                                // element count, scalar int32
Expr temporal_padding(const Expr& x, std::pair<int64_t, int64_t> padding = {1, 1});
Expr spatial_2d_padding(const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& padding = {{1, 1}, {1, 1}},
                        const std::string& data_format = "");            // "" = image_data_format()
Expr spatial_3d_padding(const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& padding = {{1, 1}, {1, 1}, {1, 1}},
                        const std::string& data_format = "");
Expr resize_images(const Expr& x, int64_t height_factor, int64_t width_factor, const std::string& data_format = "",
                   const std::string& interpolation = "nearest");        // nearest or legacy-TF bilinear
Expr resize_volumes(const Expr& x, int64_t depth_factor, int64_t height_factor, int64_t width_factor,
                    const std::string& data_format = "");

// Convolution and pooling (kernel layouts independent of data_format; "" = image_data_format()).
Expr conv1d(const Expr& x, const Expr& kernel, int64_t strides = 1, const std::string& padding = "valid",
            const std::string& data_format = "", int64_t dilation_rate = 1);  // padding may be "causal"
Expr conv2d(const Expr& x, const Expr& kernel, const std::vector<int64_t>& strides = {1, 1},
            const std::string& padding = "valid", const std::string& data_format = "",
            const std::vector<int64_t>& dilation_rate = {1, 1});  // kernel (kh, kw, in, out)
Expr conv3d(const Expr& x, const Expr& kernel, const std::vector<int64_t>& strides = {1, 1, 1},
            const std::string& padding = "valid", const std::string& data_format = "",
            const std::vector<int64_t>& dilation_rate = {1, 1, 1});  // kernel (kd, kh, kw, in, out)
Expr conv2d_transpose(const Expr& x, const Expr& kernel, const std::vector<int64_t>& output_shape,
                      const std::vector<int64_t>& strides = {1, 1}, const std::string& padding = "valid",
                      const std::string& data_format = "", const std::vector<int64_t>& dilation_rate = {1, 1});  // kernel (kh, kw, out, in)
Expr depthwise_conv2d(const Expr& x, const Expr& depthwise_kernel, const std::vector<int64_t>& strides = {1, 1},
                      const std::string& padding = "valid", const std::string& data_format = "",
                      const std::vector<int64_t>& dilation_rate = {1, 1});  // output channel c*mult + m
Expr separable_conv2d(const Expr& x, const Expr& depthwise_kernel, const Expr& pointwise_kernel,
                      const std::vector<int64_t>& strides = {1, 1}, const std::string& padding = "valid",
                      const std::string& data_format = "", const std::vector<int64_t>& dilation_rate = {1, 1});
Expr pool2d(const Expr& x, const std::vector<int64_t>& pool_size, const std::vector<int64_t>& strides = {1, 1},
            const std::string& padding = "valid", const std::string& data_format = "",
            const std::string& pool_mode = "max");  // SAME windows ignore padding

// Recurrent loop. step(x_t, states + constants) -> (output_t, new_states).
using RnnStep = std::function<std::pair<Expr, std::vector<Expr>>(const Expr&, const std::vector<Expr>&)>;
struct RnnResult {
  Expr last_output, outputs;  // outputs (samples, time, ...) in processing order
  std::vector<Expr> new_states;
};
// Keras K.rnn: step is called on the first time slice (as Keras does: cells make their dropout
// masks there), then traced once on placeholders and looped in C++ (unroll: copied per step at
// build time); mask (samples, time) or, without it, input_length (per-sample lengths) keeps
// states/outputs.
RnnResult rnn(const RnnStep& step, const Expr& inputs, const std::vector<Expr>& initial_states, bool go_backwards = false,
              const Expr& mask = Expr(), const std::vector<Expr>& constants = {}, bool unroll = false,
              const Expr& input_length = Expr());
// CTC: blank = the last class; y_pred holds probabilities (samples, time, classes).
Expr ctc_label_dense_to_sparse(const Expr& labels, const Expr& label_lengths);  // dense int64, -1 past each length
Expr ctc_batch_cost(const Expr& y_true, const Expr& y_pred, const Expr& input_length,
                    const Expr& label_length);  // (samples, 1) negative log-likelihood
// (decoded: one int64 (samples, longest) tensor per path, padded with -1; log_prob (samples, paths)).
std::pair<std::vector<Expr>, Expr> ctc_decode(const Expr& y_pred, const Expr& input_length, bool greedy = true,
                                              int64_t beam_width = 100, int64_t top_paths = 1, bool merge_repeated = false);
// Creation and random. Each evaluation of a random node draws fresh numbers; a seed fixes the
// sequence (same seed, same numbers, whatever the thread count); no seed: a fresh one per call.
// Symbolic shapes (a list mixing ints and scalar tensors, or shape(x)) go through call("random_normal", ...).
Expr arange(int64_t start, std::optional<int64_t> stop = std::nullopt, int64_t step = 1, DType dtype = DType::int32);
Expr random_uniform(const Shape& shape, double minval = 0.0, double maxval = 1.0,
                    std::optional<DType> dtype = std::nullopt, std::optional<int64_t> seed = std::nullopt);
Expr random_normal(const Shape& shape, double mean = 0.0, double stddev = 1.0,
                   std::optional<DType> dtype = std::nullopt, std::optional<int64_t> seed = std::nullopt);
Expr truncated_normal(const Shape& shape, double mean = 0.0, double stddev = 1.0,  // redraws beyond 2 stddev
                      std::optional<DType> dtype = std::nullopt, std::optional<int64_t> seed = std::nullopt);
Expr random_binomial(const Shape& shape, double p = 0.0, std::optional<DType> dtype = std::nullopt,
                     std::optional<int64_t> seed = std::nullopt);
Expr random_uniform_variable(const Shape& shape, double low, double high, std::optional<DType> dtype = std::nullopt,
                             const std::string& name = "", std::optional<int64_t> seed = std::nullopt);
Expr random_normal_variable(const Shape& shape, double mean, double scale, std::optional<DType> dtype = std::nullopt,
                            const std::string& name = "", std::optional<int64_t> seed = std::nullopt);
// Keep entries with probability 1 - level, scaled by 1/(1 - level); always applies.
Expr dropout(const Expr& x, double level, std::optional<Shape> noise_shape = std::nullopt,
             std::optional<int64_t> seed = std::nullopt);

}  // namespace keras_cpp
