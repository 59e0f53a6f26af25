// python/src/bind_graph.cpp — the Tensor class (node results as Keras sees them), numpy interop,
// leaves and gradients (Function is in bind_call.cpp).
#include <cmath>
#include <cstring>
#include <optional>

#include "bind.h"
#include "ops/getitem.h"
#include "ops/registry.h"
#include "ops/state.h"

namespace keras_cpp {

namespace {
inline py::object obj(py::handle h) { return py::reinterpret_borrow<py::object>(h); }
inline bool is_tensor(py::handle h) { return py::isinstance<Output>(h); }
inline DType dtype_of(py::handle h) { return h.cast<Output&>().type.dtype; }
}

DType dtype_of_array(const py::array& a) {
  char k = a.dtype().kind();
  size_t n = a.dtype().itemsize();
  if (k == 'f') return n == 2 ? DType::float16 : n == 4 ? DType::float32 : DType::float64;
  if (k == 'b') return DType::bool_;
  if (k == 'u' && n == 1) return DType::uint8;
  if (k == 'i' || k == 'u') return n == 1 ? DType::int8 : n == 2 ? DType::int16 : n == 4 ? DType::int32 : DType::int64;
  throw TypeError("unsupported numpy dtype '" + std::string(py::str(a.dtype())) + "'");
}

// numpy's dtype objects, made once (parsing a name per returned array costs more than the call);
// never freed, as they would outlive the interpreter.
static const py::dtype& np_dtype(DType t) {
  static auto* made = new std::vector<py::dtype>(static_cast<size_t>(DType::bool_) + 1);
  py::dtype& d = (*made)[static_cast<size_t>(t)];
  if (!d) d = t == DType::bool_ ? py::dtype("bool") : py::dtype(dtype_name(t));
  return d;
}

// numpy's isnative without the attribute lookup: '=' native, '|' not applicable.
bool native_byteorder(char b) {
  const uint16_t one = 1;
  const bool little = *reinterpret_cast<const char*>(&one) == 1;
  return b == '=' || b == '|' || b == (little ? '<' : '>');
}

py::array as_array(py::handle h) {
  if (py::isinstance<py::array>(h)) return py::reinterpret_borrow<py::array>(h);
  try {
    return py::module_::import("numpy").attr("asarray")(h);
  } catch (py::error_already_set& e) {  // ragged lists and the like: numpy's reason, as a ValueError
    throw ValueError(std::string("cannot make an array of ") + std::string(py::repr(h)).substr(0, 80) + ": " + e.what());
  }
}

Tensor array_to_tensor(const py::array& a0, bool borrow) {
  py::array a = a0;
  // Kernels read native words, so '>f4' (on x86) is converted here, where every numpy value enters.
  if (!native_byteorder(a.dtype().byteorder())) a = a.attr("astype")(a.dtype().attr("newbyteorder")("="));
  char k = a.dtype().kind();
  if (k == 'u' && a.dtype().itemsize() > 1) a = py::array::ensure(a.attr("astype")("int64"));
  DType t = dtype_of_array(a);
  if (t == DType::float64 && a.dtype().itemsize() != 8) throw TypeError("unsupported float width");
  Shape shape(a.shape(), a.shape() + a.ndim());
  bool contig = a.flags() & py::array::c_style;
  if (borrow && contig) {
    auto st = Storage::wrap(const_cast<void*>(a.data()), a.nbytes(), nullptr, true);
    return Tensor(st, shape, contiguous_strides(shape), 0, t);
  }
  py::array c = py::array::ensure(a, py::array::c_style | py::array::forcecast);
  return Tensor::from_data(c.data(), shape, t);
}

// What TF's Session.run returns: an ndarray, or a numpy scalar (np.float32...) for a 0-d value.
py::object result_value(Tensor t) {
  if (t.is_sparse()) return tensor_to_py(t);  // a scipy CSR matrix
  const bool scalar = t.ndim() == 0;
  py::array a = tensor_to_array(std::move(t));
  return scalar ? a.attr("__getitem__")(py::tuple()) : py::object(a);
}

namespace {
// The base object of a result array: one small Python object holding the storage's shared_ptr
// (a capsule needs the shared_ptr on the heap besides, and pybind11's saves and restores the
// error state twice when freed). A result array is made and freed on every call. Dropping a
// Storage never calls into Python (no storage made from Python has a release function).
struct StorageOwner {
  PyObject_HEAD
  std::shared_ptr<Storage> storage;
};
PyTypeObject* g_owner_type = nullptr;  // made by init_graph, under the GIL

void owner_dealloc(PyObject* o) {
  reinterpret_cast<StorageOwner*>(o)->storage.~shared_ptr();
  PyTypeObject* tp = Py_TYPE(o);
  tp->tp_free(o);
  Py_DECREF(tp);  // an instance of a heap type holds a reference to it
}

void make_owner_type() {
  static PyType_Slot slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(owner_dealloc)}, {0, nullptr}};
  static PyType_Spec spec = {"keras_cpp._core._StorageOwner", sizeof(StorageOwner), 0, Py_TPFLAGS_DEFAULT, slots};
  g_owner_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (!g_owner_type) throw py::error_already_set();
}

