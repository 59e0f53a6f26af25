"""Core benchmarks (issue 2): sgemm, a fused elementwise expression, a reduction, softmax, an MLP
training step and the fixed cost of one K.function call.

Each `case_*` builder returns a Case: a numpy reference, the keras_cpp implementation (always a
compiled K.function called with numpy arrays, as Keras calls it) and one implementation per
available peer.  Peers get their inputs already converted to their own tensor type (converting
would be extra work keras_cpp does not do) and use their compiled path where they have one
(tf.function, jax.jit); PyTorch runs eager.  See bench/README.md.
"""
import numpy as np

from keras_cpp import backend as K

AREA = 'core'


class Impl(object):
    """One implementation of a case.

    fn: the timed callable (no arguments).  check: callable returning the output(s) to compare
    with the case's reference (defaults to fn; must leave the implementation ready to be timed).
    """

    def __init__(self, name, fn, check=None):
        self.name = name
        self.fn = fn
        self.check = check or fn


class Case(object):
    def __init__(self, key, title, impls, ref, flops=None, rtol=1e-4, atol=1e-5, note='', nbytes=None):
        self.key = key
        self.title = title
        self.impls = impls
        self.ref = ref  # numpy array or list of arrays
        self.flops = flops
        self.nbytes = nbytes  # bytes one call must read and write at least (GB/s is printed)
        self.rtol = rtol
        self.atol = atol
        self.note = note


def _jax_block(f):
    def run(*a):
        out = f(*a)
        return out.block_until_ready() if hasattr(out, 'block_until_ready') else out
    return run


# ---------------------------------------------------------------- 1. sgemm
def _sgemm(n):
    def build(p, rng):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ref = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
        pa, pb = K.placeholder(shape=(None, None)), K.placeholder(shape=(None, None))
        f = K.function([pa, pb], [K.dot(pa, pb)])
        impls = [Impl('keras_cpp', lambda: f([a, b])[0]),
                 Impl('numpy', lambda: a @ b)]
        if p.torch:
            ta, tb = p.torch.from_numpy(a), p.torch.from_numpy(b)
            impls.append(Impl('torch', lambda: p.torch.mm(ta, tb)))
        if p.tf:
            tf = p.tf
            xa, xb = tf.constant(a), tf.constant(b)
            tf_f = tf.function(lambda x, y: tf.matmul(x, y))
            impls.append(Impl('tensorflow', lambda: tf_f(xa, xb)))
        if p.jax:
            ja, jb = p.jax.device_put(a), p.jax.device_put(b)
            jax_f = _jax_block(p.jax.jit(lambda x, y: p.jnp.dot(x, y)))
            impls.append(Impl('jax', lambda: jax_f(ja, jb)))
        # float32 accumulation over n terms of N(0,1) products: compare with a loose relative bound
        return Case('sgemm_%d' % n, 'sgemm %d^3' % n, impls, ref, flops=2.0 * n ** 3,
                    rtol=0, atol=1e-4 * np.sqrt(n) * 10)
    build.key = 'sgemm_%d' % n
    return build


