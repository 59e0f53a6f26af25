// python/src/bind_graph.cpp — the Tensor class (graph nodes as Keras sees them), numpy interop,
// leaves, gradients and Function.
#include <cstring>

#include "bind.h"
#include "ops/registry.h"
#include "ops/state.h"

namespace keras_cpp {

namespace {
inline py::object obj(py::handle h) { return py::reinterpret_borrow<py::object>(h); }
py::object* g_sync = nullptr;  // (leaked: must outlive interpreter shutdown) Python callable syncing Keras's config into ours (set by _config)
}

void sync_config() {
  if (g_sync && !g_sync->is_none()) (*g_sync)();
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

static py::dtype np_dtype(DType t) {
  return t == DType::bool_ ? py::dtype("bool") : py::dtype(dtype_name(t));
}

Tensor array_to_tensor(const py::array& a0, bool borrow) {
  py::array a = a0;
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
static py::object result_value(Tensor t) {
  const bool scalar = t.ndim() == 0;
  py::array a = tensor_to_array(std::move(t));
  return scalar ? a.attr("__getitem__")(py::tuple()) : py::object(a);
}

py::array tensor_to_array(Tensor t) {
  // The array owns its memory alone: copy unless this is the last reference (callers move it in).
  if (t.storage().use_count() > 1 || t.storage()->borrowed()) t = t.clone();
  auto* holder = new std::shared_ptr<Storage>(t.storage());
  py::capsule base(holder, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(s * static_cast<py::ssize_t>(dtype_size(t.dtype())));
  return py::array(np_dtype(t.dtype()), shape, strides, t.raw(), base);
}

static Tensor number_tensor(py::handle h, DType* ref) {
  if (py::isinstance<py::bool_>(h)) return Tensor::scalar(h.cast<bool>(), DType::bool_);
  bool is_float = py::isinstance<py::float_>(h);
  DType t;
  if (ref && (is_floating(*ref) || !is_float)) t = *ref;
  else t = is_float ? config::floatx() : DType::int32;
  return Tensor::scalar(h.cast<double>(), t);
}

Value to_value(py::handle h, int kind, DType* ref) {
  using K = Param::Kind;
  bool tensor_kind = kind == K::Tensor || kind == K::TensorOpt || kind == K::Tensors;
  if (h.is_none()) return Value();
  if (py::isinstance<Node>(h)) return Value(h.cast<std::shared_ptr<Node>>());
  if (py::isinstance<py::bool_>(h)) return tensor_kind ? Value(constant(number_tensor(h, ref))) : Value(h.cast<bool>());
  if (py::isinstance<py::int_>(h) || (py::isinstance<py::array>(h) == false && py::hasattr(h, "dtype") && py::hasattr(h, "__index__"))) {
    if (tensor_kind) return Value(constant(number_tensor(py::int_(obj(h)), ref)));
    return Value(h.cast<int64_t>());
  }
  if (py::isinstance<py::float_>(h)) {
    if (tensor_kind) return Value(constant(number_tensor(h, ref)));
    return Value(h.cast<double>());
  }
  if (py::isinstance<py::str>(h)) return Value(h.cast<std::string>());
  if (py::isinstance<py::array>(h) || py::hasattr(h, "__array__")) {
    py::array a = py::array::ensure(h);
    if (!tensor_kind && a.ndim() == 0) {  // numpy scalar where a number is expected
      char k = a.dtype().kind();
      if (k == 'b') return Value(py::bool_(obj(h)).cast<bool>());
      if (k == 'i' || k == 'u') return Value(py::int_(obj(h)).cast<int64_t>());
      return Value(py::float_(obj(h)).cast<double>());
    }
    Tensor t = array_to_tensor(a, false);
    if (ref && is_floating(*ref) && is_floating(t.dtype())) t = t.astype(*ref);
    return Value(constant(t));
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    py::sequence seq = py::reinterpret_borrow<py::sequence>(h);
    bool all_int = true, any_tensor = false;
    for (auto item : seq) {
      all_int = all_int && py::isinstance<py::int_>(item) && !py::isinstance<py::bool_>(item);
      any_tensor = any_tensor || py::isinstance<Node>(item);
    }
    if (kind == K::Tensor && !any_tensor) {  // nested Python numbers -> constant
      py::array a = py::array::ensure(h);
      Tensor t = array_to_tensor(a, false);
      if (t.dtype() == DType::float64) t = t.astype(ref && is_floating(*ref) ? *ref : config::floatx());
      else if (t.dtype() == DType::int64 && !all_int) t = t.astype(DType::int32);
      else if (t.dtype() == DType::int64) t = t.astype(ref ? *ref : DType::int32);
      return Value(constant(t));
    }
    if ((kind == K::Tensor || kind == K::TensorOpt) && any_tensor) {
      // Keras passes lists of scalar tensors where a tensor is expected (K.prod([shape(x)[0],
      // shape(x)[1]])): stack them, numbers taking the dtype of the list's first tensor.
      DType item_ref = DType::int32;
      for (auto item : seq)
        if (py::isinstance<Node>(item)) { item_ref = item.cast<Node&>().dtype; break; }
      std::vector<Value> v;
      for (auto item : seq) v.push_back(to_value(item, K::Tensor, &item_ref));
      return Value(call("stack", {Value(v), Value(int64_t{0})}));
    }
    if (all_int && kind != K::Tensors) {
      std::vector<int64_t> v;
      for (auto item : seq) v.push_back(item.cast<int64_t>());
      return Value(v);
    }
    std::vector<Value> v;
    int sub = kind == K::Tensors ? K::Tensor : K::Any;
    for (auto item : seq) v.push_back(to_value(item, sub, ref));
    return Value(v);
  }
  throw TypeError("unsupported argument of type " + std::string(py::str(py::type::of(h).attr("__name__"))));
}

static py::object shape_tuple(const Node& n) {
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
  auto opt = [&](py::handle v) -> int64_t {
    if (v.is_none()) return none;
    if (py::isinstance<Node>(v)) {
      dyn.push_back(Expr(v.cast<std::shared_ptr<Node>>()));
      return kDynIndex;
    }
    return py::int_(obj(v)).cast<int64_t>();
  };
  for (auto it : items) {
    if (it.is_none()) spec.insert(spec.end(), {2, 0, 0, 0});
    else if (it.ptr() == Py_Ellipsis) spec.insert(spec.end(), {3, 0, 0, 0});
    else if (py::isinstance<py::slice>(it)) {
      int64_t a = opt(it.attr("start")), b = opt(it.attr("stop")), c = opt(it.attr("step"));
      spec.insert(spec.end(), {1, a, b, c});
    } else if (py::isinstance<Node>(it)) spec.insert(spec.end(), {0, opt(it), 0, 0});
    else if (py::isinstance<py::int_>(it) || py::hasattr(it, "__index__")) spec.insert(spec.end(), {0, py::int_(obj(it)).cast<int64_t>(), 0, 0});
    else throw TypeError("[getitem] unsupported index " + std::string(py::repr(it)) + " (ints, scalar int tensors, slices, None and ... are supported)");
  }
  return spec;
}

static py::object binop(const char* op, py::handle a, py::handle b) {
  sync_config();
  DType ref = py::isinstance<Node>(a) ? a.cast<Node&>().dtype : b.cast<Node&>().dtype;
  Value va = to_value(a, Param::Tensor, &ref), vb = to_value(b, Param::Tensor, &ref);
  Expr r;
  {
    r = call(op, {va, vb});
  }
  return py::cast(r.node());
}

void init_graph(py::module_& m) {
  py::class_<Node, std::shared_ptr<Node>> T(m, "Tensor", py::dynamic_attr());
  T.doc() = "A symbolic keras_cpp tensor (placeholder, variable, constant or op result).";
  T.def_property_readonly("dtype", [](const Node& n) { return std::string(dtype_name(n.dtype)); })
      .def_property_readonly("shape", [](const Node& n) { return shape_tuple(n); })
      .def_property_readonly("ndim", [](const Node& n) { return n.rank_known ? py::object(py::int_(n.ndim())) : py::object(py::none()); })
      .def_property("name", [](const Node& n) { return n.name; }, [](Node& n, const std::string& s) { n.name = s; })
      .def_property_readonly("_kind", [](const Node& n) {
        return std::string(n.kind == NodeKind::op ? "op" : n.kind == NodeKind::placeholder ? "placeholder" : n.kind == NodeKind::variable ? "variable" : "constant");
      })
      .def_property_readonly("_op", [](const Node& n) { return n.op ? n.op->name : std::string(); })
      .def_property_readonly("_id", [](const Node& n) { return n.id; })
      .def_property_readonly("_sparse", [](const Node& n) { return n.sparse; })
      .def("__repr__", [](const Node& n) {
        return "<keras_cpp.Tensor '" + n.name + "' shape=" + shape_str(n.shape) + " dtype=" + dtype_name(n.dtype) + ">";
      })
      .def("__getitem__", [](py::object self, py::handle key) {
        Attrs a;
        std::vector<Expr> ins{Expr(self.cast<std::shared_ptr<Node>>())};
        a.set("spec", Value(index_spec(key, ins)));
        return py::cast(make_node("_getitem", ins, a).node());
      })
      .def("__neg__", [](py::object a) { return py::cast(negative(Expr(a.cast<std::shared_ptr<Node>>())).node()); })
      .def("__abs__", [](py::object a) { return py::cast(abs(Expr(a.cast<std::shared_ptr<Node>>())).node()); })
      .def("__pos__", [](py::object a) { return a; })
      .def("__bool__", [](py::object) -> bool {
        throw TypeError("the truth value of a symbolic keras_cpp Tensor is unknown until it is evaluated; use K.switch or K.eval");
      });
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
      if (!py::isinstance<Node>(other) && !py::isinstance<py::int_>(other) && !py::isinstance<py::float_>(other) &&
          !py::isinstance<py::array>(other) && !py::isinstance<py::list>(other) && !py::isinstance<py::tuple>(other) &&
          !py::hasattr(other, "__array__"))  // numpy scalars (np.float32(2) * x)
        return py::object(py::reinterpret_borrow<py::object>(Py_NotImplemented));
      return rev ? binop(op, other, self) : binop(op, self, other);
    });
  }

  m.def("_set_config_sync", [](py::object f) { g_sync = new py::object(f); });
  m.def("placeholder", [](py::object shape, const std::string& dtype, const std::string& name) {
    DType t = dtype_from_name(dtype);
    if (shape.is_none()) return placeholder({}, t, name, false).node();
    Shape s;
    for (auto d : shape) {
      if (d.is_none()) s.push_back(kUnknownDim);
      else {
        int64_t v = py::int_(obj(d)).cast<int64_t>();
        if (v < 0) throw ValueError("[placeholder] shape " + std::string(py::repr(shape)) + " has a negative dimension");
        s.push_back(v);
      }
    }
    return placeholder(s, t, name).node();
  }, py::arg("shape"), py::arg("dtype"), py::arg("name"));
  m.def("placeholder_with_default", [](const py::array& value, const std::string& name) {
    Expr p = placeholder(array_to_tensor(value, false).shape(), dtype_of_array(value), name);
    p->value = array_to_tensor(value, false);
    return p.node();
  });
  m.def("variable", [](const py::array& value, const std::string& dtype, const std::string& name) {
    Tensor t = array_to_tensor(value, false).astype(dtype_from_name(dtype));
    return variable(t, name).node();
  });
  m.def("constant", [](const py::array& value, const std::string& dtype, const std::string& name) {
    Tensor t = array_to_tensor(value, false).astype(dtype_from_name(dtype));
    return constant(t, name).node();
  });
  // Without the GIL: a call updating the variable holds its lock and may wait for the GIL (print_tensor).
  m.def("get_value", [](std::shared_ptr<Node> v) {
    Tensor t;
    {
      py::gil_scoped_release nogil;
      t = get_value(Expr(v));
    }
    return result_value(t);
  });
  m.def("set_value", [](std::shared_ptr<Node> v, const py::array& a) {
    Tensor t = array_to_tensor(a, false);
    py::gil_scoped_release nogil;
    set_value(Expr(v), t);
  });
  m.def("gradients", [](std::shared_ptr<Node> loss, std::vector<std::shared_ptr<Node>> wrt) {
    std::vector<Expr> w(wrt.begin(), wrt.end());
    std::vector<Expr> g = gradients(Expr(loss), w);
    py::list out;
    for (auto& e : g) out.append(e ? py::cast(e.node()) : py::none());
    return out;
  });
  m.def("dtype_check", [](const std::string& s) { return std::string(dtype_name(dtype_from_name(s))); });
  m.def("is_update_handle", [](std::shared_ptr<Node> n) { return is_update_handle(Expr(n)); });
  m.def("_push_control_dependencies", [](py::object ops) {
    std::vector<Expr> deps;
    if (!ops.is_none())
      for (auto h : ops) deps.push_back(Expr(h.cast<std::shared_ptr<Node>>()));
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

  py::class_<Function>(m, "Function")
      .def(py::init([](std::vector<std::shared_ptr<Node>> inputs, std::vector<std::shared_ptr<Node>> outputs,
                       std::vector<std::shared_ptr<Node>> update_ops) {
             return new Function(std::vector<Expr>(inputs.begin(), inputs.end()), std::vector<Expr>(outputs.begin(), outputs.end()),
                                 {}, std::vector<Expr>(update_ops.begin(), update_ops.end()));
           }),
           py::arg("inputs"), py::arg("outputs"), py::arg("update_ops"))
      .def("__call__", [](Function& f, py::sequence values) {
        std::vector<py::array> keep;
        std::vector<Tensor> feeds;
        keep.reserve(py::len(values));
        for (auto v : values) {
          keep.push_back(py::array::ensure(v));
          if (!keep.back()) throw TypeError("[function] inputs must be arrays or numbers");
          feeds.push_back(array_to_tensor(keep.back(), true));
        }
        std::vector<Tensor> outs;
        {
          py::gil_scoped_release nogil;
          outs = f(feeds);
        }
        feeds.clear();
        py::list r;
        for (auto& t : outs) r.append(result_value(std::move(t)));
        return r;
      })
      .def_property_readonly("num_steps", &Function::num_steps);
}

}  // namespace keras_cpp
