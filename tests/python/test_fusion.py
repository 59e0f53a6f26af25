"""Elementwise fusion in compiled plans (cpp/exec/fuse.cpp): fused and unfused plans
(KERAS_CPP_FUSION=0 when the function is built) give the same bits, for the op table's elementwise
rows over all their dtypes and layouts, their gradient graphs, broadcasting, long and short rows,
threads, special values, the run-time fallback and loop bodies (K.rnn)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import keras_cpp
from keras_cpp import backend as K

from op_info import FLOATS, noncontig, rng_for
from op_table import OP_BY_NAME
from test_ops import leaves, placeholders
from float_math import subprocess_env

ELEMENTWISE = ['abs', 'negative', 'square', 'sqrt', 'exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'softplus',
               'softsign', 'sign', 'round', 'logical_not', 'cast', 'clip', 'add', 'subtract', 'multiply', 'divide',
               'floordiv', 'mod', 'maximum', 'minimum', 'pow', 'equal', 'not_equal', 'greater', 'greater_equal',
               'less', 'less_equal', 'logical_and', 'logical_or', 'relu', 'elu', 'hard_sigmoid', 'bias_add']
ROWS = [OP_BY_NAME[n] for n in ELEMENTWISE if n in OP_BY_NAME]


def build(fused, inputs, outputs, updates=None):
    old = os.environ.get('KERAS_CPP_FUSION')
    os.environ['KERAS_CPP_FUSION'] = '1' if fused else '0'
    try:
        return K.function(inputs, outputs, updates=updates or [])
    finally:
        if old is None:
            del os.environ['KERAS_CPP_FUSION']
        else:
            os.environ['KERAS_CPP_FUSION'] = old


def same_bits(a, b):
    """Equal bits, except that any NaN equals any NaN: IEEE leaves a NaN result's sign and payload
    to the operand order, which the compiler may choose differently in two code paths."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == 'f':
        na, nb = np.isnan(a), np.isnan(b)
        if not np.array_equal(na, nb):
            return False
        a, b = np.where(na, 0, a).astype(a.dtype), np.where(nb, 0, b).astype(b.dtype)
    return a.tobytes() == b.tobytes()


def compare(inputs, outputs, feeds):
    """Run both plans; assert equal bits; return (fused steps, unfused steps)."""
    f1, f0 = build(True, inputs, outputs), build(False, inputs, outputs)
    keep = [np.array(v, copy=True) for v in feeds]
    r1, r0 = f1(feeds), f0(feeds)
    for v, k in zip(feeds, keep):
        np.testing.assert_array_equal(v, k)  # nothing the caller passed is modified
    for x, y in zip(r1, r0):
        assert same_bits(x, y), (x, y)
    return f1._fn.num_steps, f0._fn.num_steps


def pre(t):
    """An exact chain in front of an input, so the op fuses with its producers."""
    d = K.dtype(t)
    if d == 'bool':
        return K.logical_not(K.logical_not(t))
    if d == 'uint8':
        return t
    return K.negative(K.negative(t))


def post(y):
    """An exact chain after the op, so the op fuses with its reader."""
    return K.logical_not(y) if K.dtype(y) == 'bool' else y + y


def sweep_params():
    return [pytest.param(op, d, id='%s-%s' % (op.name, d)) for op in ROWS for d in op.dtypes]


@pytest.mark.parametrize('op,dtype', sweep_params())
def test_fused_matches_unfused_over_the_op_table(op, dtype):
    rng = rng_for('fusion', op.name, dtype)
    fewer = 0
    modes = ('feed', 'noncontig', 'permuted') if dtype == 'float32' else ('feed',)
    for sample in op.samples(dtype, rng):
        for mode in modes:
            phs, feeds, tensors = placeholders(sample.arrays(), mode)
            args, kwargs = sample.bind(K, [pre(t) for t in tensors])
            outs = [post(y) for y in leaves(op.op(*args, **kwargs)) if K.is_tensor(y)]
            n1, n0 = compare(phs, outs, feeds)
            assert n1 <= n0
            fewer += n1 < n0
    if dtype in FLOATS:
        assert fewer > 0, 'nothing fused for %s %s' % (op.name, dtype)


@pytest.mark.parametrize('op', [o for o in ROWS if o.differentiable and o.grad_samples], ids=lambda o: o.name)
def test_fused_gradients_match_unfused(op):
    rng = rng_for('fusion-grad', op.name)
    for sample in op.grad_samples(rng):
        phs, feeds, tensors = placeholders(sample.arrays(), 'feed')
        args, kwargs = sample.bind(K, [pre(t) for t in tensors])
        y = leaves(op.op(*args, **kwargs))[0]
        loss = K.sum(K.square(post(y)))
        wrt = [p for p in phs if K.dtype(p) in FLOATS]
        compare(phs, K.gradients(loss, wrt), feeds)


SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e30, 88.7, -88.7, 710.0, -745.0, 1.0, -1.0, 0.5]


@pytest.mark.parametrize('dtype', FLOATS)
@pytest.mark.parametrize('name', ['exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'softplus', 'softsign', 'sin', 'abs',
                                  'sign', 'round', 'relu', 'elu', 'square'])
def test_special_values_match(name, dtype):
    with np.errstate(over='ignore'):  # float16: the large values become inf
        x = np.array(SPECIALS * 80).astype(dtype).reshape(-1, 7)  # short rows, several blocks
    p = K.placeholder(shape=(None, 7), dtype=dtype)
    q = K.placeholder(shape=(7,), dtype=dtype)
    y = getattr(K, name)(p * q - p)
    n1, n0 = compare([p, q], [K.maximum(y, q) + y], [x, x[3]])
    assert n1 < n0


@pytest.mark.parametrize('shape,bshape', [((3, 1500), (1500,)), ((700, 5), (5,)), ((2055,), (1,)),
                                          ((5, 1, 300), (4, 1)), ((33, 257), (33, 1)), ((0, 4), (4,)),
                                          ((2, 3, 4, 5), (3, 1, 5)), ((1,), ())])
@pytest.mark.parametrize('threads', [1, 2, 3])
@pytest.mark.parametrize('dtype', FLOATS)
def test_broadcast_rows_and_threads(shape, bshape, threads, dtype):
    rng = np.random.default_rng(len(shape) * 7 + threads)
    x = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(bshape).astype(dtype)
    old = keras_cpp.get_num_threads()
    try:
        keras_cpp.set_num_threads(threads)
        px, pb = K.placeholder(shape=shape, dtype=dtype), K.placeholder(shape=bshape, dtype=dtype)
        y = K.relu(0.5 * px + pb)
        z = K.switch(K.greater(y, 0.3), K.tanh(y) * pb, K.exp(-y))
        n1, n0 = compare([px, pb], [z, K.cast(K.less(z, pb), 'float64') - 1.0], [x, b])
        assert n1 < n0
        n1, n0 = compare([px, pb], [z], [noncontig(x) if x.ndim else x, b])
    finally:
        keras_cpp.set_num_threads(old)


def test_relu_axb_is_one_step_and_intermediates_asked_for_stay():
    x = np.random.default_rng(1).standard_normal((64, 40)).astype('float32')
    a, b = x[0], x[1]
    px, pa, pb = K.placeholder(shape=(None, 40)), K.placeholder(shape=(40,)), K.placeholder(shape=(40,))
    ax = pa * px
    n1, n0 = compare([px, pa, pb], [K.relu(ax + pb)], [x, a, b])
    assert (n1, n0) == (1, 3)
    n1, n0 = compare([px, pa, pb], [K.relu(ax + pb), ax], [x, a, b])  # ax is an output: an extra result
    assert (n1, n0) == (1, 3)
    f = build(True, [px, pa, pb], [K.relu(ax + pb), ax])
    r, s = f([x, a, b])
    np.testing.assert_allclose(r, np.maximum(a * x + b, 0), rtol=1e-6)
    np.testing.assert_allclose(s, a * x, rtol=1e-6)


def test_run_time_broadcast_of_an_intermediate_falls_back():
    # Static shapes agree ((None, 3)), but at run time exp(p) is (1, 3) and broadcasts.
    p, q = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    out = K.exp(p) * q + 1.0
    x, y = np.ones((1, 3), 'float32'), np.arange(12, dtype='float32').reshape(4, 3)
    compare([p, q], [out], [x, y])
    f = build(True, [p, q], [out])
    np.testing.assert_allclose(f([x, y])[0], np.exp(x) * y + 1, rtol=1e-6)
    with pytest.raises(ValueError, match='multiply|broadcast'):
        f([np.ones((2, 3), 'float32'), y])


def test_unknown_rank_inputs_that_do_not_broadcast_raise_the_member_op_error():
    # Nothing is known statically, so only the run-time check of the fused group stands between
    # these feeds and the kernel: it must fall back to the member ops and their named errors.
    a, b = K.placeholder(ndim=None), K.placeholder(ndim=None)
    out = K.exp(a + b) * 2.0 - a
    x = np.ones((2, 3), 'float32')
    for y in (np.ones(3, 'float32'), np.ones((5, 2, 3), 'float32')):
        compare([a, b], [out], [x, y])
    f = build(True, [a, b], [out])
    for shape in [(4,), (2, 2), (3, 2, 2)]:
        with pytest.raises(ValueError, match=r'\[add\].*cannot be broadcast'):
            f([x, np.ones(shape, 'float32')])