# ---------------------------------------------------------------- 2. relu(a*x+b)
def case_relu_axb(p, rng):
    x = rng.standard_normal((1024, 1024), dtype=np.float32)
    a = rng.standard_normal(1024, dtype=np.float32)
    b = rng.standard_normal(1024, dtype=np.float32)
    ref = np.maximum(a * x + b, 0)
    px, pa, pb = K.placeholder(shape=(None, 1024)), K.placeholder(shape=(1024,)), K.placeholder(shape=(1024,))
    f = K.function([px, pa, pb], [K.relu(pa * px + pb)])
    impls = [Impl('keras_cpp', lambda: f([x, a, b])[0]),
             Impl('numpy', lambda: np.maximum(a * x + b, 0))]
    if p.torch:
        T = p.torch
        tx, ta, tb = T.from_numpy(x), T.from_numpy(a), T.from_numpy(b)
        impls.append(Impl('torch', lambda: T.relu(ta * tx + tb)))
    if p.tf:
        tf = p.tf
        cx, ca, cb = tf.constant(x), tf.constant(a), tf.constant(b)
        tf_f = tf.function(lambda x_, a_, b_: tf.nn.relu(a_ * x_ + b_))
        impls.append(Impl('tensorflow', lambda: tf_f(cx, ca, cb)))
    if p.jax:
        jx, ja, jb = (p.jax.device_put(v) for v in (x, a, b))
        jax_f = _jax_block(p.jax.jit(lambda x_, a_, b_: p.jax.nn.relu(a_ * x_ + b_)))
        impls.append(Impl('jax', lambda: jax_f(jx, ja, jb)))
    return Case('relu_axb', 'relu(a*x+b) 1024x1024', impls, ref, rtol=1e-6, atol=1e-6, nbytes=2 * x.nbytes)


case_relu_axb.key = 'relu_axb'


# ---------------------------------------------------------------- 3. sum over the last axis
def case_sum_last(p, rng):
    x = rng.standard_normal((4096, 1024), dtype=np.float32)
    ref = x.astype(np.float64).sum(axis=-1).astype(np.float32)
    px = K.placeholder(shape=(None, 1024))
    f = K.function([px], [K.sum(px, axis=-1)])
    impls = [Impl('keras_cpp', lambda: f([x])[0]),
             Impl('numpy', lambda: x.sum(axis=-1))]
    if p.torch:
        tx = p.torch.from_numpy(x)
        impls.append(Impl('torch', lambda: tx.sum(dim=-1)))
    if p.tf:
        tf = p.tf
        cx = tf.constant(x)
        tf_f = tf.function(lambda v: tf.reduce_sum(v, axis=-1))
        impls.append(Impl('tensorflow', lambda: tf_f(cx)))
    if p.jax:
        jx = p.jax.device_put(x)
        jax_f = _jax_block(p.jax.jit(lambda v: p.jnp.sum(v, axis=-1)))
        impls.append(Impl('jax', lambda: jax_f(jx)))
    return Case('sum_last', 'sum(axis=-1) 4096x1024', impls, ref, rtol=1e-4, atol=1e-4, nbytes=x.nbytes)


case_sum_last.key = 'sum_last'


# ---------------------------------------------------------------- 4. softmax
def case_softmax(p, rng):
    x = rng.standard_normal((256, 1000), dtype=np.float32) * 3
    z = x.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    ref = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)

    def np_softmax():
        e_ = np.exp(x - x.max(axis=-1, keepdims=True))
        e_ /= e_.sum(axis=-1, keepdims=True)
        return e_

    px = K.placeholder(shape=(None, 1000))
    f = K.function([px], [K.softmax(px)])
    impls = [Impl('keras_cpp', lambda: f([x])[0]),
             Impl('numpy', np_softmax)]
    if p.torch:
        tx = p.torch.from_numpy(x)
        impls.append(Impl('torch', lambda: p.torch.softmax(tx, dim=-1)))
    if p.tf:
        tf = p.tf
        cx = tf.constant(x)
        tf_f = tf.function(lambda v: tf.nn.softmax(v, axis=-1))
        impls.append(Impl('tensorflow', lambda: tf_f(cx)))
    if p.jax:
        jx = p.jax.device_put(x)
        jax_f = _jax_block(p.jax.jit(lambda v: p.jax.nn.softmax(v, axis=-1)))
        impls.append(Impl('jax', lambda: jax_f(jx)))
    return Case('softmax', 'softmax 256x1000', impls, ref, rtol=1e-4, atol=1e-6)


case_softmax.key = 'softmax'


# ---------------------------------------------------------------- 5. MLP training step
MLP_SIZES = (784, 512, 512, 10)
MLP_BATCH = 128
MLP_LR = 0.01
EPS = 1e-7


