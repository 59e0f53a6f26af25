// cpp/ops/optimizers.cpp — fused parameter updates behind K.optimizers (keras_cpp/optimizers.py):
// one node per parameter computes the new parameter and every new slot (moments, accumulators)
// in a single pass over the elements, parallel on the pool. Each kernel follows Keras 2.3.1's
// keras/optimizers.py expression by expression, rounding after every operation to the parameter's
// dtype and never fusing a multiply-add (this file is built with -ffp-contract=off), so it gives
// the numbers of Keras's chain of elementwise ops. Scalar coefficients (lr_t, 1 - beta_1...) are
// 0-d tensor inputs computed by the caller the way Keras computes them.
//
// An update node has one result per new value: [new_param, new_slot...], each typed like the
// parameter; Python gets them all from the op's binding (bind_ops.cpp returns every result).
#include <cmath>
#include <type_traits>

#include "ops/helpers.h"

namespace keras_cpp {
namespace {

template <class T>
using Compute = std::conditional_t<std::is_same_v<T, double>, double, float>;

// One operation's result as Keras's chain stores it (float16 ops round to half each time).
template <class T, class C>
inline C rd(C x) {
  if constexpr (std::is_same_v<T, half>) return static_cast<float>(half(x));
  else return x;
}
template <class C, class T>
inline C ld(T x) {
  if constexpr (std::is_same_v<T, half>) return static_cast<float>(x);
  else return x;
}
// K.sqrt clamps negatives to 0.
template <class C>
inline C ksqrt(C x) { return std::sqrt(x > C(0) ? x : C(0)); }
template <class C>
inline C kmax(C a, C b) { return a < b ? b : a; }

// Results go to fresh buffers that no input aliases: let the loops vectorize without runtime
// alias checks (GCC gives up on them beyond ~10 pointer pairs).
#if defined(__clang__)
#define KC_NO_ALIAS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define KC_NO_ALIAS _Pragma("GCC ivdep")
#else
#define KC_NO_ALIAS
#endif

// Each kernel: inputs() element tensors of the parameter's shape (p and g first), kScalars 0-d
// coefficients after them, outputs() results (new p first). run() covers n elements.
struct SgdK {
  static constexpr const char* sig =
      "_sgd_update(p: tensor, g: tensor, m: tensor, lr: tensor, momentum: tensor, nesterov: bool = False)";
  static constexpr int kScalars = 2;
  static int inputs(const Attrs&) { return 3; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& a) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict m = x[2];
    T *__restrict op = y[0], *__restrict om = y[1];
    const C lr = s[0], mom = s[1];
    const bool nesterov = a.b("nesterov");
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]), lg = rd<T>(lr * gi);
      const C v = rd<T>(rd<T>(mom * ld<C>(m[i])) - lg);  // v = momentum * m - lr * g
      om[i] = T(v);
      op[i] = T(nesterov ? rd<T>(rd<T>(ld<C>(p[i]) + rd<T>(mom * v)) - lg) : rd<T>(ld<C>(p[i]) + v));
    }
  }
};

struct RmspropK {
  static constexpr const char* sig =
      "_rmsprop_update(p: tensor, g: tensor, a: tensor, lr: tensor, rho: tensor, one_minus_rho: tensor, epsilon: float)";
  static constexpr int kScalars = 3;
  static int inputs(const Attrs&) { return 3; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& at) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict a = x[2];
    T *__restrict op = y[0], *__restrict oa = y[1];
    const C lr = s[0], rho = s[1], omr = s[2], eps = rd<T>(C(at.f("epsilon")));
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]);
      const C na = rd<T>(rd<T>(rho * ld<C>(a[i])) + rd<T>(omr * rd<T>(gi * gi)));
      oa[i] = T(na);
      op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(rd<T>(lr * gi) / rd<T>(rd<T>(ksqrt(na)) + eps))));
    }
  }
};

