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
OpRef kPad, kTemporalPadding, kSpatial2dPadding, kSpatial3dPadding, kLerpUp, kLerpUpGrad, kResizeImages, kResizeVolumes;

std::string rank_str(const Expr& x) { return x.rank_known() ? shape_str(x.shape()) : std::string("<unknown rank>"); }

void check_rank(const std::string& op, const Expr& x, int rank) {
  if (!x.rank_known() || x.ndim() != rank)
    fail_value(op, "x must be a " + std::to_string(rank) + "-D tensor, got shape " + rank_str(x));
}

std::vector<int64_t> flat_pairs(const std::vector<std::pair<int64_t, int64_t>>& p) {
  std::vector<int64_t> out;
  for (auto& [a, b] : p) out.insert(out.end(), {a, b});
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
  return make_node(kPad, {x}, a);
}

std::vector<int> spatial_axes(const std::string& fmt, int n) {
  std::vector<int> axes;
  for (int i = 0; i < n; ++i) axes.push_back(fmt == "channels_first" ? 2 + i : 1 + i);
  return axes;
}

TypeInfo pad_infer(const std::vector<TypeInfo>& in, const Attrs& a) {
  Shape s = in[0].shape;
  const auto& pads = a.ints("pads");
  for (size_t k = 0; k < s.size(); ++k) s[k] = s[k] < 0 ? kUnknownDim : s[k] + pads[2 * k] + pads[2 * k + 1];
  return TypeInfo{s, in[0].dtype, true};
}

Tensor pad_forward(KernelCtx& ctx) {
  const Tensor& x = ctx.in[0];
  const auto& pads = ctx.attrs().ints("pads");
  Shape s = x.shape();
  for (int k = 0; k < x.ndim(); ++k) s[k] += pads[2 * k] + pads[2 * k + 1];
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
}

G pad_grad(const Expr& y, const Expr& g) {  // the interior of g; stops count from the end so None dims work
  std::vector<int64_t> spec;
  const auto& pads = y->attrs.ints("pads");
  for (int k = 0; k < y.ndim(); ++k) spec.insert(spec.end(), {1, pads[2 * k], pads[2 * k + 1] ? -pads[2 * k + 1] : kNoneInt, 1});
  return G{getitem(g, spec)};
}

// pads: the flat (before, after) pairs of the registry's pairs[n] kind; fmt already normalised.
Expr spatial_padding(const char* op, const Expr& x, const std::vector<int64_t>& pads, const std::string& fmt, int n) {
  check_rank(op, x, n + 2);
  return make_pad(x, spatial_axes(fmt, n), pads);
}

Expr temporal_padding_build(const OpDef&, std::vector<Value>& a) {
  Expr x(a[0].t);
  check_rank("temporal_padding", x, 3);
  return make_pad(x, {1}, a[1].ints);
}
Expr spatial_2d_padding_build(const OpDef&, std::vector<Value>& a) {
  return spatial_padding("spatial_2d_padding", Expr(a[0].t), a[1].ints, a[2].s, 2);
}
Expr spatial_3d_padding_build(const OpDef&, std::vector<Value>& a) {
  return spatial_padding("spatial_3d_padding", Expr(a[0].t), a[1].ints, a[2].s, 3);
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
  os[ax] = adjoint ? L.N : L.N * f;
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

Expr lerp_node(const OpRef& op, const Expr& x, int ax, int64_t f) {
  Attrs a;
  a.set("axis", Value(static_cast<int64_t>(ax)));
  a.set("factor", Value(f));
  return make_node(op, {x}, a);
}

TypeInfo lerp_infer(const std::vector<TypeInfo>& in, const Attrs& a, bool adjoint) {
  Shape s = in[0].shape;
  int ax = static_cast<int>(a.i("axis"));
  int64_t f = a.i("factor");
  if (s[ax] >= 0) s[ax] = adjoint ? s[ax] / f : s[ax] * f;
  return TypeInfo{s, in[0].dtype, true};
}

TypeInfo lerp_up_infer(const std::vector<TypeInfo>& in, const Attrs& a) { return lerp_infer(in, a, false); }
TypeInfo lerp_up_grad_infer(const std::vector<TypeInfo>& in, const Attrs& a) { return lerp_infer(in, a, true); }
Tensor lerp_up_forward(KernelCtx& ctx) { return lerp_forward(ctx, false); }
Tensor lerp_up_grad_forward(KernelCtx& ctx) { return lerp_forward(ctx, true); }
G lerp_up_grad(const Expr& y, const Expr& g) { return G{lerp_node(kLerpUpGrad, g, static_cast<int>(y->attrs.i("axis")), y->attrs.i("factor"))}; }
G lerp_up_grad_grad(const Expr& y, const Expr& g) { return G{lerp_node(kLerpUp, g, static_cast<int>(y->attrs.i("axis")), y->attrs.i("factor"))}; }

// fmt already normalised (the registry's data_format kind, or data_format_arg).
Expr resize_images_as(const Expr& x0, int64_t fh, int64_t fw, const std::string& fmt, const std::string& interp) {
  Expr x = x0;
  if (interp != "nearest" && interp != "bilinear")
    fail_value("resize_images", "interpolation should be one of 'nearest' or 'bilinear', got '" + interp + "'");
  check_rank("resize_images", x, 4);
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
  return lerp_node(kLerpUp, lerp_node(kLerpUp, x, ax[0], fh), ax[1], fw);
}

Expr resize_volumes_as(const Expr& x, const std::vector<int64_t>& factors, const std::string& fmt) {
  check_rank("resize_volumes", x, 5);
  std::vector<int64_t> reps(5, 1);
  std::vector<int> ax = spatial_axes(fmt, 3);
  for (int i = 0; i < 3; ++i) {
    if (factors[i] < 1) fail_value("resize_volumes", "factors must be >= 1, got " + std::to_string(factors[i]));
    reps[ax[i]] = factors[i];
  }
  return make_repeat("resize_volumes", x, Value(reps), true);
}

Expr resize_images_build(const OpDef&, std::vector<Value>& a) { return resize_images_as(Expr(a[0].t), a[1].i, a[2].i, a[3].s, a[4].s); }
Expr resize_volumes_build(const OpDef&, std::vector<Value>& a) { return resize_volumes_as(Expr(a[0].t), {a[1].i, a[2].i, a[3].i}, a[4].s); }

}  // namespace