def _mlp_init(rng):
    params = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        lim = np.sqrt(6.0 / (fan_in + fan_out))  # glorot_uniform, as Keras Dense
        params.append(rng.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32))
        params.append((rng.standard_normal(fan_out) * 0.01).astype(np.float32))
    return params


def _np_mlp_step(params, x, y, lr=MLP_LR):
    """Hand-written forward + backprop + SGD, updating params in place; returns the loss."""
    W1, b1, W2, b2, W3, b3 = params
    n = x.shape[0]
    h1p = x @ W1
    h1p += b1
    h1 = np.maximum(h1p, 0)
    h2p = h1 @ W2
    h2p += b2
    h2 = np.maximum(h2p, 0)
    z = h2 @ W3
    z += b3
    z -= z.max(axis=1, keepdims=True)
    s = np.exp(z)
    s /= s.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(y * np.log(np.clip(s, EPS, 1 - EPS)), axis=1))
    dz = (s - y) / n
    gW3 = h2.T @ dz
    gb3 = dz.sum(axis=0)
    dh = dz @ W3.T
    dh *= h2p > 0
    gW2 = h1.T @ dh
    gb2 = dh.sum(axis=0)
    dh = dh @ W2.T
    dh *= h1p > 0
    gW1 = x.T @ dh
    gb1 = dh.sum(axis=0)
    for w, g in zip(params, (gW1, gb1, gW2, gb2, gW3, gb3)):
        w -= lr * g
    return np.float32(loss)


