"""Philox4x32-10 in numpy (the generator of cpp/kernels/philox.h), so tests can pin the random ops'
exact numbers: block b of evaluation e of an op with seed s is keyed by s and counts
(b mod 2^32, b >> 32, e mod 2^32, (e >> 32) << 16 | round)."""
import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_LO = np.uint64(0xFFFFFFFF)


def blocks(seed, n_blocks, evaluation=0, round_=0):
    """(n_blocks, 4) uint32 words of blocks 0 .. n_blocks - 1."""
    b = np.arange(n_blocks, dtype=np.uint64)
    c = [b & _LO, b >> np.uint64(32), np.full_like(b, evaluation & 0xFFFFFFFF),
         np.full_like(b, ((evaluation >> 32) << 16 | round_) & 0xFFFFFFFF)]
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    for r in range(10):
        if r:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & _LO, (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & _LO]
    return np.stack(c, axis=1).astype(np.uint32)


def unit24(seed, n, evaluation=0):
    """The first n float32 uniform draws in [0, 1) (four 24-bit ones per block)."""
    w = blocks(seed, (n + 3) // 4, evaluation).reshape(-1)[:n]
    return (w >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def unit53(seed, n, evaluation=0):
    """The first n float64 uniform draws in [0, 1) (two 53-bit ones per block)."""
    w = blocks(seed, (n + 1) // 2, evaluation).reshape(-1, 2)[:n].astype(np.uint64)
    return ((w[:, 0] >> np.uint64(5)) << np.uint64(26) | (w[:, 1] >> np.uint64(6))).astype(np.float64) / 2.0 ** 53
