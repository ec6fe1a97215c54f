"""Derives the f32 approximations in shaders/basic.wgsl and assembly/kernels/vmath.ts.

WGSL has no erf, and its tanh is specified only as sinh/cosh (inaccurate near 0, NaN for
large |x| on some drivers), so both backends evaluate these, identically:

  erf   |x| < 1:      x + x·R(x²)                  R degree 6        (≈ erf(x)/x − 1)
        1 ≤ |x| < 4:  1 − exp(−x²)·P(|x|)/Q(|x|)   P, Q degree 3     (≈ erfc(x)·exp(x²))
        |x| ≥ 4:      ±1                           (erfc(4) ≈ 1.5e-8 rounds away in f32)
  tanh  |x| < 0.625:  x + x·x²·S(x²)               S degree 4        (≈ (tanh(x)/x − 1)/x²)
        otherwise:    ±(1 − e)/(1 + e), e = exp(−2|x|)  (no overflow for any x)

and the wasm kernels' 4-lane exp (wasm has no vector exp):
  exp   x = n·ln2 + r, |r| ≤ ln2/2:  2^n·(1 + r + r²·E(r))   E degree 4

Coefficients are near-minimax relative-error fits (Lawson-weighted linearised least squares
against mpmath), rounded to f32; an f32 simulation of the kernels' evaluation order then
reports the worst error. Run: python3 tools/approx_coefficients.py   (needs numpy, mpmath)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
f32 = np.float32


def fit(fn, lo, hi, m, n, N=2000, iters=80):
    """Rational p(x)/q(x) of degrees m/n with q(0) = 1, minimising the max relative error on [lo, hi]."""
    k = np.arange(N)
    x = lo + (1 - np.cos(np.pi * (k + 0.5) / N)) / 2 * (hi - lo)
    f = np.array([float(fn(mp.mpf(v))) for v in x])
    w, q_prev = np.ones(N), np.ones(N)
    for _ in range(iters):
        A = np.zeros((N, m + 1 + n))
        for j in range(m + 1):
            A[:, j] = x**j
        for j in range(1, n + 1):
            A[:, m + j] = -f * x**j
        s = np.sqrt(w) / (q_prev * np.abs(f))
        c, *_ = np.linalg.lstsq(A * s[:, None], f * s, rcond=None)
        p, q = c[: m + 1], np.concatenate([[1.0], c[m + 1 :]])
        q_prev = np.polyval(q[::-1], x)
        err = (np.polyval(p[::-1], x) / q_prev - f) / f
        w = w * np.abs(err)
        w /= w.sum()
    return p, q


def to_f32(cs):
    return [f32(c) for c in cs]


def horner(c, v):
    r = np.full_like(v, c[-1])
    for a in c[-2::-1]:
        r = (r * v + a).astype(f32)
    return r


def report(name, coeffs, fn, impl, xs, relative):
    for label, cs in coeffs:
        print(f'{name} {label}: ' + ', '.join(f'{float(c):.9g}' for c in cs))
    ref = np.array([float(fn(mp.mpf(float(v)))) for v in xs])
    err = np.abs(impl(xs).astype(np.float64) - ref)
    if relative:
        err = err / np.maximum(np.abs(ref), 1e-38)
    kind = 'relative' if relative else 'absolute'
    print(f'{name}: f32 simulation, max {kind} error {err.max():.3g} at x = {xs[err.argmax()]:.6g}')


def main():
    xs = np.concatenate([np.linspace(0, 12, 60001), np.geomspace(1e-30, 1e-2, 500)]).astype(f32)

    small, _ = fit(lambda t: 2 / mp.sqrt(mp.pi) if t == 0 else mp.erf(mp.sqrt(t)) / mp.sqrt(t), 0, 1, 6, 0)
    r = to_f32([small[0] - 1, *small[1:]])  # subtract 1 before rounding: keeps R(0)'s low bits
    p, q = map(to_f32, fit(lambda x: mp.erfc(x) * mp.exp(x * x), 1, 4, 3, 3))

    def erf32(x):
        a = np.minimum(x, f32(4))
        t = (a * a).astype(f32)
        lo = (a + (a * horner(r, t)).astype(f32)).astype(f32)
        hi = (f32(1) - (np.exp(-t).astype(f32) * (horner(p, a) / horner(q, a)).astype(f32)).astype(f32)).astype(f32)
        return np.where(a < 1, lo, hi)

    report('erf', [('R', r), ('P', p), ('Q', q)], mp.erf, erf32, xs, relative=False)

    s = to_f32(fit(lambda t: mp.mpf(-1) / 3 if t == 0 else (mp.tanh(mp.sqrt(t)) / mp.sqrt(t) - 1) / t, 0, 0.625**2, 4, 0)[0])

    def tanh32(x):
        t = (x * x).astype(f32)
        lo = (x + (x * (t * horner(s, t)).astype(f32)).astype(f32)).astype(f32)
        e = np.exp(f32(-2) * x).astype(f32)
        return np.where(x < f32(0.625), lo, ((f32(1) - e) / (f32(1) + e)).astype(f32))

    report('tanh', [('S', s)], mp.tanh, tanh32, xs, relative=True)

    half_ln2 = float(mp.log(2)) / 2
    e = to_f32(fit(lambda r: mp.mpf(0.5) if r == 0 else (mp.exp(r) - 1 - r) / (r * r), -1.01 * half_ln2, 1.01 * half_ln2, 4, 0)[0])
    ln2_hi = f32(0.693359375)
    ln2_lo = f32(float(mp.log(2)) - 0.693359375)

    def exp32(x):
        c = np.clip(x, f32(-104), f32(89))
        n = np.round((c * f32(1.4426950408889634)).astype(f32))
        r = ((c - n * ln2_hi).astype(f32) - (n * ln2_lo).astype(f32)).astype(f32)
        poly = (f32(1) + (r + ((r * r).astype(f32) * horner(e, r)).astype(f32)).astype(f32)).astype(f32)
        k = n.astype(np.int64)
        with np.errstate(over='ignore'):
            return ((poly * (2.0 ** (k >> 1)).astype(f32)).astype(f32) * (2.0 ** (k - (k >> 1))).astype(f32)).astype(f32)

    normal = np.linspace(-87, 88, 200001).astype(f32)  # results normal and finite
    report('exp', [('E', e), ('ln2_lo', [ln2_lo])], mp.exp, exp32, normal, relative=True)


if __name__ == '__main__':
    main()