py::object storage_owner(const std::shared_ptr<Storage>& s) {
  PyObject* o = g_owner_type->tp_alloc(g_owner_type, 0);  // zeroed, with a reference to the type
  if (!o) throw py::error_already_set();
  new (&reinterpret_cast<StorageOwner*>(o)->storage) std::shared_ptr<Storage>(s);
  return py::reinterpret_steal<py::object>(o);
}
}  // namespace

py::array tensor_to_array(Tensor t) {
  // The array owns its memory alone: copy unless this is the last reference (callers move it in).
  if (t.storage().use_count() > 1 || t.storage()->borrowed()) t = t.clone();
  py::object base = storage_owner(t.storage());
  const int nd = t.ndim();
  if (nd <= 32) {  // what py::array's constructor does, with the dims on the stack
    py::ssize_t dims[32], steps[32];
    const py::ssize_t es = static_cast<py::ssize_t>(dtype_size(t.dtype()));
    for (int d = 0; d < nd; ++d) {
      dims[d] = t.shape()[d];
      steps[d] = t.strides()[d] * es;
    }
    auto& api = py::detail::npy_api::get();
    py::dtype dt = np_dtype(t.dtype());
    py::object a = py::reinterpret_steal<py::object>(api.PyArray_NewFromDescr_(
        api.PyArray_Type_, dt.release().ptr(), nd, dims, steps, t.raw(), py::detail::npy_api::NPY_ARRAY_WRITEABLE_, nullptr));
    if (!a) throw py::error_already_set();
    if (api.PyArray_SetBaseObject_(a.ptr(), base.release().ptr()) < 0) throw py::error_already_set();  // steals base
    return py::reinterpret_steal<py::array>(a.release());
  }
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(s * static_cast<py::ssize_t>(dtype_size(t.dtype())));
  return py::array(np_dtype(t.dtype()), shape, strides, t.raw(), base);
}

// Python ints (and numpy integers) as int64 / double: out-of-range values raise a ValueError
// saying so, where a plain cast would say "Unable to cast Python instance ...".
static int64_t int64_of(py::handle h) {
  py::int_ i(obj(h));
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) throw ValueError("integer " + std::string(py::str(i)).substr(0, 40) + " does not fit in 64 bits");
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

Shape placeholder_shape(py::handle shape) {
  Shape s;
  for (auto d : shape) {
    if (d.is_none()) s.push_back(kUnknownDim);
    else {
      if (!PyIndex_Check(d.ptr()) || py::isinstance<py::bool_>(d))
        throw TypeError("[placeholder] shape entries must be ints or None, got " + std::string(py::repr(shape)).substr(0, 120));
      int64_t v = int64_of(d);
      if (v < 0) throw ValueError("[placeholder] shape " + std::string(py::repr(shape)).substr(0, 120) + " has a negative dimension");
      s.push_back(v);
    }
  }
  return s;
}

static double double_of(py::handle h) {
  double d = PyFloat_AsDouble(h.ptr());
  if (d == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw ValueError("number " + std::string(py::str(h)).substr(0, 40) + " is too large for a float64");
  }
  return d;
}

