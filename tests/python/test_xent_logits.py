"""categorical_crossentropy(from_logits=True) over the last axis runs as one fused op
(_xent_logits_rows in cpp/ops/nn.cpp): its values against a float64 numpy reference, the IEEE
special cases of the composite -sum(t * (z - logsumexp(z))), broadcast leading axes,
non-contiguous inputs, empty shapes, thread counts and both gradients."""
import numpy as np
import pytest

import keras_cpp
from keras_cpp import backend as K


def ref(t, z, axis=-1):
    t, z = t.astype(np.float64), z.astype(np.float64)
    m = z.max(axis=axis, keepdims=True)
    with np.errstate(all='ignore'):
        lse = np.log(np.exp(z - m).sum(axis=axis, keepdims=True)) + m
        return -(t * (z - lse)).sum(axis=axis)


def xent(t, z, **kw):
    pt, pz = K.placeholder(shape=t.shape, dtype=t.dtype.name), K.placeholder(shape=z.shape, dtype=z.dtype.name)
    return K.function([pt, pz], [K.categorical_crossentropy(pt, pz, from_logits=True, **kw)])([t, z])[0]


def onehot(shape, rng, dtype):
    t = np.zeros(shape, dtype)
    flat = t.reshape(-1, shape[-1])
    flat[np.arange(flat.shape[0]), rng.integers(0, shape[-1], flat.shape[0])] = 1
    return t


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape', [(256, 1000), (7, 1003), (5, 1), (3, 17), (2, 3, 33), (4,), (37, 16)])
def test_matches_float64_reference(shape, dtype):
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    z = (rng.standard_normal(shape) * 3).astype(dtype)
    for t in (onehot(shape, rng, dtype), rng.random(shape).astype(dtype)):  # one-hot and soft labels
        got = xent(t, z)
        assert got.shape == shape[:-1] and got.dtype == np.dtype(dtype)
        tol = 2e-6 if dtype == 'float32' else 1e-13
        np.testing.assert_allclose(got, ref(t, z), rtol=tol, atol=tol)


def test_confident_rows_keep_their_small_losses():
    # The target logit far above the rest: the loss is ~1e-9, computed from lse - z in double.
    z = np.full((4, 1000), -20.0, np.float32)
    z[:, 3] = 2.0
    t = np.zeros_like(z)
    t[:, 3] = 1
    np.testing.assert_allclose(xent(t, z), ref(t, z), rtol=1e-5)


def test_special_values_follow_the_composite():
    z = np.array([[1, 2, 3], [np.nan, 0, 1], [np.inf, 0, 1], [-np.inf, 0, 1], [-np.inf] * 3, [1e30, 1, 0]], np.float32)
    t = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], np.float32)
    got = xent(t, z)
    want = ref(t, z)
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6)
    assert np.isnan(got[1]) and np.isnan(got[2]) and np.isnan(got[4])
    # a zero target on a -inf logit is 0 * inf = NaN, as in the composite (and numpy)
    assert np.isnan(xent(np.array([[1, 0, 0]], np.float32), np.array([[0, -np.inf, 1]], np.float32)))[0]


def test_broadcast_leading_axes_noncontiguous_and_empty():
    rng = np.random.default_rng(5)
    z = (rng.standard_normal((6, 40)) * 2).astype(np.float32)
    t = rng.random((1, 40)).astype(np.float32)
    pt, pz = K.placeholder(shape=(1, 40)), K.placeholder(shape=(6, 40))
    got = K.function([pt, pz], [K.categorical_crossentropy(pt, pz, from_logits=True)])([t, z])[0]
    np.testing.assert_allclose(got, ref(np.broadcast_to(t, z.shape), z), rtol=2e-6)
    zt = np.ascontiguousarray(z.T)  # logits transposed inside the graph: a strided view
    pz2 = K.placeholder(shape=(40, 6))
    got = K.function([pt, pz2], [K.categorical_crossentropy(pt, K.transpose(pz2), from_logits=True)])([t, zt])[0]
    np.testing.assert_allclose(got, ref(np.broadcast_to(t, z.shape), z), rtol=2e-6)
    e = np.zeros((0, 5), np.float32)
    assert xent(e, e).shape == (0,)
    assert xent(np.zeros((3, 0), np.float32), np.zeros((3, 0), np.float32)).tolist() == [0.0] * 3


def test_axis_given_as_the_last_axis_and_another_axis():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((3, 5, 7)).astype(np.float32)
    t = rng.random((3, 5, 7)).astype(np.float32)
    np.testing.assert_allclose(xent(t, z, axis=2), ref(t, z), rtol=2e-6)
    np.testing.assert_allclose(xent(t, z, axis=1), ref(t, z, axis=1), rtol=2e-6)  # the composite


def test_every_thread_count_gives_the_same_bits():
    rng = np.random.default_rng(7)
    z = (rng.standard_normal((512, 1000)) * 3).astype(np.float32)
    t = onehot(z.shape, rng, np.float32)
    before = keras_cpp.get_num_threads()
    try:
        outs = []
        for n in (1, 2, 3):
            keras_cpp.set_num_threads(n)
            outs.append(xent(t, z))
    finally:
        keras_cpp.set_num_threads(before)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_gradients_of_target_and_logits():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((4, 9))
    t = rng.random((4, 9))
    w = rng.standard_normal(4)
    pt, pz = K.placeholder(shape=(4, 9), dtype='float64'), K.placeholder(shape=(4, 9), dtype='float64')
    loss = K.sum(K.categorical_crossentropy(pt, pz, from_logits=True) * K.constant(w, dtype='float64'))
    gt, gz = K.function([pt, pz], K.gradients(loss, [pt, pz]))([t, z])
    m = z.max(-1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(-1, keepdims=True)) + m
    sm = np.exp(z - lse)
    np.testing.assert_allclose(gt, w[:, None] * (lse - z), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gz, w[:, None] * (sm * t.sum(-1, keepdims=True) - t), rtol=1e-12, atol=1e-12)


def test_the_last_axis_runs_as_one_step():
    pt, pz = K.placeholder(shape=(None, 1000)), K.placeholder(shape=(None, 1000))
    assert K.function([pt, pz], [K.categorical_crossentropy(pt, pz, from_logits=True)]).num_steps == 1
    p3 = K.placeholder(shape=(None, 5, 7))
    assert K.function([p3, p3], [K.categorical_crossentropy(p3, p3, from_logits=True, axis=1)]).num_steps > 1
