// cpp/kernels/conv_geom.h — the geometry of a channels_last convolution or pooling window with
// 1-3 spatial dims, padded out to 3 (leading size-1 dims) so one loop nest serves conv1d/2d/3d.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "keras_cpp/shape.h"

namespace keras_cpp {

// Output length and pads of one spatial dim (mode: valid, same, causal). n < 0: unknown.
inline void conv_dim(int64_t n, int64_t k, int64_t s, int64_t d, const std::string& mode, int64_t& out,
                     int64_t& pb, int64_t& pa) {
  const int64_t ke = checked_add(checked_mul(k - 1, d), 1);  // huge windows raise, never wrap
  pb = pa = 0;
  if (mode == "causal") pb = ke - 1;
  if (n < 0) { out = -1; return; }
  if (mode == "same") {
    out = n == 0 ? 0 : (n - 1) / s + 1;  // ceil(n / s), so (out - 1) * s < n
    int64_t total = std::max<int64_t>(checked_add((out - 1) * s, ke) - n, 0);
    pb = total / 2;  // TF: the odd extra pad goes at the end
    pa = total - pb;
    return;
  }
  int64_t span = checked_add(n, pb) - ke;
  out = span < 0 ? 0 : span / s + 1;
}

struct ConvGeom {
  int64_t N = 0, C = 0, G = 1, Cg = 0;  // batch, input channels, groups, channels per group
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0}, pa[3] = {0, 0, 0}, out[3] = {1, 1, 1};
  int64_t P() const { return out[0] * out[1] * out[2]; }   // output positions per sample
  int64_t inP() const { return in[0] * in[1] * in[2]; }    // input positions per sample
  int64_t KK() const { return k[0] * k[1] * k[2]; }        // kernel positions
  int64_t Kg() const { return KK() * Cg; }                 // patch length per group
  bool pointwise() const {                                 // 1x1, stride 1, no padding: no im2col
    for (int i = 0; i < 3; ++i)
      if (k[i] != 1 || s[i] != 1 || pb[i] || pa[i]) return false;
    return G == 1;
  }
  bool unit_stride() const { return s[0] == 1 && s[1] == 1 && s[2] == 1; }
};

}  // namespace keras_cpp