static Tensor number_tensor(py::handle h, DType* ref) {
  if (py::isinstance<py::bool_>(h)) return Tensor::scalar(h.cast<bool>(), DType::bool_);
  bool is_float = py::isinstance<py::float_>(h);
  DType t;
  if (ref && (is_floating(*ref) || !is_float)) t = *ref;
  else t = is_float ? config::floatx() : DType::int32;
  double v = double_of(h);
  if (is_integer(t) && !std::isnan(v)) {  // 2**64 as int32 would wrap (the cast is undefined)
    int bits = static_cast<int>(dtype_size(t)) * 8;
    double lo = t == DType::uint8 ? 0 : -std::ldexp(1.0, bits - 1), hi = t == DType::uint8 ? 255 : std::ldexp(1.0, bits - 1) - 1;
    if (v < lo || v > hi) throw ValueError("number " + std::string(py::str(h)).substr(0, 40) + " is out of range for " + dtype_name(t));
  }
  return Tensor::scalar(v, t);
}

// An ndarray or array-like: a constant, or a number where a number (not a tensor) is expected.
static Value array_value(py::handle h, bool tensor_kind, DType* ref) {
  py::array a = as_array(h);
  if (!tensor_kind && a.ndim() == 0) {  // numpy scalar where a number is expected
    char k = a.dtype().kind();
    if (k == 'b') return Value(py::bool_(obj(h)).cast<bool>());
    if (k == 'i' || k == 'u') return Value(int64_of(h));
    return Value(double_of(py::float_(obj(h))));
  }
  Tensor t = array_to_tensor(a, false);
  if (ref && is_floating(*ref) && is_floating(t.dtype())) t = t.astype(*ref);
  return Value(constant(t));
}

// Nested Python numbers where a tensor is expected: a constant (floats in ref's float dtype or
// floatx, ints in ref's dtype or int32).
static Value numbers_constant(py::handle h, bool all_int, DType* ref) {
  Tensor t = array_to_tensor(as_array(h), false);
  if (t.dtype() == DType::float64) t = t.astype(ref && is_floating(*ref) ? *ref : config::floatx());
  else if (t.dtype() == DType::int64 && !all_int) t = t.astype(DType::int32);
  else if (t.dtype() == DType::int64) t = t.astype(ref ? *ref : DType::int32);
  return Value(constant(t));
}

// Keras passes lists of scalar tensors where a tensor is expected (K.prod([shape(x)[0],
// shape(x)[1]])): stack them, numbers taking the dtype of the list's first tensor.
static Value stacked_items(const py::sequence& seq) {
  DType item_ref = DType::int32;
  for (auto item : seq)
    if (is_tensor(item)) { item_ref = dtype_of(item); break; }
  std::vector<Expr> v;
  for (auto item : seq) v.push_back(to_value(item, Param::Tensor, &item_ref).t);
  return Value(keras_cpp::stack(v, 0));
}

// A list or tuple: a constant of nested numbers, a stack of scalar tensors, ints or a list of values.
static Value sequence_value(py::handle h, int kind, DType* ref) {
  using K = Param::Kind;
  py::sequence seq = py::reinterpret_borrow<py::sequence>(h);
  bool all_int = true, any_tensor = false;
  for (auto item : seq) {
    all_int = all_int && py::isinstance<py::int_>(item) && !py::isinstance<py::bool_>(item);
    any_tensor = any_tensor || is_tensor(item);
  }
  if ((kind == K::Tensor || kind == K::TensorOpt) && !any_tensor) return numbers_constant(h, all_int, ref);
  if ((kind == K::Tensor || kind == K::TensorOpt) && any_tensor) return stacked_items(seq);
  if (all_int && kind != K::Tensors) {
    std::vector<int64_t> v;
    for (auto item : seq) v.push_back(int64_of(item));
    return Value(v);
  }
  std::vector<Value> v;
  int sub = kind == K::Tensors ? K::Tensor : K::Shape;  // items of a non-tensor list: as given
  for (auto item : seq) v.push_back(to_value(item, sub, ref));
  return Value(v);
}