struct AdagradK {
  static constexpr const char* sig = "_adagrad_update(p: tensor, g: tensor, a: tensor, lr: tensor, epsilon: float)";
  static constexpr int kScalars = 1;
  static int inputs(const Attrs&) { return 3; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& at) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict a = x[2];
    T *__restrict op = y[0], *__restrict oa = y[1];
    const C lr = s[0], eps = rd<T>(C(at.f("epsilon")));
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]);
      const C na = rd<T>(ld<C>(a[i]) + rd<T>(gi * gi));
      oa[i] = T(na);
      op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(rd<T>(lr * gi) / rd<T>(rd<T>(ksqrt(na)) + eps))));
    }
  }
};

struct AdadeltaK {
  static constexpr const char* sig =
      "_adadelta_update(p: tensor, g: tensor, a: tensor, d_a: tensor, lr: tensor, rho: tensor, one_minus_rho: tensor, "
      "epsilon: float)";
  static constexpr int kScalars = 3;
  static int inputs(const Attrs&) { return 4; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& at) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict a = x[2], *__restrict da = x[3];
    T *__restrict op = y[0], *__restrict oa = y[1], *__restrict oda = y[2];
    const C lr = s[0], rho = s[1], omr = s[2], eps = rd<T>(C(at.f("epsilon")));
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]), dai = ld<C>(da[i]);
      const C na = rd<T>(rd<T>(rho * ld<C>(a[i])) + rd<T>(omr * rd<T>(gi * gi)));
      // update = g * sqrt(d_a + eps) / sqrt(new_a + eps), with the old d_a
      const C u = rd<T>(rd<T>(gi * rd<T>(ksqrt(rd<T>(dai + eps)))) / rd<T>(ksqrt(rd<T>(na + eps))));
      oa[i] = T(na);
      op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(lr * u)));
      oda[i] = T(rd<T>(rd<T>(rho * dai) + rd<T>(omr * rd<T>(u * u))));
    }
  }
};

struct AdamK {
  static constexpr const char* sig =
      "_adam_update(p: tensor, g: tensor, m: tensor, v: tensor, vhat: tensor?, lr_t: tensor, beta_1: tensor, "
      "beta_2: tensor, one_minus_beta_1: tensor, one_minus_beta_2: tensor, epsilon: float, amsgrad: bool = False)";
  static constexpr int kScalars = 5;
  static int inputs(const Attrs& a) { return a.b("amsgrad") ? 5 : 4; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& at) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict m = x[2], *__restrict v = x[3];
    T *__restrict op = y[0], *__restrict om = y[1], *__restrict ov = y[2];
    const C lr = s[0], b1 = s[1], b2 = s[2], omb1 = s[3], omb2 = s[4], eps = rd<T>(C(at.f("epsilon")));
    auto moments = [&](int64_t i, C& mt, C& vt) {
      const C gi = ld<C>(g[i]);
      mt = rd<T>(rd<T>(b1 * ld<C>(m[i])) + rd<T>(omb1 * gi));
      vt = rd<T>(rd<T>(b2 * ld<C>(v[i])) + rd<T>(omb2 * rd<T>(gi * gi)));
      om[i] = T(mt);
      ov[i] = T(vt);
    };
    if (at.b("amsgrad")) {
      const T* __restrict vh = x[4];
      T* __restrict ovh = y[3];
      KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
        C mt, vt;
        moments(i, mt, vt);
        const C vht = kmax(ld<C>(vh[i]), vt);
        ovh[i] = T(vht);
        op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(rd<T>(lr * mt) / rd<T>(rd<T>(ksqrt(vht)) + eps))));
      }
      return;
    }
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]);
      const C mt = rd<T>(rd<T>(b1 * ld<C>(m[i])) + rd<T>(omb1 * gi));
      const C vt = rd<T>(rd<T>(b2 * ld<C>(v[i])) + rd<T>(omb2 * rd<T>(gi * gi)));
      om[i] = T(mt);
      ov[i] = T(vt);
      op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(rd<T>(lr * mt) / rd<T>(rd<T>(ksqrt(vt)) + eps))));
    }
  }
};

