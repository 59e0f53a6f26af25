// cpp/ops/resize_pad.cpp — zero padding of the time/spatial axes (temporal_padding,
// spatial_2d_padding, spatial_3d_padding, all through `_pad`) and upsampling by integer factors:
// resize_images (nearest through `_repeat`, legacy-TF bilinear as two 1-D `_lerp_up` passes) and
// resize_volumes (nearest). Gradients are the adjoint ops: a slice, a block sum, `_lerp_up_grad`.
#include <cctype>
#include <cstring>

#include "kernels/strided_copy.h"
#include "ops/helpers.h"
#include "ops/shape_manip.h"

namespace keras_cpp {
namespace {

using G = std::vector<Expr>;


// Keras normalize_data_format: None -> image_data_format(); case-insensitive.
std::string data_format_of(const std::string& op, const Value& v) {
  std::string f = v.is_none() ? config::image_data_format() : v.s, low;
  for (char c : f) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (low != "channels_first" && low != "channels_last")
    fail_value(op, "Unknown data_format: '" + f + "' (expected 'channels_first' or 'channels_last')");
  return low;
}

std::string rank_str(const Expr& x) { return x.rank_known() ? shape_str(x.shape()) : std::string("<unknown rank>"); }

void check_rank(const std::string& op, const Expr& x, int rank) {
  if (!x.rank_known() || x.ndim() != rank)
    fail_value(op, "x must be a " + std::to_string(rank) + "-D tensor, got shape " + rank_str(x));
}

// An int pair given as a tuple/list (numpy ints arrive as a list of Int values).
bool pair_of(const Value& v, std::vector<int64_t>& out) {
  if (v.kind == Value::Ints && v.ints.size() == 2) {
    out.insert(out.end(), v.ints.begin(), v.ints.end());
    return true;
  }
  if (v.kind == Value::List && v.list.size() == 2 && v.list[0].kind == Value::Int && v.list[1].kind == Value::Int) {
    out.insert(out.end(), {v.list[0].i, v.list[1].i});
    return true;
  }
  return false;
}

// `n` (before, after) pairs; temporal padding (n = 1) takes the pair itself.
std::vector<int64_t> pad_pairs(const std::string& op, const Value& v, int n) {
  std::vector<int64_t> out;
  bool ok = n == 1 ? pair_of(v, out) : (v.kind == Value::List && static_cast<int>(v.list.size()) == n);
  for (int i = 0; ok && n > 1 && i < n; ++i) ok = pair_of(v.list[i], out);
  for (int64_t p : out) ok = ok && p >= 0;
  if (!ok)
    fail_value(op, std::string("padding must be ") + (n == 1 ? "a pair (left, right)" : std::to_string(n) + " (before, after) pairs") +
                       " of non-negative ints, got " + v.repr());
  return out;
}

Expr make_pad(const Expr& x, const std::vector<int>& axes, const std::vector<int64_t>& pairs) {
  std::vector<int64_t> pads(2 * x.ndim(), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    pads[2 * axes[i]] = pairs[2 * i];
    pads[2 * axes[i] + 1] = pairs[2 * i + 1];
  }
  Attrs a;
  a.set("pads", Value(pads));
  return make_node("_pad", {x}, a);
}

std::vector<int> spatial_axes(const std::string& fmt, int n) {
  std::vector<int> axes;
  for (int i = 0; i < n; ++i) axes.push_back(fmt == "channels_first" ? 2 + i : 1 + i);
  return axes;
}

void register_pad() {
  OpDef p = def("_pad(x: tensor, pads: ints)", "Zero-pad axis k by (pads[2k], pads[2k+1]).");
  p.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) {
    Shape s = in[0].shape;
    const auto& pads = a.ints("pads");
    for (size_t k = 0; k < s.size(); ++k) s[k] = s[k] < 0 ? kUnknownDim : checked_add(checked_add(s[k], pads[2 * k]), pads[2 * k + 1]);
    return TypeInfo{s, in[0].dtype, true};
  };
  p.forward = [](KernelCtx& ctx) {
    const Tensor& x = ctx.in[0];
    const auto& pads = ctx.attrs().ints("pads");
    Shape s = x.shape();
    for (int k = 0; k < x.ndim(); ++k) s[k] = checked_add(checked_add(s[k], pads[2 * k]), pads[2 * k + 1]);
    Tensor out = ctx.alloc_tensor(s, x.dtype());
    // Zero only the border slabs (axis k's before/after bands, within the interior of the axes
    // before k), then copy the interior: every output byte is written once.
    static const uint64_t zero = 0;
    const Shape none(s.size(), 0);
    Tensor inner = out;
    for (int k = 0; k < x.ndim(); ++k) {
      const int64_t lo = pads[2 * k], n = x.shape()[k];
      for (Tensor band : {inner.slice(k, 0, lo, 1), inner.slice(k, lo + n, lo + n + pads[2 * k + 1], 1)})
        strided_copy(&zero, none, band.raw(), band.strides(), band.shape(), dtype_size(out.dtype()));
      inner = inner.slice(k, lo, lo + n, 1);
    }
    copy_into(x, inner);
    return out;
  };
  p.grad = [](const Expr& y, const Expr& g) {  // the interior of g; stops count from the end so None dims work
    std::vector<int64_t> spec;
    const auto& pads = y->attrs.ints("pads");
    for (int k = 0; k < y.ndim(); ++k) spec.insert(spec.end(), {1, pads[2 * k], pads[2 * k + 1] ? -pads[2 * k + 1] : kNoneInt, 1});
    Attrs a;
    a.set("spec", Value(spec));
    return G{make_node("_getitem", {g}, a)};
  };
  register_op(p);

