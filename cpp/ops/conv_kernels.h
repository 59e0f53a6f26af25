// cpp/ops/conv_kernels.h — geometry from attrs and patch kernels shared by the convolution and
// pooling ops. Everything is channels_last with 1-3 spatial dims, padded out to 3 (leading size-1
// dims, kernels/conv_geom.h), so one loop nest serves conv1d/2d/3d. im2col packs patches; col2im
// is its exact adjoint (a gather over the outputs that read each input, so it runs in parallel
// with no write conflicts).
#pragma once
#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "kernels/conv_geom.h"
#include "kernels/parallel.h"
#include "ops/registry.h"

namespace keras_cpp {

constexpr int64_t kSlot = INT64_MIN;  // "read this dim from the next scalar input" in shape attrs

// Geometry of x (N, spatial..., C) with kernel spatial sizes `ks` and attrs strides, dilation,
// padding. Spatial dims of x must be known (run time).
inline ConvGeom make_geom(const Shape& x, const std::vector<int64_t>& ks, const Attrs& a, int64_t groups) {
  ConvGeom g;
  const int nsp = static_cast<int>(ks.size()), off = 3 - nsp;
  g.N = x[0];
  g.C = x.back();
  g.G = groups;
  g.Cg = groups > 0 ? g.C / groups : 0;
  const auto& st = a.ints("strides");
  const bool has_d = a.has("dilation");
  for (int i = 0; i < nsp; ++i) {
    int j = off + i;
    g.in[j] = x[1 + i];
    g.k[j] = ks[i];
    g.s[j] = st[i];
    g.d[j] = has_d ? a.ints("dilation")[i] : 1;
    conv_dim(g.in[j], g.k[j], g.s[j], g.d[j], a.s("padding"), g.out[j], g.pb[j], g.pa[j]);
  }
  return g;
}

// Patches of output rows [r0, r1) (row = sample * P + position) into col laid out (G, r1-r0, Kg),
// each row ordered (kernel position, channel in group). Padding reads as 0.
template <class T>
void im2col(const T* x, T* col, const ConvGeom& g, int64_t rb, int64_t re) {
  const int64_t P = g.P(), Kg = g.Kg(), rows = re - rb, Cg = g.Cg, C = g.C;
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.KK() * C)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = (rb + r) / P, p = (rb + r) % P;
      const int64_t o2 = p % g.out[2], o1 = (p / g.out[2]) % g.out[1], o0 = p / (g.out[2] * g.out[1]);
      int64_t kp = 0;
      for (int64_t a = 0; a < g.k[0]; ++a) {
        const int64_t i0 = o0 * g.s[0] + a * g.d[0] - g.pb[0];
        for (int64_t b = 0; b < g.k[1]; ++b) {
          const int64_t i1 = o1 * g.s[1] + b * g.d[1] - g.pb[1];
          for (int64_t c = 0; c < g.k[2]; ++c, ++kp) {
            const int64_t i2 = o2 * g.s[2] + c * g.d[2] - g.pb[2];
            const bool inside = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2 >= 0 && i2 < g.in[2];
            const T* src = x + (((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * C;
            for (int64_t grp = 0; grp < g.G; ++grp) {
              T* dst = col + (grp * rows + r) * Kg + kp * Cg;
              if (inside) std::copy(src + grp * Cg, src + (grp + 1) * Cg, dst);
              else std::fill(dst, dst + Cg, T(0));
            }
          }
        }
      }
    }
  });
}

// Adjoint of im2col: x[samples n0..n1) = sum of the patch entries that read each input element.
template <class T>
void col2im(const T* col, T* x, const ConvGeom& g, int64_t n0, int64_t n1) {
  const int64_t P = g.P(), Kg = g.Kg(), rows = (n1 - n0) * P, Cg = g.Cg, C = g.C, inP = g.inP();
  // Kernel offsets along one dim that land on input i, with their output index (-1: none).
  auto hit = [&](int dim, int64_t i, int64_t kk) {
    int64_t t = i + g.pb[dim] - kk * g.d[dim];
    if (t < 0 || t % g.s[dim]) return int64_t(-1);
    t /= g.s[dim];
    return t < g.out[dim] ? t : int64_t(-1);
  };
  parallel_for((n1 - n0) * inP, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.KK() * C)), [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t n = q / inP, p = q % inP;
      const int64_t i2 = p % g.in[2], i1 = (p / g.in[2]) % g.in[1], i0 = p / (g.in[2] * g.in[1]);
      T* dst = x + ((n0 + n) * inP + p) * C;
      std::fill(dst, dst + C, T(0));
      for (int64_t a = 0; a < g.k[0]; ++a) {
        const int64_t o0 = hit(0, i0, a);
        if (o0 < 0) continue;
        for (int64_t b = 0; b < g.k[1]; ++b) {
          const int64_t o1 = hit(1, i1, b);
          if (o1 < 0) continue;
          for (int64_t c = 0; c < g.k[2]; ++c) {
            const int64_t o2 = hit(2, i2, c);
            if (o2 < 0) continue;
            const int64_t r = n * P + (o0 * g.out[1] + o1) * g.out[2] + o2, kp = (a * g.k[1] + b) * g.k[2] + c;
            for (int64_t grp = 0; grp < g.G; ++grp) {
              const T* src = col + (grp * rows + r) * Kg + kp * Cg;
              T* o = dst + grp * Cg;
              for (int64_t j = 0; j < Cg; ++j) o[j] += src[j];
            }
          }
        }
      }
    }
  });
}

// Output rows per tile of the tiled drivers: the tile's patches stay near 128K elements (L2).
inline int64_t conv_tile_rows(const ConvGeom& g) {
  return std::max<int64_t>(16, (int64_t(1) << 17) / std::max<int64_t>(1, g.Kg() * g.G));
}

}  // namespace keras_cpp
