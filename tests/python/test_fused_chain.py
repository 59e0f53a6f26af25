"""Float32 add/subtract/multiply chains that the fused evaluator runs a vector at a time in registers
(cpp/kernels/fused_chain.cpp): the same bits as numpy's op-by-op float32 arithmetic, for dense and
broadcast (row, column, scalar) operands, either operand order, row tails and NaN/inf. Also run
with KERAS_CPP_ISA=avx2 (the chain kernel is AVX2 either way; the rest of the chain's ops are not)."""
import numpy as np
import pytest

from keras_cpp import backend as K
from float_math import subprocess_env

CHAINS = {
    'bn': (lambda x, m, s, b: (x - m) * s + b, 4),
    'reversed': (lambda x, m, s, b: b - s * (m - x), 4),
    'scalar_first': (lambda x, m, s, b: 2.0 - x * 3.0 + m, 2),
    'long': (lambda x, m, s, b: ((x + m) * s - b) * x + s - m * b, 4),
}


def _same_bits(got, ref):
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))


@pytest.mark.parametrize('shape', [(256, 1024), (3, 70), (5, 1), (7, 129), (1, 1000), (2, 3, 67)])
@pytest.mark.parametrize('chain', sorted(CHAINS))
@pytest.mark.parametrize('bcast', ['full', 'row', 'column'])
def test_float32_chain_bits(shape, chain, bcast):
    fn, nargs = CHAINS[chain]
    rng = np.random.default_rng(shape[-1] + nargs)
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[:3] = [np.nan, np.inf, -0.0]
    oshape = {'full': shape, 'row': shape[-1:], 'column': shape[:-1] + (1,)}[bcast]
    others = [rng.standard_normal(oshape).astype(np.float32) for _ in range(nargs - 1)]
    ps = [K.placeholder(shape=a.shape) for a in [x] + others]
    got = K.function(ps, [fn(*ps, *([None] * (4 - nargs)))])([x] + others)[0]
    f32 = [np.float32(v) for v in (2.0, 3.0)]
    with np.errstate(invalid='ignore'):
        if chain == 'scalar_first':
            ref = f32[0] - x * f32[1] + others[0]
        else:
            ref = fn(x, *others)
    _same_bits(got, ref.astype(np.float32))


def test_float32_chain_on_avx2(monkeypatch):
    import os
    import subprocess
    import sys
    if os.environ.get('KERAS_CPP_ISA') == 'avx2':
        pytest.skip('already running with the AVX2 kernels')
    env = subprocess_env(KERAS_CPP_ISA='avx2')
    args = [sys.executable, '-m', 'pytest', '-q', '-x', '-p', 'no:cacheprovider', __file__, '-k', 'bits']
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