// A Python bool, int (or numpy integer scalar) or float: a 0-d constant where a tensor is
// expected, else the number; std::nullopt for anything else.
static std::optional<Value> number_value(py::handle h, bool tensor_kind, DType* ref) {
  if (py::isinstance<py::bool_>(h)) return tensor_kind ? Value(constant(number_tensor(h, ref))) : Value(h.cast<bool>());
  if (py::isinstance<py::int_>(h) || (py::isinstance<py::array>(h) == false && py::hasattr(h, "dtype") && py::hasattr(h, "__index__"))) {
    if (tensor_kind) return Value(constant(number_tensor(py::int_(obj(h)), ref)));
    return Value(int64_of(h));
  }
  if (py::isinstance<py::float_>(h)) {
    if (tensor_kind) return Value(constant(number_tensor(h, ref)));
    return Value(double_of(h));
  }
  return std::nullopt;
}

Value to_value(py::handle h, int kind, DType* ref) {
  using K = Param::Kind;
  bool tensor_kind = kind == K::Tensor || kind == K::TensorOpt || kind == K::Tensors;
  if (h.is_none()) return Value();
  if (is_tensor(h)) return Value(h.cast<Expr>());
  if (std::optional<Value> v = number_value(h, tensor_kind, ref)) return *v;
  if (py::isinstance<py::str>(h)) return Value(h.cast<std::string>());
  if (py::isinstance<py::array>(h) || py::hasattr(h, "__array__")) return array_value(h, tensor_kind, ref);
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) return sequence_value(h, kind, ref);
  throw TypeError("unsupported argument of type " + std::string(py::str(py::type::of(h).attr("__name__"))));
}

static py::object shape_tuple(const TypeInfo& n) {
  if (!n.rank_known) return py::none();
  py::tuple t(n.shape.size());
  for (size_t i = 0; i < n.shape.size(); ++i) t[i] = n.shape[i] < 0 ? py::object(py::none()) : py::object(py::int_(n.shape[i]));
  return t;
}

// x[...] -> _getitem spec: quads (kind, start, stop, step); kinds 0 int, 1 slice, 2 None, 3 Ellipsis.
// Scalar int tensors (x[i], x[i:j]) become kDynIndex entries and extra inputs, in spec order.
constexpr int64_t kDynIndex = INT64_MIN + 1;

static std::vector<int64_t> index_spec(py::handle key, std::vector<Expr>& dyn) {
  std::vector<int64_t> spec;
  py::tuple items = py::isinstance<py::tuple>(key) ? py::reinterpret_borrow<py::tuple>(key) : py::make_tuple(key);
  const int64_t none = INT64_MIN;
  // -2**63 and -2**63+1 are the None and kDynIndex markers; a literal that low indexes and slices
  // as -2**63+2 does (bounds clamp, a step that large takes one element, an index is out of range).
  auto literal = [&](py::handle v) { return std::max(int64_of(v), kDynIndex + 1); };
  auto opt = [&](py::handle v) -> int64_t {
    if (v.is_none()) return none;
    if (is_tensor(v)) {
      dyn.push_back(v.cast<Expr>());
      return kDynIndex;
    }
    return literal(v);
  };
  for (auto it : items) {
    if (it.is_none()) spec.insert(spec.end(), {2, 0, 0, 0});
    else if (it.ptr() == Py_Ellipsis) spec.insert(spec.end(), {3, 0, 0, 0});
    else if (py::isinstance<py::slice>(it)) {
      int64_t a = opt(it.attr("start")), b = opt(it.attr("stop")), c = opt(it.attr("step"));
      spec.insert(spec.end(), {1, a, b, c});
    } else if (is_tensor(it)) spec.insert(spec.end(), {0, opt(it), 0, 0});
    else if (py::isinstance<py::int_>(it) || py::hasattr(it, "__index__")) spec.insert(spec.end(), {0, literal(it), 0, 0});
    else throw TypeError("[getitem] unsupported index " + std::string(py::repr(it)) + " (ints, scalar int tensors, slices, None and ... are supported)");
  }
  return spec;
}