def test_updates_and_variables_fuse_correctly():
    v = K.variable(np.full((4, 3), 2.0))
    g = K.placeholder(shape=(4, 3), dtype='float64')
    new = v * 0.9 - K.tanh(g) * 0.1
    out = K.exp(new) + v  # reads the value before the update
    for fused in (True, False):
        K.set_value(v, np.full((4, 3), 2.0))
        f = build(fused, [g], [out], updates=[(v, new)])
        r = f([np.ones((4, 3))])[0]
        want_new = 2.0 * 0.9 - np.tanh(1.0) * 0.1
        np.testing.assert_allclose(r, np.exp(want_new) + 2.0)
        np.testing.assert_allclose(K.get_value(v), want_new)


def lstm_step(x, states):
    h, c = states
    z = x + h  # a stand-in for the products: the gate math is what fuses
    i = K.hard_sigmoid(z[:, :4])
    f = K.sigmoid(z[:, 4:8])
    g = K.tanh(z[:, 8:12])
    o = K.sigmoid(z[:, 12:16])
    c2 = f * c[:, :4] + i * g
    h2 = o * K.tanh(c2)
    pad = K.concatenate([h2, h2, h2, h2], axis=-1)
    return h2, [pad, K.concatenate([c2, c2, c2, c2], axis=-1)]


def test_rnn_step_gate_math_fused_matches_unfused():
    x = np.random.default_rng(3).standard_normal((5, 7, 16)).astype('float32')
    h0 = np.random.default_rng(4).standard_normal((5, 16)).astype('float32')
    px, ph, pc = K.placeholder(shape=(5, 7, 16)), K.placeholder(shape=(5, 16)), K.placeholder(shape=(5, 16))
    last, outs, states = K.rnn(lstm_step, px, [ph, pc])
    loss = K.sum(K.square(outs)) + K.sum(states[1])
    compare([px, ph, pc], [last, outs, states[0], states[1]] + K.gradients(loss, [px, ph, pc]), [x, h0, h0 * 0.5])


def test_lstm_gate_math_is_one_step_with_the_cell_state_as_an_extra_result():
    # c is returned and read by tanh(c): it stays in the group as a second result of the step.
    rng = np.random.default_rng(3)
    z, c0 = rng.standard_normal((8, 64)).astype('float32') * 3, rng.standard_normal((8, 16)).astype('float32')
    pz, pc = K.placeholder(shape=(None, 64)), K.placeholder(shape=(None, 16))
    i, f, g, o = K.sigmoid(pz[:, :16]), K.sigmoid(pz[:, 16:32]), K.tanh(pz[:, 32:48]), K.sigmoid(pz[:, 48:])
    c = f * pc + i * g
    h = o * K.tanh(c)
    n1, n0 = compare([pz, pc], [h, c], [z, c0])
    assert n0 - n1 == 8  # 4 views + 1 fused step for the 9 elementwise ops
    hr, cr = build(True, [pz, pc], [h, c])([z, c0])
    sig = lambda v: 1 / (1 + np.exp(-v))
    cn = sig(z[:, 16:32]) * c0 + sig(z[:, :16]) * np.tanh(z[:, 32:48])
    np.testing.assert_allclose(cr, cn, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hr, sig(z[:, 48:]) * np.tanh(cn), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_several_extra_results_and_their_dtypes(dtype):
    x = np.random.default_rng(4).standard_normal((5, 300)).astype(dtype)
    p = K.placeholder(shape=(None, 300), dtype=dtype)
    a = K.exp(p)
    b = a * 2.0
    gt = b > 1.0
    c = K.cast(gt, dtype) + a
    n1, n0 = compare([p], [c, a, b, gt], [x])
    assert n1 == 1 and n0 > 1


def test_an_intermediate_read_before_the_group_runs_is_not_an_extra_result():
    # sum(y) reads y and feeds the root: y must exist before the root runs, so it is its own step.
    x = np.random.default_rng(5).standard_normal((4, 6)).astype('float32')
    p = K.placeholder(shape=(4, 6))
    y = K.exp(K.negative(p))
    out = y * 2.0 + K.sum(y)
    n1, n0 = compare([p], [out], [x])
    assert n1 == n0 - 2  # negative+exp and multiply+add fuse; the sum stays between them
    np.testing.assert_allclose(build(True, [p], [out])([x])[0], np.exp(-x) * 2 + np.exp(-x).sum(), rtol=1e-5)


def test_extra_results_in_a_loop_body_match_the_unfused_rnn():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 7, 12)).astype('float32')
    W = K.constant(rng.standard_normal((12, 16)).astype('float32') * 0.3)

    def step(xt, states):
        z = K.dot(xt, W)
        c = K.sigmoid(z[:, :4]) * states[1] + K.sigmoid(z[:, 4:8]) * K.tanh(z[:, 8:12])
        h = K.sigmoid(z[:, 12:]) * K.tanh(c)
        return h, [h, c]
    px = K.placeholder(shape=(None, 7, 12))
    z0 = K.zeros((3, 4))
    last, ys, st = K.rnn(step, px, [z0, z0])
    compare([px], [ys, st[1]], [x])


