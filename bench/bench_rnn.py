"""Recurrent layers (issue 12): LSTM, GRU and SimpleRNN over B=32, T=100, 128 -> 256, forward
(all hidden states) and one SGD training step (loss = mean(h^2) over all steps, lr 0.01).

keras_cpp runs `K.rnn` with the cell's step written with backend ops, as Keras's cells do (one
input product, one recurrent product, bias, gate slices); its weights are variables. Peers use
their own recurrent layers where they have one (torch nn.LSTM/GRU/RNN, eager) and a compiled scan
otherwise (tf.scan in a tf.function, jax.lax.scan under jit). Every implementation starts from
the same weights; the GRU is the reset-after variant (torch's). Checked: the forward against a
float64 numpy forward, the training step's first loss against the same. See bench/README.md.
"""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl

AREA = 'rnn'
B, T, I, H = 32, 100, 128, 256
LR = 0.01
GATES = {'lstm': 4, 'gru': 3, 'simplernn': 1}


def _init(cell, rng):
    g = GATES[cell]
    lim = np.sqrt(6.0 / (I + g * H))
    W = rng.uniform(-lim, lim, (I, g * H)).astype(np.float32)
    U = rng.uniform(-0.1, 0.1, (H, g * H)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, g * H).astype(np.float32)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    return [W, U, b], x


def _sig(z, lib):
    return 1.0 / (1.0 + lib.exp(-z))


def _cell(cell, lib, dot, xt, hs, W, U, b, sig, tanh):
    """One step in any array library; hs = [h] or [h, c]; gate order i,f,g,o (LSTM), r,z,n (GRU)."""
    h = hs[0]
    if cell == 'simplernn':
        h = tanh(dot(xt, W) + dot(h, U) + b)
        return h, [h]
    if cell == 'lstm':
        z = dot(xt, W) + dot(h, U) + b
        i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
        c = f * hs[1] + i * g
        h = o * tanh(c)
        return h, [h, c]
    zx = dot(xt, W) + b
    zh = dot(h, U)
    r, u = sig(zx[:, :H] + zh[:, :H]), sig(zx[:, H:2 * H] + zh[:, H:2 * H])
    n = tanh(zx[:, 2 * H:] + r * zh[:, 2 * H:])
    h = (1 - u) * n + u * h
    return h, [h]


def _np_forward(cell, params, x):
    W, U, b = [p.astype(np.float64) for p in params]
    x = x.astype(np.float64)
    hs = [np.zeros((B, H))] * (2 if cell == 'lstm' else 1)
    ys = []
    for t in range(T):
        y, hs = _cell(cell, np, np.dot, x[:, t], hs, W, U, b, lambda z: _sig(z, np), np.tanh)
        ys.append(y)
    return np.stack(ys, 1)


def _keras_cpp(cell, params, x, train):
    vs = [K.variable(p) for p in params]
    W, U, b = vs
    px = K.placeholder(shape=(None, T, I))

    def step(xt, states):
        return _cell(cell, K, K.dot, xt, list(states), W, U, b, K.sigmoid, K.tanh)
    h0 = K.zeros((B, H))
    _, ys, _ = K.rnn(step, px, [h0] * (2 if cell == 'lstm' else 1))
    if not train:
        f = K.function([px], [ys])
        return lambda: f([x])[0]
    loss = K.mean(K.square(ys))
    grads = K.gradients(loss, vs)
    f = K.function([px], [loss], updates=[K.update_sub(v, LR * g) for v, g in zip(vs, grads)])
    return lambda: f([x])[0]