def case_mlp_step(p, rng):
    x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, MLP_SIZES[-1], MLP_BATCH)
    y = np.eye(MLP_SIZES[-1], dtype=np.float32)[labels]
    init = _mlp_init(rng)

    # reference: one step from init, in float64
    ref_params = [w.astype(np.float64) for w in init]
    ref_loss = _np_mlp_step(ref_params, x.astype(np.float64), y.astype(np.float64))
    ref = [np.float32(ref_loss)] + [w.astype(np.float32) for w in ref_params]

    impls = []

    # keras_cpp: placeholders + variables, K.gradients, K.update(p, p - lr*g), one K.function
    kv = [K.variable(w) for w in init]
    px = K.placeholder(shape=(None, MLP_SIZES[0]))
    py = K.placeholder(shape=(None, MLP_SIZES[-1]))
    h = px
    for i in range(0, 4, 2):
        h = K.relu(K.bias_add(K.dot(h, kv[i]), kv[i + 1]))
    out = K.softmax(K.bias_add(K.dot(h, kv[4]), kv[5]))
    loss = K.mean(K.categorical_crossentropy(py, out))
    grads = K.gradients(loss, kv)
    updates = [K.update(v, v - MLP_LR * g) for v, g in zip(kv, grads)]
    f = K.function([px, py], [loss], updates=updates)

    def kc_check():
        K.batch_set_value(list(zip(kv, init)))
        l = f([x, y])[0]
        return [l] + K.batch_get_value(kv)

    impls.append(Impl('keras_cpp', lambda: f([x, y])[0], kc_check))

    # numpy: hand-written backprop
    npp = [w.copy() for w in init]

    def np_check():
        for w, w0 in zip(npp, init):
            w[...] = w0
        l = _np_mlp_step(npp, x, y)
        return [l] + [w.copy() for w in npp]

    impls.append(Impl('numpy', lambda: _np_mlp_step(npp, x, y), np_check))

    if p.torch:
        T = p.torch
        nn = T.nn
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        lin = [model[0], model[2], model[4]]
        opt = T.optim.SGD(model.parameters(), lr=MLP_LR)
        tx, tl = T.from_numpy(x), T.from_numpy(labels)

        def t_step():
            opt.zero_grad()
            l = T.nn.functional.cross_entropy(model(tx), tl)
            l.backward()
            opt.step()
            return l

        def t_check():
            with T.no_grad():
                for i, m in enumerate(lin):
                    m.weight.copy_(T.from_numpy(init[2 * i].T.copy()))
                    m.bias.copy_(T.from_numpy(init[2 * i + 1]))
            l = t_step().item()
            out_ = [np.float32(l)]
            for m in lin:
                out_ += [m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()]
            return out_

        impls.append(Impl('torch', t_step, t_check))

    if p.tf:
        tf = p.tf
        tv = [tf.Variable(w) for w in init]
        cx, cy = tf.constant(x), tf.constant(y)

        @tf.function
        def tf_step(x_, y_):
            with tf.GradientTape() as tape:
                h_ = x_
                for i in range(0, 4, 2):
                    h_ = tf.nn.relu(tf.matmul(h_, tv[i]) + tv[i + 1])
                logits = tf.matmul(h_, tv[4]) + tv[5]
                l = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=logits))
            gs = tape.gradient(l, tv)
            for v, g in zip(tv, gs):
                v.assign_sub(MLP_LR * g)
            return l

        def tf_check():
            for v, w in zip(tv, init):
                v.assign(w)
            l = tf_step(cx, cy).numpy()
            return [l] + [v.numpy() for v in tv]

        impls.append(Impl('tensorflow', lambda: tf_step(cx, cy).numpy(), tf_check))

    if p.jax:
        jax, jnp = p.jax, p.jnp

        def loss_fn(params, x_, y_):
            h_ = x_
            for i in range(0, 4, 2):
                h_ = jax.nn.relu(h_ @ params[i] + params[i + 1])
            logits = h_ @ params[4] + params[5]
            return -jnp.mean(jnp.sum(y_ * jax.nn.log_softmax(logits), axis=-1))

        @jax.jit
        def j_step(params, x_, y_):
            l, gs = jax.value_and_grad(loss_fn)(params, x_, y_)
            return [w - MLP_LR * g for w, g in zip(params, gs)], l

        jx, jy = jax.device_put(x), jax.device_put(y)
        state = {'p': [jax.device_put(w) for w in init]}

        def j_run():
            state['p'], l = j_step(state['p'], jx, jy)
            return l.block_until_ready()

        def j_check():
            state['p'] = [jax.device_put(w) for w in init]
            l = j_run()
            return [np.asarray(l)] + [np.asarray(w) for w in state['p']]

        impls.append(Impl('jax', j_run, j_check))

    return Case('mlp_step', 'MLP 784-512-512-10 SGD step (b=128)', impls, ref, rtol=1e-3, atol=1e-5,
                note='checked: loss and all 6 parameters after one step from the same init')


case_mlp_step.key = 'mlp_step'


# ---------------------------------------------------------------- 6. fixed cost of a call
def case_call_overhead(p, rng):
    x = np.zeros((1,), dtype=np.float32)
    ref = x + 1
    px = K.placeholder(shape=(1,))
    f = K.function([px], [px + 1])
    impls = [Impl('keras_cpp', lambda: f([x])[0]),
             Impl('numpy', lambda: x + 1)]
    if p.torch:
        tx = p.torch.from_numpy(x.copy())
        impls.append(Impl('torch', lambda: tx + 1))
    if p.tf:
        tf = p.tf
        cx = tf.constant(x)
        tf_f = tf.function(lambda v: v + 1)
        impls.append(Impl('tensorflow', lambda: tf_f(cx)))
    if p.jax:
        jx = p.jax.device_put(x)
        jax_f = _jax_block(p.jax.jit(lambda v: v + 1))
        impls.append(Impl('jax', lambda: jax_f(jx)))
    return Case('call_overhead', 'call overhead x+1 on (1,)', impls, ref, rtol=0, atol=0)


case_call_overhead.key = 'call_overhead'


CASES = [_sgemm(256), _sgemm(1024), _sgemm(2048), case_relu_axb, case_sum_last, case_softmax,
         case_mlp_step, case_call_overhead]