  OpDef t = def("temporal_padding(x: tensor, padding: any = (1, 1))", "Zero-pad axis 1 of a 3-D tensor by (left, right).");
  t.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    check_rank("temporal_padding", x, 3);
    return make_pad(x, {1}, pad_pairs("temporal_padding", a[1], 1));
  };
  register_op(t);

  OpDef s2 = def("spatial_2d_padding(x: tensor, padding: any = ((1, 1), (1, 1)), data_format: str? = None)",
                 "Zero-pad the rows and columns of a 4-D tensor by ((top, bottom), (left, right)).");
  s2.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    std::vector<int64_t> pairs = pad_pairs("spatial_2d_padding", a[1], 2);
    std::string fmt = data_format_of("spatial_2d_padding", a[2]);
    check_rank("spatial_2d_padding", x, 4);
    return make_pad(x, spatial_axes(fmt, 2), pairs);
  };
  register_op(s2);

  OpDef s3 = def("spatial_3d_padding(x: tensor, padding: any = ((1, 1), (1, 1), (1, 1)), data_format: str? = None)",
                 "Zero-pad the three spatial axes of a 5-D tensor by (before, after) pairs.");
  s3.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    std::vector<int64_t> pairs = pad_pairs("spatial_3d_padding", a[1], 3);
    std::string fmt = data_format_of("spatial_3d_padding", a[2]);
    check_rank("spatial_3d_padding", x, 5);
    return make_pad(x, spatial_axes(fmt, 3), pairs);
  };
  register_op(s3);
}

// ---- 1-D linear upsampling along one axis (legacy TF resize_bilinear: source = i / factor,
// no half-pixel offset, the last sample clamped). x is seen as (A, N, C).
struct Lerp {
  int64_t A = 1, N = 1, C = 1, f = 1;
  Lerp(const Shape& s, int ax, int64_t factor, bool out_side) : f(factor) {
    for (int k = 0; k < static_cast<int>(s.size()); ++k) (k < ax ? A : k == ax ? N : C) *= s[k];
    if (out_side) N /= f;
  }
  int64_t y0(int64_t i) const { return i / f; }
  int64_t y1(int64_t i) const { return std::min(i / f + 1, N - 1); }
  double w(int64_t i) const { return static_cast<double>(i % f) / static_cast<double>(f); }
};

Tensor lerp_forward(KernelCtx& ctx, bool adjoint) {
  int ax = static_cast<int>(ctx.attrs().i("axis"));
  int64_t f = ctx.attrs().i("factor");
  DType od = ctx.in[0].dtype(), cd = od == DType::float16 ? DType::float32 : od;
  Tensor x = ctx.in[0].astype(cd).contiguous();
  Lerp L(x.shape(), ax, f, adjoint);
  Shape os = x.shape();
  os[ax] = adjoint ? L.N : checked_mul(L.N, f);
  Tensor out = ctx.alloc_tensor(os, cd);
  dispatch_float(cd, "resize_images", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t C = L.C, M = L.N * f;
    const int64_t rows = L.A * os[ax];
    parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, C * (adjoint ? 2 * f : 1))), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t a = r / os[ax], j = r % os[ax];
        T* o = po + r * C;
        if (!adjoint) {  // out[j] = x[y0] + (x[y1] - x[y0]) * w
          const T* lo = px + (a * L.N + L.y0(j)) * C;
          const T* hi = px + (a * L.N + L.y1(j)) * C;
          const T w = static_cast<T>(L.w(j));
          for (int64_t c = 0; c < C; ++c) o[c] = lo[c] + (hi[c] - lo[c]) * w;
          continue;
        }
        std::fill(o, o + C, T(0));  // input row j collects every output row that read it
        for (int64_t i = std::max<int64_t>(0, (j - 1) * f); i < std::min(M, (j + 1) * f); ++i) {
          double c = (L.y0(i) == j ? 1.0 - L.w(i) : 0.0) + (L.y1(i) == j ? L.w(i) : 0.0);
          if (c == 0.0) continue;
          const T* xi = px + (a * M + i) * C;
          const T ct = static_cast<T>(c);
          for (int64_t k = 0; k < C; ++k) o[k] += xi[k] * ct;
        }
      }
    });
  });
  return out.astype(od);
}

Expr lerp_node(const char* op, const Expr& x, int ax, int64_t f) {
  Attrs a;
  a.set("axis", Value(static_cast<int64_t>(ax)));
  a.set("factor", Value(f));
  return make_node(op, {x}, a);
}

