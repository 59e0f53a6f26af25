"""Fits the polynomial coefficients of cpp/kernels/vmath_fl.h (needs numpy and mpmath).

Each is a weighted least-squares fit on Chebyshev nodes, reweighted toward minimax, with the
coefficients rounded to float32 one at a time from the lowest power and the remaining ones refitted
after each rounding. The weight turns the polynomial's error into a relative error of the final
result, printed in float32 ulps (2^-24 relative). Run: python bench/vmath_fit.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(f, lo, hi, deg, weight, n=4000):
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n) * (hi - lo) / 2 + (hi + lo) / 2
    y = np.array([float(f(mp.mpf(v))) for v in t])
    w = np.array([float(weight(v)) for v in t])
    fixed = []
    for k in range(deg + 1):
        res = y - sum(c * t ** i for i, c in enumerate(fixed))
        a = np.stack([t ** i for i in range(k, deg + 1)], 1)
        ww = w.copy()
        for _ in range(30):
            sol = np.linalg.lstsq(a * ww[:, None], res * ww, rcond=None)[0]
            e = np.abs((a @ sol - res) * w)
            ww = ww * (e / e.max() + 1e-3) ** 0.5
            ww /= ww.max()
        fixed.append(float(np.float32(sol[0])))
    err = np.abs((sum(c * t ** i for i, c in enumerate(fixed)) - y) * w).max()
    return fixed[::-1], err / 2.0 ** -24  # highest power first, as the header lists them


def show(name, coeffs, ulps):
    print('%s (%.4f ulp): {%s}' % (name, ulps, ', '.join(float.hex(c).replace('0000000p', 'p') + 'f' for c in coeffs)))


def main():
    # exp: q(r) = (e^r - 1 - r) / r^2 on |r| <= ln2/2 (and a little); error in e^r: r^2 err / e^r.
    a = float(mp.log(2) / 2) * 1.0005
    show('kExpQ', *fit(lambda r: (mp.exp(r) - 1 - r) / r ** 2 if r else mp.mpf(0.5), -a, a, 5, lambda r: r * r / np.exp(r)))
    # log: R(z) / z, R = log((1 + s) / (1 - s)) / s - 2, z = s^2, |s| <= (sqrt2 - 1) / (sqrt2 + 1);
    # error in log1p (~2s): s z err / 2s.
    zmax = float((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2 * 1.001
    show('kLogP', *fit(lambda z: ((mp.log((1 + mp.sqrt(z)) / (1 - mp.sqrt(z))) / mp.sqrt(z) - 2) / z) if z else mp.mpf(2) / 3,
                       0, zmax, 3, lambda z: z / 2))
    # tanh: P(z) = (tanh(a) / a - 1) / z on a < 1; error in tanh: a z err / tanh(a).
    show('kTanhP', *fit(lambda z: ((mp.tanh(mp.sqrt(z)) / mp.sqrt(z) - 1) / z) if z else mp.mpf(-1) / 3, 0, 1.001, 7,
                        lambda z: np.sqrt(z) * z / np.tanh(np.sqrt(z)) if z else 0))


if __name__ == '__main__':
    main()