# The affine+activation chains that run as one kernel call per block (fused_ew.cpp match_chain,
# ew_chain_impl.h): a and b are scalars, rows along the last axis or full tensors.
SINGLE_PASS = {
    'x*a+b': lambda x, a, b: x * a + b,
    'relu(a*x+b)': lambda x, a, b: K.relu(a * x + b),
    'b+x*a': lambda x, a, b: b + x * a,
    'relu(b-x*a)': lambda x, a, b: K.relu(b - x * a),
    'relu(x-a)': lambda x, a, b: K.relu(x - a),
    'relu(x+b)': lambda x, a, b: K.relu(x + b),
    'x*a*b': lambda x, a, b: x * a * b,
    'relu(bias_add(x*a,b))': lambda x, a, b: K.relu(K.bias_add(x * a, b)),
}


def _chain_data(shape, kind, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:len(SPECIALS)] = SPECIALS[:flat.size]
    pshape = {'scalar': (), 'row': shape[-1:], 'full': shape}[kind]
    a = rng.standard_normal(pshape).astype(dtype)
    b = rng.standard_normal(pshape).astype(dtype)
    if a.ndim:
        a.reshape(-1)[:4] = [np.inf, -0.0, np.nan, 0.0][:a.size]
        b.reshape(-1)[-3:] = [-np.inf, np.nan, -0.0][-b.size:]
    return x, a, b


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape', [(37, 1029), (300, 7), (2055,)])
@pytest.mark.parametrize('kind', ['scalar', 'row', 'full'])
@pytest.mark.parametrize('name', list(SINGLE_PASS))
def test_single_pass_chains_match_unfused(name, kind, shape, dtype):
    x, a, b = _chain_data(shape, kind, dtype, len(shape) * 31 + len(name))
    if name == 'relu(bias_add(x*a,b))' and kind != 'row':
        pytest.skip('bias_add takes a row')
    px = K.placeholder(shape=shape, dtype=dtype)
    pa, pb = (K.placeholder(shape=v.shape, dtype=dtype) for v in (a, b))
    y = SINGLE_PASS[name](px, pa, pb)
    n1, n0 = compare([px, pa, pb], [y], [x, a, b])
    assert n1 == 1 and n0 >= 2
    compare([px, pa, pb], [y], [noncontig(x), noncontig(a) if a.ndim else a, b])  # gathered operands


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_single_pass_chain_with_a_python_scalar_and_a_streamed_output(dtype):
    # 1025 x 2048 x 4 bytes > ew::kStreamBytes: the non-temporal form of the kernel.
    x, a, b = _chain_data((1025, 2048), 'row', dtype, 5)
    px, pb = K.placeholder(shape=(None, 2048), dtype=dtype), K.placeholder(shape=(2048,), dtype=dtype)
    n1, n0 = compare([px, pb], [K.relu(0.5 * px + pb)], [x, b])
    assert (n1, n0) == (1, 3)
    got = build(True, [px, pb], [K.relu(0.5 * px + pb)])([x, b])[0]
    with np.errstate(invalid='ignore'):
        np.testing.assert_array_equal(got, np.maximum(np.asarray(0.5, dtype) * x + b, 0))


def test_single_pass_chains_on_the_avx2_kernels():
    """KERAS_CPP_ISA=avx2 in a fresh process: the AVX2 build of the chain kernels."""
    if os.environ.get('KERAS_CPP_ISA') == 'avx2':
        pytest.skip('already the AVX2 run')
    env = subprocess_env(KERAS_CPP_ISA='avx2')
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', os.path.abspath(__file__),
                          '-k', 'single_pass and not avx2'], env=env, cwd=here, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert ' passed' in out.stdout