static py::object binop(const char* op, py::handle a, py::handle b) {
  DType ref = is_tensor(a) ? dtype_of(a) : dtype_of(b);
  Value va, vb;
  try {
    va = to_value(a, Param::Tensor, &ref);
    vb = to_value(b, Param::Tensor, &ref);
  } catch (const ValueError& e) {
    throw ValueError("[" + std::string(op) + "] " + e.what());
  } catch (const TypeError& e) {
    throw TypeError("[" + std::string(op) + "] " + e.what());
  }
  return py::cast(call(op, {va, vb}));
}

// Tensor's attributes, __repr__, indexing and unary operators.
static void bind_tensor_attrs(py::class_<Output, std::shared_ptr<Output>>& T) {
  auto kind = [](const Node& n) {
    return std::string(n.kind == NodeKind::op ? "op" : n.kind == NodeKind::placeholder ? "placeholder" : n.kind == NodeKind::variable ? "variable" : "constant");
  };
  T.def_property_readonly("dtype", [](const Output& o) { return std::string(dtype_name(o.type.dtype)); })
      .def_property_readonly("shape", [](const Output& o) { return shape_tuple(o.type); })
      .def_property_readonly("ndim", [](const Output& o) { return o.type.rank_known ? py::object(py::int_(o.type.ndim())) : py::object(py::none()); })
      .def_property("name", [](const Output& o) { return o.node->name; }, [](Output& o, const std::string& s) { o.node->name = s; })
      .def_property_readonly("_kind", [kind](const Output& o) { return kind(*o.node); })
      .def_property_readonly("_op", [](const Output& o) { return o.node->op ? o.node->op->name : std::string(); })
      .def_property_readonly("_id", [](const Output& o) { return o.node->id; })
      .def_property_readonly("_index", [](const Output& o) { return o.index; })
      .def_property_readonly("_sparse", [](const Output& o) { return o.type.sparse; })
      .def("__repr__", [](const Output& o) {
        std::string k = o.node->num_outputs() > 1 ? ":" + std::to_string(o.index) : "";
        return "<keras_cpp.Tensor '" + o.node->name + k + "' shape=" + shape_str(o.type.shape) + " dtype=" + dtype_name(o.type.dtype) + ">";
      })
      .def("__getitem__", [](const Expr& self, py::handle key) {
        std::vector<Expr> ins{self};
        std::vector<int64_t> spec;
        try {
          spec = index_spec(key, ins);
        } catch (const ValueError& e) {
          throw ValueError(std::string("[getitem] ") + e.what());
        }
        return getitem(self, std::move(spec), std::vector<Expr>(ins.begin() + 1, ins.end()));
      })
      // Without __iter__, Python would iterate by indexing until IndexError, which never comes
      // for a dim unknown until run time (tuple(x) looped forever).
      .def("__iter__", [](py::object self) {
        const TypeInfo& t = self.cast<Output&>().type;
        if (!t.rank_known || t.ndim() == 0 || t.shape[0] < 0)
          throw TypeError("[iter] a keras_cpp Tensor of shape " + (t.rank_known ? shape_str(t.shape) : std::string("<unknown rank>")) +
                          " is not iterable (its first dim must be known); use K.map_fn or index it");
        py::list items;
        for (int64_t i = 0; i < t.shape[0]; ++i) items.append(self.attr("__getitem__")(py::int_(i)));
        return items.attr("__iter__")();
      })
      .def("__neg__", [](const Expr& a) { return negative(a); })
      .def("__abs__", [](const Expr& a) { return abs(a); })
      .def("__pos__", [](py::object a) { return a; })
      .def("__bool__", [](py::object) -> bool {
        throw TypeError("the truth value of a symbolic keras_cpp Tensor is unknown until it is evaluated; use K.switch or K.eval");
      });
}