def _torch(T_, cell, params, x, train):
    W, U, b = params
    mod = {'lstm': T_.nn.LSTM, 'gru': T_.nn.GRU, 'simplernn': T_.nn.RNN}[cell](I, H, batch_first=True)
    with T_.no_grad():
        mod.weight_ih_l0.copy_(T_.from_numpy(W.T.copy()))
        mod.weight_hh_l0.copy_(T_.from_numpy(U.T.copy()))
        mod.bias_ih_l0.copy_(T_.from_numpy(b))
        mod.bias_hh_l0.zero_()
    tx = T_.from_numpy(x)
    if not train:
        def fwd():
            with T_.no_grad():
                return mod(tx)[0]
        return fwd
    opt = T_.optim.SGD(mod.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = mod(tx)[0].square().mean()
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def _tf(tf, cell, params, x, train):
    vs = [tf.Variable(p) for p in params]
    xt = tf.constant(np.ascontiguousarray(x.transpose(1, 0, 2)))  # time-major for tf.scan
    nst = 2 if cell == 'lstm' else 1

    def forward(x_):
        W, U, b = vs

        def body(carry, xs):
            _, hs = _cell(cell, tf, tf.matmul, xs, list(carry), W, U, b, tf.sigmoid, tf.tanh)
            return tuple(hs)
        init = tuple(tf.zeros((B, H)) for _ in range(nst))
        return tf.scan(body, x_, initializer=init)[0]  # (T, B, H)

    if not train:
        f = tf.function(forward)
        return lambda: tf.transpose(f(xt), (1, 0, 2))

    @tf.function
    def step(x_):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(forward(x_)))
        for v, g in zip(vs, tape.gradient(loss, vs)):
            v.assign_sub(LR * g)
        return loss
    return lambda: step(xt).numpy()


def _jax(jax, jnp, cell, params, x, train):
    xt = jax.device_put(np.ascontiguousarray(x.transpose(1, 0, 2)))
    nst = 2 if cell == 'lstm' else 1

    def forward(ps, x_):
        W, U, b = ps

        def body(carry, xs):
            y, hs = _cell(cell, jnp, jnp.dot, xs, list(carry), W, U, b, jax.nn.sigmoid, jnp.tanh)
            return tuple(hs), y
        return jax.lax.scan(body, tuple(jnp.zeros((B, H)) for _ in range(nst)), x_)[1]

    if not train:
        f = jax.jit(forward)
        ps = [jax.device_put(p) for p in params]
        return lambda: jnp.transpose(f(ps, xt), (1, 0, 2)).block_until_ready()

    @jax.jit
    def step(ps, x_):
        loss, gs = jax.value_and_grad(lambda q: jnp.mean(jnp.square(forward(q, x_))))(ps)
        return loss, [p_ - LR * g_ for p_, g_ in zip(ps, gs)]
    state = {'p': [jax.device_put(p) for p in params]}

    def run():
        loss, state['p'] = step(state['p'], xt)
        return loss.block_until_ready()
    return run


def _rnn_case(cell, train):
    key = '%s_%s' % (cell, 'step' if train else 'fwd')

    def build(p, rng):
        params, x = _init(cell, rng)
        ys = _np_forward(cell, params, x)
        ref = np.float32(np.mean(ys ** 2)) if train else ys.astype(np.float32)
        impls = [Impl('keras_cpp', _keras_cpp(cell, params, x, train))]
        if p.torch:
            impls.append(Impl('torch', _torch(p.torch, cell, params, x, train)))
        if p.tf:
            impls.append(Impl('tensorflow', _tf(p.tf, cell, params, x, train)))
        if p.jax:
            impls.append(Impl('jax', _jax(p.jax, p.jnp, cell, params, x, train)))
        title = '%s B=%d T=%d %d->%d %s' % ({'lstm': 'LSTM', 'gru': 'GRU', 'simplernn': 'SimpleRNN'}[cell], B, T, I, H,
                                            'SGD training step' if train else 'forward (all steps)')
        return Case(key, title, impls, ref, rtol=1e-3, atol=1e-4,
                    note='first loss checked against a float64 numpy forward' if train else '')
    build.key = key
    return build


CASES = [_rnn_case(c, tr) for c in ('lstm', 'gru', 'simplernn') for tr in (False, True)]