Expr temporal_padding(const Expr& x, std::pair<int64_t, int64_t> p) {
  check_rank("temporal_padding", x, 3);
  if (p.first < 0 || p.second < 0)
    fail_value("temporal_padding", "'padding' must be a pair (left, right) of non-negative ints, got " + Value(flat_pairs({p})).repr());
  return make_pad(x, {1}, {p.first, p.second});
}
static Expr spatial_padding_api(const char* op, const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& p, const std::string& f,
                                int n) {
  bool ok = static_cast<int>(p.size()) == n;
  for (auto& [a, b] : p) ok = ok && a >= 0 && b >= 0;
  if (!ok) fail_value(op, "'padding' must be " + std::to_string(n) + " (before, after) pairs of non-negative ints");
  return spatial_padding(op, x, flat_pairs(p), data_format_arg(op, f), n);
}
Expr spatial_2d_padding(const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& p, const std::string& f) {
  return spatial_padding_api("spatial_2d_padding", x, p, f, 2);
}
Expr spatial_3d_padding(const Expr& x, const std::vector<std::pair<int64_t, int64_t>>& p, const std::string& f) {
  return spatial_padding_api("spatial_3d_padding", x, p, f, 3);
}
Expr resize_images(const Expr& x, int64_t fh, int64_t fw, const std::string& f, const std::string& interpolation) {
  return resize_images_as(x, fh, fw, data_format_arg("resize_images", f), interpolation);
}
Expr resize_volumes(const Expr& x, int64_t fd, int64_t fh, int64_t fw, const std::string& f) {
  return resize_volumes_as(x, {fd, fh, fw}, data_format_arg("resize_volumes", f));
}

void register_resize_pad() {
  register_op(kPad, Op("_pad(x: tensor, pads: ints)", "Zero-pad axis k by (pads[2k], pads[2k+1]).")
                        .infer(pad_infer).forward(pad_forward).grad(pad_grad));
  register_op(kTemporalPadding, Op("temporal_padding(x: tensor, padding: pairs[1] = (1, 1))", "Zero-pad axis 1 of a 3-D tensor by (left, right).")
                                    .build(temporal_padding_build));
  register_op(kSpatial2dPadding, Op("spatial_2d_padding(x: tensor, padding: pairs[2] = ((1, 1), (1, 1)), data_format: data_format = None)",
                                    "Zero-pad the rows and columns of a 4-D tensor by ((top, bottom), (left, right)).")
                                     .build(spatial_2d_padding_build));
  register_op(kSpatial3dPadding, Op("spatial_3d_padding(x: tensor, padding: pairs[3] = ((1, 1), (1, 1), (1, 1)), data_format: data_format = None)",
                                    "Zero-pad the three spatial axes of a 5-D tensor by (before, after) pairs.")
                                     .build(spatial_3d_padding_build));
  register_op(kLerpUp, Op("_lerp_up(x: tensor, axis: int, factor: int)", "Linear upsampling along one axis (legacy TF: source i/factor, edge clamped).")
                           .infer(lerp_up_infer).forward(lerp_up_forward).grad(lerp_up_grad));
  register_op(kLerpUpGrad, Op("_lerp_up_grad(g: tensor, axis: int, factor: int)", "Adjoint of _lerp_up.")
                               .infer(lerp_up_grad_infer).forward(lerp_up_grad_forward).grad(lerp_up_grad_grad));
  register_op(kResizeImages, Op("resize_images(x: tensor, height_factor: int, width_factor: int, data_format: data_format, interpolation: str = 'nearest')",
                                "Upsample the rows and columns of a 4-D tensor by integer factors ('nearest' or legacy-TF 'bilinear').")
                                 .build(resize_images_build));
  register_op(kResizeVolumes, Op("resize_volumes(x: tensor, depth_factor: int, height_factor: int, width_factor: int, data_format: data_format)",
                                 "Nearest upsampling of the three spatial axes of a 5-D tensor by integer factors.")
                                  .build(resize_volumes_build));
}

}  // namespace keras_cpp
