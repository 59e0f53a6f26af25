// python/src/bind_call.cpp — the Function class and its call. `f([arrays])` is the hot path of
// Keras's fit/predict: it enters through the type's own tp_call slot (no pybind11 dispatch, no
// bound method), and a light call (Function::try_call) keeps the GIL, as releasing it costs more
// than the work. Anything else goes to the pybind11-bound `_call`, which checks and converts.
#include "bind.h"

namespace keras_cpp {

namespace {

// Function feed i; errors name the input.
Tensor call_feed_at(const py::sequence& values, size_t i, std::vector<py::object>& keep) {
  py::object v = values[i];
  auto which = [i] { return "[function] input " + std::to_string(i) + ": "; };
  if (v.is_none() || py::isinstance<py::str>(v) || py::isinstance<py::bytes>(v))
    throw TypeError(which() + "expected an array or a number, got " + std::string(py::repr(v)).substr(0, 80));
  try {
    return feed_to_tensor(v, keep);
  } catch (const ValueError& e) {
    throw ValueError(which() + e.what());
  } catch (const TypeError& e) {
    throw TypeError(which() + e.what());
  }
}

// An exact, native-order, C-contiguous ndarray of a dtype the kernels read as they are: its
// memory borrowed with no numpy call (array_to_tensor's borrow path, without the attribute
// lookups). False for anything else, which call_feed_at converts.
bool plain_array_feed(PyObject* o, Tensor& out) {
  auto& api = py::detail::npy_api::get();
  if (Py_TYPE(o) != api.PyArray_Type_) return false;
  auto* a = py::detail::array_proxy(o);
  if (!(a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_)) return false;
  auto* d = py::detail::array_descriptor_proxy(a->descr);
  if (!native_byteorder(d->byteorder)) return false;
  DType t;
  switch (d->type_num) {
    case py::detail::npy_api::NPY_FLOAT_: t = DType::float32; break;
    case py::detail::npy_api::NPY_DOUBLE_: t = DType::float64; break;
    case py::detail::npy_api::NPY_INT_: t = DType::int32; break;
    case py::detail::npy_api::NPY_LONG_: t = sizeof(long) == 8 ? DType::int64 : DType::int32; break;
    case py::detail::npy_api::NPY_LONGLONG_: t = DType::int64; break;
    case py::detail::npy_api::NPY_BOOL_: t = DType::bool_; break;
    case py::detail::npy_api::NPY_UBYTE_: t = DType::uint8; break;
    default: return false;
  }
  Shape shape(a->dimensions, a->dimensions + a->nd);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  auto st = Storage::wrap(a->data, static_cast<size_t>(n) * dtype_size(t), nullptr, true);
  Shape strides = contiguous_strides(shape);
  out = Tensor(std::move(st), std::move(shape), std::move(strides), 0, t);
  return true;
}

py::list call_results(std::vector<Tensor>& outs) {
  py::list r(outs.size());
  for (size_t i = 0; i < outs.size(); ++i)  // moved: no copy when nothing else holds it
    PyList_SET_ITEM(r.ptr(), static_cast<py::ssize_t>(i), result_value(std::move(outs[i])).release().ptr());
  return r;
}

// Light calls (Function::try_call) run holding the GIL, unless another thread is inside the Function
// (it may be waiting for the GIL itself); the rest release it. `hold`: a list whose items the
// feeds borrow from, copied first when the GIL is released (other threads may change the list).
void call_plan(Function& f, std::vector<Tensor>&& feeds, PyObject* hold, std::vector<Tensor>& outs) {
  if (f.try_call(std::move(feeds), outs)) return;
  py::object held;
  if (hold) {
    held = py::reinterpret_steal<py::object>(PyList_GetSlice(hold, 0, PyList_GET_SIZE(hold)));
    if (!held) throw py::error_already_set();
  }
  py::gil_scoped_release nogil;
  outs = f(std::move(feeds));
}

// One call: the feeds converted (borrowing the arrays' memory), the plan run, the results as arrays.
py::list run_function(Function& f, const py::sequence& values) {
  // `keep` holds the fed arrays while the GIL is released (the list could change meanwhile).
  const size_t n = py::len(values);
  std::vector<py::object> keep;
  std::vector<Tensor> feeds;
  keep.reserve(n);
  feeds.reserve(n);
  for (size_t i = 0; i < n; ++i) feeds.push_back(call_feed_at(values, i, keep));
  std::vector<Tensor> outs;
  call_plan(f, std::move(feeds), nullptr, outs);
  return call_results(outs);
}

// The feed and result vectors of tp_call's path, kept per thread so that a call allocates
// neither. A call that starts while another is in progress on the thread (a print callback
// calling a Function) finds them taken and makes its own. Emptied before they are put back: no
// tensor (nor borrowed memory) outlives its call here.
struct CallVectors {
  std::vector<Tensor> feeds, outs;
};
thread_local CallVectors t_spare;
struct SpareVectors : CallVectors {
  CallVectors& home;  // t_spare, looked up once (a thread-local with a destructor costs two lookups)
  explicit SpareVectors(CallVectors& h) : CallVectors{std::move(h.feeds), std::move(h.outs)}, home(h) {}
  ~SpareVectors() {
    feeds.clear();
    outs.clear();
    home.feeds = std::move(feeds);
    home.outs = std::move(outs);
  }
};

// tp_call's path: a list of plain arrays (`done` false, nothing run: it is not).
PyObject* run_plain_list(Function& f, PyObject* values, bool& done) {
  const Py_ssize_t n = PyList_GET_SIZE(values);
  SpareVectors v(t_spare);
  v.feeds.resize(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i)
    if (!plain_array_feed(PyList_GET_ITEM(values, i), v.feeds[static_cast<size_t>(i)])) return nullptr;
  done = true;
  call_plan(f, std::move(v.feeds), values, v.outs);
  return call_results(v.outs).release().ptr();
}

// The Function an instance holds: pybind11's simple layout (one C++ base) once __init__ ran.
Function* function_of(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->simple_layout || !inst->simple_holder_constructed) return nullptr;
  return static_cast<Function*>(inst->simple_value_holder[0]);
}

PyObject* function_tp_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  Function* f = function_of(self);
  PyObject* values = !kwargs && PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : nullptr;
  if (f && values && PyList_CheckExact(values)) {
    try {
      bool done = false;
      PyObject* r = run_plain_list(*f, values, done);
      if (done) return r;
    } catch (...) {
      py::detail::try_translate_exceptions();
      return nullptr;
    }
  }
  PyObject* call = PyObject_GetAttrString(self, "_call");
  if (!call) return nullptr;
  PyObject* r = PyObject_Call(call, args, kwargs);
  Py_DECREF(call);
  return r;
}

}  // namespace