TypeInfo lerp_infer(const std::vector<TypeInfo>& in, const Attrs& a, bool adjoint) {
  Shape s = in[0].shape;
  int ax = static_cast<int>(a.i("axis"));
  int64_t f = a.i("factor");
  if (s[ax] >= 0) s[ax] = adjoint ? s[ax] / f : checked_mul(s[ax], f);
  return TypeInfo{s, in[0].dtype, true};
}

void register_resize() {
  OpDef l = def("_lerp_up(x: tensor, axis: int, factor: int)", "Linear upsampling along one axis (legacy TF: source i/factor, edge clamped).");
  l.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) { return lerp_infer(in, a, false); };
  l.forward = [](KernelCtx& ctx) { return lerp_forward(ctx, false); };
  l.grad = [](const Expr& y, const Expr& g) { return G{lerp_node("_lerp_up_grad", g, static_cast<int>(y->attrs.i("axis")), y->attrs.i("factor"))}; };
  register_op(l);

  OpDef lg = def("_lerp_up_grad(g: tensor, axis: int, factor: int)", "Adjoint of _lerp_up.");
  lg.infer = [](const std::vector<TypeInfo>& in, const Attrs& a) { return lerp_infer(in, a, true); };
  lg.forward = [](KernelCtx& ctx) { return lerp_forward(ctx, true); };
  lg.grad = [](const Expr& y, const Expr& g) { return G{lerp_node("_lerp_up", g, static_cast<int>(y->attrs.i("axis")), y->attrs.i("factor"))}; };
  register_op(lg);

  OpDef ri = def("resize_images(x: tensor, height_factor: int, width_factor: int, data_format: str?, interpolation: str = 'nearest')",
                 "Upsample the rows and columns of a 4-D tensor by integer factors ('nearest' or legacy-TF 'bilinear').");
  ri.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    std::string fmt = data_format_of("resize_images", a[3]);
    const std::string& interp = a[4].s;
    if (interp != "nearest" && interp != "bilinear")
      fail_value("resize_images", "interpolation should be one of 'nearest' or 'bilinear', got '" + interp + "'");
    check_rank("resize_images", x, 4);
    int64_t fh = a[1].i, fw = a[2].i;
    if (fh < 1 || fw < 1)
      fail_value("resize_images", "height_factor and width_factor must be >= 1, got " + std::to_string(fh) + " and " + std::to_string(fw));
    std::vector<int> ax = spatial_axes(fmt, 2);
    if (interp == "nearest") {
      std::vector<int64_t> reps(4, 1);
      reps[ax[0]] = fh;
      reps[ax[1]] = fw;
      return make_repeat("resize_images", x, Value(reps), true);
    }
    if (!is_floating(x.dtype())) x = cast(x, config::floatx());  // TF's resize_bilinear returns floats
    return lerp_node("_lerp_up", lerp_node("_lerp_up", x, ax[0], fh), ax[1], fw);
  };
  register_op(ri);

  OpDef rv = def("resize_volumes(x: tensor, depth_factor: int, height_factor: int, width_factor: int, data_format: str?)",
                 "Nearest upsampling of the three spatial axes of a 5-D tensor by integer factors.");
  rv.build = [](const OpDef&, std::vector<Value>& a) {
    Expr x(a[0].t);
    std::string fmt = data_format_of("resize_volumes", a[4]);
    check_rank("resize_volumes", x, 5);
    std::vector<int64_t> reps(5, 1);
    std::vector<int> ax = spatial_axes(fmt, 3);
    for (int i = 0; i < 3; ++i) {
      if (a[1 + i].i < 1) fail_value("resize_volumes", "factors must be >= 1, got " + std::to_string(a[1 + i].i));
      reps[ax[i]] = a[1 + i].i;
    }
    return make_repeat("resize_volumes", x, Value(reps), true);
  };
  register_op(rv);
}

}  // namespace

static Value pairs_value(const std::vector<std::pair<int64_t, int64_t>>& p) {
  std::vector<Value> v;
  for (auto& [a, b] : p) v.push_back(Value(std::vector<int64_t>{a, b}));
  return Value(v);
}
static Value format_value(const std::string& f) { return f.empty() ? Value() : Value(f); }

Expr temporal_padding(const Expr& x, std::pair<int64_t, int64_t> p) {
  return call("temporal_padding", {x, Value(std::vector<int64_t>{p.first, p.second})});
}
Expr spatial_2d_padding(const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& p, const std::string& f) {
  return call("spatial_2d_padding", {x, pairs_value(p), format_value(f)});
}
Expr spatial_3d_padding(const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& p, const std::string& f) {
  return call("spatial_3d_padding", {x, pairs_value(p), format_value(f)});
}
Expr resize_images(const Expr& x, int64_t fh, int64_t fw, const std::string& f, const std::string& interpolation) {
  return call("resize_images", {x, Value(fh), Value(fw), format_value(f), Value(interpolation)});
}
Expr resize_volumes(const Expr& x, int64_t fd, int64_t fh, int64_t fw, const std::string& f) {
  return call("resize_volumes", {x, Value(fd), Value(fh), Value(fw), format_value(f)});
}

void register_resize_pad() {
  register_pad();
  register_resize();
}

}  // namespace keras_cpp
