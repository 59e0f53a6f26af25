// python/src/bind_functions.cpp — the Keras functions that take a Python callable or give
// several results: rnn, map_fn, foldl, foldr, ctc_decode, normalize_batch_in_training. Each is
// the C++ function of include/keras_cpp/ops.h; a Python step function or fn becomes a
// std::function (pybind11/functional.h), called with the GIL held while the graph is built.
// keras_cpp/backend/_control.py normalises the arguments before calling these.
#include <optional>

#include "bind.h"
#include "ops/registry.h"

namespace keras_cpp {

namespace {
std::optional<DType> dtype_opt(const std::optional<std::string>& name) {
  if (!name) return std::nullopt;
  return dtype_from_name(*name);
}

// Tensor arguments converted as a registered op converts its `tensor` parameters (numbers and
// arrays become constants; see bind_ops.cpp); None stays an undefined Expr. Anything else (a
// string, an object) raises naming the op and the parameter.
std::vector<Expr> tensor_args(const char* op, const std::vector<const char*>& names, const std::vector<py::handle>& args) {
  DType ref_t = DType::float32;
  DType* ref = reference_dtype(args, ref_t) ? &ref_t : nullptr;
  std::vector<Expr> r;
  for (size_t k = 0; k < args.size(); ++k) {
    py::handle h = args[k];
    if (h.is_none()) {
      r.push_back(Expr());
      continue;
    }
    std::string which = std::string("[") + op + "] argument '" + names[k] + "' ";
    Value v;
    try {
      v = to_value(h, Param::Tensor, ref);
    } catch (const ValueError& e) {
      throw ValueError(which + e.what());
    } catch (const TypeError& e) {
      throw TypeError(which + e.what());
    }
    if (v.kind != Value::Tensor) throw TypeError(which + "must be a tensor or None, got " + std::string(py::repr(h)).substr(0, 80));
    r.push_back(v.t);
  }
  return r;
}

}  // namespace

void init_functions(py::module_& m) {
  m.def("rnn",
        [](const RnnStep& step, const Expr& inputs, const std::vector<Expr>& initial_states, bool go_backwards,
           const Expr& mask, const std::vector<Expr>& constants, bool unroll, const Expr& input_length) {
          RnnResult r = rnn(step, inputs, initial_states, go_backwards, mask, constants, unroll, input_length);
          return py::make_tuple(r.last_output, r.outputs, r.new_states);
        },
        py::arg("step_function"), py::arg("inputs"), py::arg("initial_states"), py::arg("go_backwards"), py::arg("mask"),
        py::arg("constants"), py::arg("unroll"), py::arg("input_length"));
  m.def("map_fn",
        [](const std::function<Expr(const Expr&)>& fn, const Expr& elems, const std::optional<std::string>& dtype,
           const std::string& name) { return map_fn(fn, elems, dtype_opt(dtype), name); },
        py::arg("fn"), py::arg("elems"), py::arg("dtype"), py::arg("name"));
  using FoldFn = std::function<Expr(const Expr&, const Expr&)>;
  m.def("foldl", [](const FoldFn& fn, const Expr& elems, const Expr& init, const std::string& name) { return foldl(fn, elems, init, name); },
        py::arg("fn"), py::arg("elems"), py::arg("initializer"), py::arg("name"));
  m.def("foldr", [](const FoldFn& fn, const Expr& elems, const Expr& init, const std::string& name) { return foldr(fn, elems, init, name); },
        py::arg("fn"), py::arg("elems"), py::arg("initializer"), py::arg("name"));
  m.def("ctc_decode",
        [](const Expr& y_pred, const Expr& input_length, bool greedy, int64_t beam_width, int64_t top_paths, bool merge_repeated) {
          auto [decoded, log_prob] = ctc_decode(y_pred, input_length, greedy, beam_width, top_paths, merge_repeated);
          return py::make_tuple(decoded, log_prob);
        },
        py::arg("y_pred"), py::arg("input_length"), py::arg("greedy"), py::arg("beam_width"), py::arg("top_paths"),
        py::arg("merge_repeated"));
  m.def("normalize_batch_in_training",
        [](py::object x, py::object gamma, py::object beta, const std::vector<int64_t>& reduction_axes, double epsilon) {
          std::vector<Expr> t = tensor_args("normalize_batch_in_training", {"x", "gamma", "beta"}, {x, gamma, beta});
          auto [normed, mean, var] = normalize_batch_in_training(t[0], t[1], t[2], reduction_axes, epsilon);
          return py::make_tuple(normed, mean, var);
        },
        py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("reduction_axes"), py::arg("epsilon"));
}

}  // namespace keras_cpp
