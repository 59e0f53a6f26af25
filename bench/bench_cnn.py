"""The small-CNN training step of bench_conv.py: Keras's mnist_cnn without dropout
(conv3x3 32 relu, conv3x3 64 relu, maxpool 2, dense 128 relu, dense 10 softmax, categorical
crossentropy, SGD lr 0.01), batch 64 of 28x28x1, every implementation starting from the same
weights. Checked: the loss of the first step against a float64 numpy forward."""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl

LR = 0.01
B = 64


def _init(rng):
    def glorot(shape, fan_in, fan_out):
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, shape).astype(np.float32)
    return [glorot((3, 3, 1, 32), 9, 288), np.zeros(32, np.float32), glorot((3, 3, 32, 64), 288, 576), np.zeros(64, np.float32),
            glorot((9216, 128), 9216, 128), np.zeros(128, np.float32), glorot((128, 10), 128, 10), np.zeros(10, np.float32)]


def _np_conv_valid(x, w):
    kh, kw, _, co = w.shape
    n, h, wd, ci = x.shape
    oh, ow = h - kh + 1, wd - kw + 1
    cols = np.empty((n, oh, ow, kh, kw, ci), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = x[:, i:i + oh, j:j + ow, :]
    return (cols.reshape(-1, kh * kw * ci) @ w.reshape(-1, co)).reshape(n, oh, ow, co)


def _np_loss(params, x, y):
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    h = np.maximum(_np_conv_valid(x, w1) + b1, 0)
    h = np.maximum(_np_conv_valid(h, w2) + b2, 0)
    h = h.reshape(B, 12, 2, 12, 2, 64).max(axis=(2, 4)).reshape(B, -1)
    h = np.maximum(h @ w3 + b3, 0)
    z = h @ w4 + b4
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -(y * logp).sum(axis=1).mean()


def _keras_cpp(init, x, y):
    vs = [K.variable(v) for v in init]
    w1, b1, w2, b2, w3, b3, w4, b4 = vs
    px, py = K.placeholder(shape=(None, 28, 28, 1)), K.placeholder(shape=(None, 10))
    h = K.relu(K.bias_add(K.conv2d(px, w1), b1))
    h = K.relu(K.bias_add(K.conv2d(h, w2), b2))
    h = K.batch_flatten(K.pool2d(h, (2, 2), (2, 2)))
    h = K.relu(K.bias_add(K.dot(h, w3), b3))
    prob = K.softmax(K.bias_add(K.dot(h, w4), b4))
    loss = K.mean(K.categorical_crossentropy(py, prob))
    grads = K.gradients(loss, vs)
    f = K.function([px, py], [loss], updates=[K.update_sub(v, LR * g) for v, g in zip(vs, grads)])
    return lambda: f([x, y])[0]


def _torch(T, init, x, y):
    nn, F = T.nn, T.nn.functional
    w1, b1, w2, b2, w3, b3, w4, b4 = init
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10))
    with T.no_grad():  # same weights; torch flattens (c, h, w), Keras (h, w, c)
        model[0].weight.copy_(T.from_numpy(w1.transpose(3, 2, 0, 1).copy())); model[0].bias.copy_(T.from_numpy(b1))
        model[2].weight.copy_(T.from_numpy(w2.transpose(3, 2, 0, 1).copy())); model[2].bias.copy_(T.from_numpy(b2))
        w3t = w3.reshape(12, 12, 64, 128).transpose(2, 0, 1, 3).reshape(9216, 128).T.copy()
        model[6].weight.copy_(T.from_numpy(w3t)); model[6].bias.copy_(T.from_numpy(b3))
        model[8].weight.copy_(T.from_numpy(w4.T.copy())); model[8].bias.copy_(T.from_numpy(b4))
    opt = T.optim.SGD(model.parameters(), lr=LR)
    tx, ty = T.from_numpy(x.transpose(0, 3, 1, 2).copy()), T.from_numpy(y.argmax(1))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(tx), ty)
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def _tf(tf, init, x, y):
    vs = [tf.Variable(v) for v in init]
    cx, cy = tf.constant(x), tf.constant(y)

    @tf.function
    def step(x_, y_):
        with tf.GradientTape() as tape:
            w1, b1, w2, b2, w3, b3, w4, b4 = vs
            h = tf.nn.relu(tf.nn.conv2d(x_, w1, 1, 'VALID') + b1)
            h = tf.nn.relu(tf.nn.conv2d(h, w2, 1, 'VALID') + b2)
            h = tf.reshape(tf.nn.max_pool2d(h, 2, 2, 'VALID'), (B, -1))
            h = tf.nn.relu(h @ w3 + b3)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y_, h @ w4 + b4))
        for v, g in zip(vs, tape.gradient(loss, vs)):
            v.assign_sub(LR * g)
        return loss
    return lambda: step(cx, cy).numpy()


def _jax(jax, jnp, init, x, y):
    lax = jax.lax

    def loss_fn(ps, x_, y_):
        w1, b1, w2, b2, w3, b3, w4, b4 = ps
        dn = ('NHWC', 'HWIO', 'NHWC')
        h = jax.nn.relu(lax.conv_general_dilated(x_, w1, (1, 1), 'VALID', dimension_numbers=dn) + b1)
        h = jax.nn.relu(lax.conv_general_dilated(h, w2, (1, 1), 'VALID', dimension_numbers=dn) + b2)
        h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID').reshape(B, -1)
        h = jax.nn.relu(h @ w3 + b3)
        return -jnp.mean(jnp.sum(y_ * jax.nn.log_softmax(h @ w4 + b4), axis=1))

    @jax.jit
    def step(ps, x_, y_):
        loss, gs = jax.value_and_grad(loss_fn)(ps, x_, y_)
        return loss, [p_ - LR * g_ for p_, g_ in zip(ps, gs)]
    state = {'p': [jax.device_put(v) for v in init]}
    jx, jy = jax.device_put(x), jax.device_put(y)

    def run():
        loss, state['p'] = step(state['p'], jx, jy)
        return loss.block_until_ready()
    return run


def case_cnn_step(p, rng):
    init = _init(rng)
    x = rng.standard_normal((B, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, B)]
    ref = np.float32(_np_loss([v.astype(np.float64) for v in init], x.astype(np.float64), y.astype(np.float64)))
    impls = [Impl('keras_cpp', _keras_cpp(init, x, y))]
    if p.torch:
        impls.append(Impl('torch', _torch(p.torch, init, x, y)))
    if p.tf:
        impls.append(Impl('tensorflow', _tf(p.tf, init, x, y)))
    if p.jax:
        impls.append(Impl('jax', _jax(p.jax, p.jnp, init, x, y)))
    # numpy: no hand-written CNN backward here; the peers above are the comparison.
    return Case('cnn_step', 'CNN conv32-conv64-pool-fc128-fc10 SGD step (b=64, 28x28x1)', impls, ref, rtol=1e-3, atol=1e-4,
                note='loss of the first step checked against a float64 numpy forward')


case_cnn_step.key = 'cnn_step'
