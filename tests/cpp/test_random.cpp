// The random ops' generator: Philox4x32-10 known answers (Random123's kat_vectors), and seeded
// draws that repeat per seed and change per evaluation.
#include "doctest.h"
#include "keras_cpp/keras_cpp.h"
#include "kernels/philox.h"

using namespace keras_cpp;

TEST_CASE("philox4x32-10 matches the Random123 known answers") {
  struct Kat { uint32_t ctr[4], key[2], out[4]; };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    Philox4x32 g{{k.key[0], k.key[1]}};
    uint32_t out[4];
    g.block(k.ctr, out);
    for (int i = 0; i < 4; ++i) CHECK(out[i] == k.out[i]);
  }
  CHECK(unit24(~0u) < 1.0f);
  CHECK(unit53(~0u, ~0u) < 1.0);
}

TEST_CASE("philox block8 gives block's words for eight counters") {
  Philox4x32 g{{0x9e3779b9u, 0x12345678u}};
  uint32_t ctr[4][8], out[32];
  for (int i = 0; i < 8; ++i) {
    uint64_t b = 0xfffffffcull + static_cast<uint64_t>(i);  // the low word wraps inside the group
    ctr[0][i] = uint32_t(b);
    ctr[1][i] = uint32_t(b >> 32);
    ctr[2][i] = 0xdeadbeefu + static_cast<uint32_t>(i);
    ctr[3][i] = ~0u - static_cast<uint32_t>(i);
  }
  g.block8(ctr, out);
  for (int i = 0; i < 8; ++i) {
    uint32_t c[4] = {ctr[0][i], ctr[1][i], ctr[2][i], ctr[3][i]}, w[4];
    g.block(c, w);
    for (int k = 0; k < 4; ++k) CHECK(out[4 * i + k] == w[k]);
  }
}

TEST_CASE("seeded random ops repeat per seed and draw anew per evaluation") {
  Expr a = random_normal({64}, 0.0, 1.0, DType::float32, 42);
  Expr b = random_normal({64}, 0.0, 1.0, DType::float32, 42);
  Tensor ta = eval(a), tb = eval(b);
  for (int64_t i = 0; i < 64; ++i) CHECK(ta.item(i) == tb.item(i));
  Function f({}, {a});
  Tensor first = f({})[0], second = f({})[0];
  bool differ = false;
  for (int64_t i = 0; i < 64; ++i) differ = differ || first.item(i) != second.item(i);
  CHECK(differ);
  Tensor r = eval(arange(2, 11, 3));
  REQUIRE(r.shape() == Shape{3});
  CHECK(r.item(2) == 8);
}