struct AdamaxK {
  static constexpr const char* sig =
      "_adamax_update(p: tensor, g: tensor, m: tensor, u: tensor, lr_t: tensor, beta_1: tensor, beta_2: tensor, "
      "one_minus_beta_1: tensor, epsilon: float)";
  static constexpr int kScalars = 4;
  static int inputs(const Attrs&) { return 4; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& at) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict m = x[2], *__restrict u = x[3];
    T *__restrict op = y[0], *__restrict om = y[1], *__restrict ou = y[2];
    const C lr = s[0], b1 = s[1], b2 = s[2], omb1 = s[3], eps = rd<T>(C(at.f("epsilon")));
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]);
      const C mt = rd<T>(rd<T>(b1 * ld<C>(m[i])) + rd<T>(omb1 * gi));
      const C ut = kmax(rd<T>(b2 * ld<C>(u[i])), std::abs(gi));
      om[i] = T(mt);
      ou[i] = T(ut);
      op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(rd<T>(lr * mt) / rd<T>(ut + eps))));
    }
  }
};

struct NadamK {
  static constexpr const char* sig =
      "_nadam_update(p: tensor, g: tensor, m: tensor, v: tensor, lr: tensor, beta_1: tensor, beta_2: tensor, "
      "one_minus_beta_1: tensor, one_minus_beta_2: tensor, one_minus_m_schedule_new: tensor, "
      "one_minus_m_schedule_next: tensor, one_minus_beta_2_pow_t: tensor, one_minus_momentum_cache_t: tensor, "
      "momentum_cache_t_1: tensor, epsilon: float)";
  static constexpr int kScalars = 10;
  static int inputs(const Attrs&) { return 4; }
  template <class T, class C>
  static void run(int64_t n, const T* const* x, const C* s, T* const* y, const Attrs& at) {
    const T *__restrict p = x[0], *__restrict g = x[1], *__restrict m = x[2], *__restrict v = x[3];
    T *__restrict op = y[0], *__restrict om = y[1], *__restrict ov = y[2];
    const C lr = s[0], b1 = s[1], b2 = s[2], omb1 = s[3], omb2 = s[4], dg = s[5], dm = s[6], dv = s[7], omc = s[8],
            mc1 = s[9], eps = rd<T>(C(at.f("epsilon")));
    KC_NO_ALIAS for (int64_t i = 0; i < n; ++i) {
      const C gi = ld<C>(g[i]);
      const C gp = rd<T>(gi / dg);
      const C mt = rd<T>(rd<T>(b1 * ld<C>(m[i])) + rd<T>(omb1 * gi));
      const C vt = rd<T>(rd<T>(b2 * ld<C>(v[i])) + rd<T>(omb2 * rd<T>(gi * gi)));
      const C mbar = rd<T>(rd<T>(omc * gp) + rd<T>(mc1 * rd<T>(mt / dm)));
      om[i] = T(mt);
      ov[i] = T(vt);
      op[i] = T(rd<T>(ld<C>(p[i]) - rd<T>(rd<T>(lr * mbar) / rd<T>(rd<T>(ksqrt(rd<T>(vt / dv))) + eps))));
    }
  }
};

// Inputs in signature order: element tensors, then scalars; the rest are attrs.
template <class K>
Expr fused_build(const OpDef& op, std::vector<Value>& args) {
  std::vector<Expr> ins;
  Attrs at;
  for (size_t k = 0; k < op.params.size(); ++k) {
    const Param& p = op.params[k];
    if (p.kind == Param::Tensor || p.kind == Param::TensorOpt) {
      if (!args[k].is_none()) ins.push_back(Expr(args[k].t));
    } else {
      at.set(p.name, args[k]);
    }
  }
  const int ne = K::inputs(at);
  if (static_cast<int>(ins.size()) != ne + K::kScalars)
    fail_value(op.name, "expected " + std::to_string(ne) + " parameter-shaped tensors and " + std::to_string(K::kScalars) +
                            " scalars, got " + std::to_string(ins.size()) + " tensors");
  const Expr& p = ins[0];
  for (int i = 1; i < ne; ++i) {
    const Expr& x = ins[i];
    bool ok = x.ndim() == p.ndim();
    for (int d = 0; ok && d < p.ndim(); ++d) ok = x.shape()[d] < 0 || p.shape()[d] < 0 || x.shape()[d] == p.shape()[d];
    if (!ok || x.dtype() != p.dtype())
      fail_value(op.name, "argument '" + op.params[i].name + "' must match the parameter " + shape_str(p.shape()) + " " +
                              dtype_name(p.dtype()) + ", got " + shape_str(x.shape()) + " " + dtype_name(x.dtype()));
  }
  if (!is_floating(p.dtype())) fail_type(op.name, std::string("parameters must be float tensors, got ") + dtype_name(p.dtype()));
  for (size_t i = ne; i < ins.size(); ++i)
    if (shape_numel(ins[i].shape()) != 1)
      fail_value(op.name, "coefficient " + std::to_string(i - ne) + " must be a scalar, got shape " + shape_str(ins[i].shape()));
  return make_node(op, ins, at);
}