void init_call(py::module_& m) {
  py::class_<Function>(m, "Function", py::custom_type_setup([](PyHeapTypeObject* t) { t->ht_type.tp_call = function_tp_call; }))
      .def(py::init([](std::vector<Expr> inputs, std::vector<Expr> outputs, std::vector<Expr> update_ops) {
             return new Function(inputs, outputs, {}, update_ops);
           }),
           py::arg("inputs"), py::arg("outputs"), py::arg("update_ops"))
      .def("_run", &run_function, py::arg("values"))
      // __call__ (tp_call) comes here for what is not a list of plain arrays: a list of other
      // values runs here; anything else (a dict, a tuple, symbolic tensors among the values) goes
      // to the subclass's _call_general (keras_cpp.backend.Function) when it has one.
      .def("_call", [](py::object self, py::handle values) -> py::object {
        if (PyList_CheckExact(values.ptr())) {
          bool plain = true;
          for (py::handle v : py::reinterpret_borrow<py::list>(values)) plain = plain && !py::isinstance<Output>(v);
          if (plain) return run_function(self.cast<Function&>(), py::reinterpret_borrow<py::sequence>(values));
        }
        py::object general = py::getattr(self, "_call_general", py::none());
        if (!general.is_none()) return general(values);
        return run_function(self.cast<Function&>(), values.cast<py::sequence>());
      }, py::arg("values"))
      .def_property_readonly("num_steps", &Function::num_steps);
}

}  // namespace keras_cpp