// Tensor's binary operators; an unsupported other operand gives NotImplemented (Python then tries
// the reflected operator).
static void bind_tensor_operators(py::class_<Output, std::shared_ptr<Output>>& T) {
  struct B { const char *py, *op; bool rev; };
  static const B ops[] = {{"__add__", "add", false}, {"__radd__", "add", true}, {"__sub__", "subtract", false},
                          {"__rsub__", "subtract", true}, {"__mul__", "multiply", false}, {"__rmul__", "multiply", true},
                          {"__truediv__", "divide", false}, {"__rtruediv__", "divide", true}, {"__floordiv__", "floordiv", false},
                          {"__rfloordiv__", "floordiv", true}, {"__mod__", "mod", false}, {"__rmod__", "mod", true},
                          {"__pow__", "pow", false}, {"__rpow__", "pow", true}, {"__lt__", "less", false},
                          {"__le__", "less_equal", false}, {"__gt__", "greater", false}, {"__ge__", "greater_equal", false},
                          {"__and__", "logical_and", false}, {"__or__", "logical_or", false}};
  for (const B& b : ops) {
    const char* op = b.op;
    bool rev = b.rev;
    T.def(b.py, [op, rev](py::object self, py::object other) {
      if (!is_tensor(other) && !py::isinstance<py::int_>(other) && !py::isinstance<py::float_>(other) &&
          !py::isinstance<py::array>(other) && !py::isinstance<py::list>(other) && !py::isinstance<py::tuple>(other) &&
          !py::hasattr(other, "__array__"))  // numpy scalars (np.float32(2) * x)
        return py::object(py::reinterpret_borrow<py::object>(Py_NotImplemented));
      return rev ? binop(op, other, self) : binop(op, self, other);
    });
  }
}

static void bind_leaves(py::module_& m) {
  m.def("placeholder", [](py::object shape, const std::string& dtype, const std::string& name) {
    DType t = dtype_from_name(dtype);
    if (shape.is_none()) return placeholder({}, t, name, false);
    return placeholder(placeholder_shape(shape), t, name);
  }, py::arg("shape"), py::arg("dtype"), py::arg("name"));
  m.def("placeholder_with_default", [](const py::array& value, const std::string& name) {
    Expr p = placeholder(array_to_tensor(value, false).shape(), dtype_of_array(value), name);
    p->value = array_to_tensor(value, false);
    return p;
  });
  m.def("variable", [](const py::array& value, const std::string& dtype, const std::string& name) {
    Tensor t = array_to_tensor(value, false).astype(dtype_from_name(dtype));
    return variable(t, name);
  });
  m.def("constant", [](const py::array& value, const std::string& dtype, const std::string& name) {
    Tensor t = array_to_tensor(value, false).astype(dtype_from_name(dtype));
    return constant(t, name);
  });
}

// Variable values, gradients, control dependencies and print_tensor's writer.
static void bind_graph_functions(py::module_& m) {
  // Without the GIL: a call updating the variable holds its lock and may wait for the GIL (print_tensor).
  m.def("get_value", [](const Expr& v) {
    Tensor t;
    {
      py::gil_scoped_release nogil;
      t = get_value(v);
    }
    return result_value(std::move(t));  // the variable still holds it: copied
  });
  m.def("set_value", [](const Expr& v, const py::array& a) {
    Tensor t = array_to_tensor(a, false);
    py::gil_scoped_release nogil;
    set_value(v, t);
  });
  m.def("gradients", [](const Expr& loss, const std::vector<Expr>& wrt) { return gradients(loss, wrt); });
  m.def("dtype_check", [](const std::string& s) { return std::string(dtype_name(dtype_from_name(s))); });
  m.def("is_update_handle", [](const Expr& n) { return is_update_handle(n); });
  m.def("_push_control_dependencies", [](py::object ops) {
    std::vector<Expr> deps;
    if (!ops.is_none())
      for (auto h : ops) deps.push_back(h.cast<Expr>());
    push_control_dependencies(deps, ops.is_none());
  });
  m.def("_pop_control_dependencies", &pop_control_dependencies);
  m.def("_set_print", [](py::object write) {
    auto* w = new py::object(write);  // leaked on purpose: never released after interpreter shutdown
    set_print_function([w](const std::string& message, const Tensor& value) {
      py::gil_scoped_acquire g;
      (*w)(message, tensor_to_array(value));
    });
  });
}

void init_graph(py::module_& m) {
  make_owner_type();
  py::class_<Output, std::shared_ptr<Output>> T(m, "Tensor", py::dynamic_attr());
  T.doc() = "A symbolic keras_cpp tensor: one result of a placeholder, variable, constant or op.";
  bind_tensor_attrs(T);
  bind_tensor_operators(T);
  bind_leaves(m);
  bind_graph_functions(m);
}

}  // namespace keras_cpp