template <class K>
std::vector<Tensor> fused_forward(KernelCtx& ctx) {
  const Attrs& at = ctx.attrs();
  const int ne = K::inputs(at), no = ne - 1;
  const Tensor& p = ctx.in[0];
  for (int i = 1; i < ne; ++i)
    if (ctx.in[i].shape() != p.shape())
      fail_value(ctx.node.op->name, "tensor " + std::to_string(i) + " has shape " + shape_str(ctx.in[i].shape()) +
                                        " but the parameter has " + shape_str(p.shape()));
  std::vector<Tensor> xs(ctx.in.begin(), ctx.in.begin() + ne), ys;
  for (auto& x : xs) x = x.contiguous();
  for (int i = 0; i < no; ++i) ys.push_back(ctx.alloc_tensor(p.shape(), p.dtype()));
  const int64_t n = p.numel();
  dispatch(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half> || std::is_floating_point_v<T>) {
      using C = Compute<T>;
      std::vector<C> s;
      for (size_t i = ne; i < ctx.in.size(); ++i) s.push_back(rd<T>(static_cast<C>(ctx.in[i].item())));
      std::vector<const T*> xp;
      std::vector<T*> yp;
      for (auto& x : xs) xp.push_back(x.template data<T>());
      for (auto& y : ys) yp.push_back(y.template data<T>());
      parallel_for(n, int64_t(1) << 14, [&](int64_t b, int64_t e) {
        std::vector<const T*> xb(xp);
        std::vector<T*> yb(yp);
        for (auto& q : xb) q += b;
        for (auto& q : yb) q += b;
        K::template run<T, C>(e - b, xb.data(), s.data(), yb.data(), at);
      });
    }
  });
  return ys;
}

// One result per element tensor after the gradient, typed like the parameter.
template <class K>
std::vector<TypeInfo> fused_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  return std::vector<TypeInfo>(static_cast<size_t>(K::inputs(a) - 1), in[0]);
}

// The fused updates are called from Python's optimizers only, so no C++ code names them.
template <class K>
Op fused_update(const char* doc) {
  return Op(K::sig, doc).build(fused_build<K>).infer_multi(fused_infer<K>).forward_multi(fused_forward<K>).flags(kNonDiff);
}

}  // namespace

void register_optimizers() {
  register_op(fused_update<SgdK>("SGD step: (new p, new moment); v = momentum*m - lr*g, p + v (nesterov: p + momentum*v - lr*g)."));
  register_op(fused_update<RmspropK>("RMSprop step: (new p, new accumulator)."));
  register_op(fused_update<AdagradK>("Adagrad step: (new p, new accumulator)."));
  register_op(fused_update<AdadeltaK>("Adadelta step: (new p, new accumulator, new delta accumulator)."));
  register_op(fused_update<AdamK>("Adam step: (new p, new m, new v[, new vhat when amsgrad])."));
  register_op(fused_update<AdamaxK>("Adamax step: (new p, new m, new u)."));
  register_op(fused_update<NadamK>("Nadam step: (new p, new m, new v)."));
}

}  // namespace keras_cpp
