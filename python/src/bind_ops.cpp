// python/src/bind_ops.cpp — every registered op becomes a Python function, mechanically: the
// schema says how each argument converts; the docstring starts with the Keras signature. An op
// whose node has several results returns them as a list.
#include "bind.h"
#include "ops/registry.h"

namespace keras_cpp {

bool reference_dtype(const std::vector<py::handle>& args, DType& ref) {
  // The dtype of the first tensor argument decides what numbers/arrays become.
  for (py::handle h : args)
    if (h && py::isinstance<Output>(h)) {
      ref = h.cast<Output&>().type.dtype;
      return true;
    }
  // No tensor argument: a numpy array decides instead (pow(np_float16_array, 0.5) stays float16).
  for (py::handle h : args)
    if (h && py::isinstance<py::array>(h)) {
      py::array a = py::reinterpret_borrow<py::array>(h);
      char k = a.dtype().kind();
      if (k == 'f' || k == 'i' || k == 'b' || (k == 'u' && a.dtype().itemsize() == 1)) {
        ref = dtype_of_array(a);
        return true;
      }
    }
  return false;
}

// Python's argument binding: h[i] is parameter i's argument (null where not given).
static std::vector<py::handle> bind_arguments(const OpDef& op, py::args args, py::kwargs kwargs) {
  size_t np = op.params.size();
  if (args.size() > np)
    throw TypeError("[" + op.name + "] takes " + std::to_string(np) + " arguments but " + std::to_string(args.size()) + " were given; signature " + op.py_signature);
  std::vector<py::handle> h(np);
  for (size_t i = 0; i < args.size(); ++i) h[i] = args[i];
  for (auto kv : kwargs) {
    std::string k = kv.first.cast<std::string>();
    size_t i = 0;
    while (i < np && op.params[i].name != k) ++i;
    if (i == np) throw TypeError("[" + op.name + "] got an unexpected keyword argument '" + k + "'; signature " + op.py_signature);
    if (h[i]) throw TypeError("[" + op.name + "] got multiple values for argument '" + k + "'");
    h[i] = kv.second;
  }
  return h;
}

// The arguments as Values up to the last one given; a parameter not given takes its default.
static std::vector<Value> convert_arguments(const OpDef& op, const std::vector<py::handle>& h) {
  DType ref_t = DType::float32;
  DType* ref = reference_dtype(h, ref_t) ? &ref_t : nullptr;
  size_t last = 0;
  for (size_t i = 0; i < h.size(); ++i) if (h[i]) last = i + 1;
  std::vector<Value> vals;
  for (size_t i = 0; i < last; ++i) {
    if (h[i]) {
      try {
        vals.push_back(to_value(h[i], op.params[i].kind, ref));
      } catch (const TypeError& e) {
        throw TypeError("[" + op.name + "] argument '" + op.params[i].name + "': " + e.what());
      } catch (const ValueError& e) {
        throw ValueError("[" + op.name + "] argument '" + op.params[i].name + "': " + e.what());
      }
    }
    else if (op.params[i].has_default) vals.push_back(op.params[i].def);
    else throw TypeError("[" + op.name + "] missing required argument '" + op.params[i].name + "'; signature " + op.py_signature);
  }
  return vals;
}

static py::object call_op(const OpDef& op, py::args args, py::kwargs kwargs) {
  Expr r = call(op.name, convert_arguments(op, bind_arguments(op, args, kwargs)));
  if (r && r->num_outputs() > 1) return py::cast(outputs_of(r));  // an op with several results: all of them
  return py::cast(r);
}

void init_ops(py::module_& m) {
  py::options opts;
  opts.disable_function_signatures();
  py::dict sigs, typed;  // typed: signatures with kinds, for gen_api.py's stubs and the fuzz tests
  for (const OpDef* op : all_ops()) {
    std::string doc = op->py_signature + "\n--\n\n" + op->doc;
    m.def(op->name.c_str(), [op](py::args a, py::kwargs k) { return call_op(*op, a, k); }, doc.c_str());
    sigs[py::str(op->name)] = py::make_tuple(op->py_signature, op->primitive(), op->grad ? true : false,
                                             (op->flags & kNonDiff) != 0);
    typed[py::str(op->name)] = op->signature;
  }
  m.attr("_ops") = sigs;
  m.attr("_op_signatures") = typed;
}

}  // namespace keras_cpp
