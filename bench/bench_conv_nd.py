"""More convolutions, channels_last, 'same' padding, stride 1: conv1d (N=16, L=256, 64->64, k=3),
separable_conv2d (16x56x56x64, 3x3 depthwise then 1x1 to 64) and conv3d (4x16x28x28x32->32,
3x3x3), forward and backward (one call: the forward and the gradients of sum(y * G) with respect
to x and every kernel), against PyTorch, TensorFlow and JAX; numpy gives the float64 reference.
Collected by bench_conv.py (`python bench/run.py --only conv1d,separable,conv3d`).
"""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl, _jax_block

# key: (spatial dims, N, spatial size, Cin, Cout, kernel size, separable)
SPECS = {
    'conv1d': (1, 16, (256,), 64, 64, 3, False),
    'separable': (2, 16, (56, 56), 64, 64, 3, True),
    'conv3d': (3, 4, (16, 28, 28), 32, 32, 3, False),
}


# ---------------------------------------------------------------- numpy references (float64)
def _shifts(x, ks):
    """(offset, view of the zero-padded x at that kernel offset) for every kernel position."""
    nsp = x.ndim - 2
    xp = np.pad(x, [(0, 0)] + [(k // 2, k // 2) for k in ks] + [(0, 0)])
    for off in np.ndindex(*ks):
        yield off, xp[(slice(None),) + tuple(slice(o, o + s) for o, s in zip(off, x.shape[1:1 + nsp])) + (slice(None),)]


def np_conv(x, w):  # w (k..., C, O)
    nsp = x.ndim - 2
    y = np.zeros(x.shape[:-1] + (w.shape[-1],))
    for off, xs in _shifts(x, w.shape[:nsp]):
        y += xs @ w[off]
    return y


def np_conv_grads(x, w, g):
    nsp = x.ndim - 2
    wf = np.swapaxes(w[(slice(None, None, -1),) * nsp], -1, -2)
    dw = np.zeros(w.shape)
    for off, xs in _shifts(x, w.shape[:nsp]):
        dw[off] = xs.reshape(-1, x.shape[-1]).T @ g.reshape(-1, g.shape[-1])
    return np_conv(g, wf), dw


def np_depthwise(x, w):  # w (k, k, C, 1)
    y = np.zeros(x.shape)
    for off, xs in _shifts(x, w.shape[:2]):
        y += xs * w[off][:, 0]
    return y


def np_separable(x, dw, pw):
    return np_depthwise(x, dw) @ pw[0, 0]


def np_separable_grads(x, dw, pw, g):
    d = np_depthwise(x, dw)
    gd = g @ pw[0, 0].T
    gpw = (d.reshape(-1, d.shape[-1]).T @ g.reshape(-1, g.shape[-1]))[None, None]
    gx = np_depthwise(gd, dw[::-1, ::-1])
    gdw = np.zeros(dw.shape)
    for off, xs in _shifts(x, dw.shape[:2]):
        gdw[off][:, 0] = np.einsum('nhwc,nhwc->c', xs, gd, optimize=True)
    return [gx, gdw, gpw]


# ---------------------------------------------------------------- peers
def _torch_impls(p, nsp, sep, x, ws, G, backward):
    T, F = p.torch, p.torch.nn.functional
    fmt = {1: T.contiguous_format, 2: T.channels_last, 3: T.channels_last_3d}[nsp]
    to_t = (0, nsp + 1) + tuple(range(1, nsp + 1))       # NS...C -> NCS...
    from_t = (0,) + tuple(range(2, nsp + 2)) + (1,)      # NCS... -> NS...C
    kt = (nsp + 1, nsp) + tuple(range(nsp))              # k...,I,O -> O,I,k...
    kb = tuple(range(2, nsp + 2)) + (1, 0)               # O,I,k... -> k...,I,O
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nsp]
    tx = T.from_numpy(x).permute(*to_t).contiguous(memory_format=fmt)
    tg = T.from_numpy(G).permute(*to_t).contiguous(memory_format=fmt)
    if sep:  # depthwise (C, 1, 3, 3) from (3, 3, C, 1), pointwise (O, C, 1, 1) from (1, 1, C, O)
        tw = [T.from_numpy(ws[0]).permute(2, 3, 0, 1).contiguous(), T.from_numpy(ws[1]).permute(*kt).contiguous()]
        back = [(2, 3, 0, 1), kb]
        C = x.shape[-1]

        def fwd(a, w_):
            return conv(conv(a, w_[0], padding=1, groups=C), w_[1])
    else:
        tw = [T.from_numpy(ws[0]).permute(*kt).contiguous()]
        back = [kb]

        def fwd(a, w_):
            return conv(a, w_[0], padding=ws[0].shape[0] // 2)
    if not backward:
        def t_fwd():
            with T.no_grad():
                return fwd(tx, tw)
        return [Impl('torch', t_fwd, lambda: t_fwd().permute(*from_t).numpy())]
    txg, twg = tx.clone().requires_grad_(True), [w_.clone().requires_grad_(True) for w_ in tw]

    def t_bwd():
        return T.autograd.grad((fwd(txg, twg) * tg).sum(), [txg] + twg)

    def t_check():
        r = t_bwd()
        return [r[0].permute(*from_t).numpy()] + [gw.permute(*b).numpy() for gw, b in zip(r[1:], back)]
    return [Impl('torch', t_bwd, t_check)]


def _tf_impls(p, nsp, sep, x, ws, G, backward):
    tf = p.tf
    cx, cg, cws = tf.constant(x), tf.constant(G), [tf.constant(w_) for w_ in ws]

    def fwd(a, w_):
        if sep:
            return tf.nn.separable_conv2d(a, w_[0], w_[1], [1, 1, 1, 1], 'SAME')
        return {1: lambda: tf.nn.conv1d(a, w_[0], 1, 'SAME'), 3: lambda: tf.nn.conv3d(a, w_[0], [1] * 5, 'SAME')}[nsp]()
    if not backward:
        f = tf.function(fwd)
        return [Impl('tensorflow', lambda: f(cx, cws))]

    @tf.function
    def bwd(a, w_, g_):
        with tf.GradientTape() as tape:
            tape.watch([a] + w_)
            loss = tf.reduce_sum(fwd(a, w_) * g_)
        return tape.gradient(loss, [a] + w_)
    return [Impl('tensorflow', lambda: bwd(cx, cws, cg))]


def _jax_impls(p, nsp, sep, x, ws, G, backward):
    jax = p.jax
    sp = 'DHW'[3 - nsp:]
    dn = ('N%sC' % sp, '%sIO' % sp, 'N%sC' % sp)
    C = x.shape[-1]
    jx, jg = jax.device_put(x), jax.device_put(G)
    jws = [jax.device_put(ws[0].reshape(3, 3, 1, C) if sep else ws[0])] + [jax.device_put(w_) for w_ in ws[1:]]

    def fwd(a, *w_):
        y = jax.lax.conv_general_dilated(a, w_[0], (1,) * nsp, 'SAME', dimension_numbers=dn,
                                         feature_group_count=C if sep else 1)
        if sep:
            y = jax.lax.conv_general_dilated(y, w_[1], (1,) * nsp, 'SAME', dimension_numbers=dn)
        return y
    if not backward:
        f = _jax_block(jax.jit(fwd))
        return [Impl('jax', lambda: f(jx, *jws))]
    jf = jax.jit(lambda a, g_, *w_: jax.vjp(fwd, a, *w_)[1](g_))

    def j_bwd():
        r = jf(jx, jg, *jws)
        r[0].block_until_ready()
        return r

    def j_check():
        r = [np.asarray(v) for v in j_bwd()]
        return [r[0], r[1].reshape(ws[0].shape)] + r[2:]
    return [Impl('jax', j_bwd, j_check)]


# ---------------------------------------------------------------- cases
def _case(name, backward):
    nsp, N, S, C, O, k, sep = SPECS[name]
    key = name + ('_bwd' if backward else '_fwd')

    def build(p, rng):
        x = rng.standard_normal((N,) + S + (C,), dtype=np.float32)
        if sep:
            ws = [(rng.standard_normal((k, k, C, 1)) * 0.1).astype(np.float32),
                  (rng.standard_normal((1, 1, C, O)) * 0.1).astype(np.float32)]
        else:
            ws = [(rng.standard_normal((k,) * nsp + (C, O)) * 0.1).astype(np.float32)]
        G = rng.standard_normal((N,) + S + (O,), dtype=np.float32)
        x64, w64, g64 = x.astype(np.float64), [w_.astype(np.float64) for w_ in ws], G.astype(np.float64)
        if backward:
            r = np_separable_grads(x64, *w64, g64) if sep else list(np_conv_grads(x64, w64[0], g64))
            ref = [a.astype(np.float32) for a in r]
        else:
            ref = (np_separable(x64, *w64) if sep else np_conv(x64, w64[0])).astype(np.float32)
        xp, wv = K.placeholder(shape=(None,) + S + (C,)), [K.variable(w_) for w_ in ws]
        if sep:
            y = K.separable_conv2d(xp, wv[0], wv[1], padding='same')
        else:
            y = {1: K.conv1d, 3: K.conv3d}[nsp](xp, wv[0], padding='same')
        if backward:
            f = K.function([xp], K.gradients(K.sum(y * K.constant(G)), [xp] + wv))
            impls = [Impl('keras_cpp', lambda: f([x]))]
        else:
            f = K.function([xp], [y])
            impls = [Impl('keras_cpp', lambda: f([x])[0])]
        for peer, make in (('torch', _torch_impls), ('tf', _tf_impls), ('jax', _jax_impls)):
            if getattr(p, peer):
                impls += make(p, nsp, sep, x, ws, G, backward)
        pos = N * int(np.prod(S))
        flops = 2.0 * pos * (C * k * k + C * O if sep else C * O * k ** nsp) * (3 if backward else 1)
        title = '%s %s %s %s->%d%s %s' % (
            name, 'x'.join([str(k)] * (2 if sep else nsp)), 'x'.join(str(d) for d in (N,) + S), C, O,
            ' (dw+1x1)' if sep else '', 'fwd+dX+dW' if backward else 'forward')
        # dW sums up to N*positions products of N(0,1) values: float32 sums leave errors ~1e-2 there.
        return Case(key, title, impls, ref, flops=flops, rtol=1e-3, atol=5e-2 if backward else 1e-3)
    build.key = key
    return build


CASES = [_case(n, b) for n in ('conv1d', 'separable', 'conv3d') for b in (False, True)]
