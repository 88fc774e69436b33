"""erf, erfc, gammaln, digamma and polygamma (second derivatives of the last two) in
NumPy alone, for the emitted module (it imports only NumPy, so it cannot call
scipy.special). Each function is shipped by its source (``inspect.getsource``): it reads
only ``np`` from the module's globals, and the helpers it calls are listed in ``NEEDS``.
Vectorised by masks over the piecewise regions; float32 and float16 are computed in
float64 and rounded back, integers promote to float64 (as ``np.exp``); a 0-d input gives
a NumPy scalar, as a ufunc's. Accuracy against scipy.special: tests/test_special.py
(polygamma: tests/test_elementwise.py).
"""

import numpy as np


def _erf_cody(x: np.ndarray, complement: bool) -> np.ndarray:
    """erf(x), or erfc(x) when ``complement``, of a float64 array: W. J. Cody's rational
    approximations (SPECFUN CALERF, public domain). exp(-y*y), y = |x|, is split as
    exp(-a*a)*exp(-(y-a)*(y+a)), a = y truncated to sixteenths (a*a exact), so that the
    rounding of y*y does not cost erfc's far tail its relative accuracy (scipy's loses
    up to ~300 ulp there)."""
    with np.errstate(all="ignore"):  # overflow to inf, 0 * inf: as scipy, silent
        y = np.abs(x)
        r = np.empty_like(y)
        small = y <= 0.46875
        mid = (y > 0.46875) & (y <= 4.0)
        big = y > 4.0
        # |x| <= 0.46875: erf = x P(x^2) / Q(x^2)
        a = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
             3.20937758913846947e03, 1.85777706184603153e-1)
        b = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
             2.84423683343917062e03)
        v = y[small]
        z = np.where(v > 1.11e-16, v * v, 0.0)
        num = a[4] * z
        den = z
        for i in range(3):
            num = (num + a[i]) * z
            den = (den + b[i]) * z
        r[small] = x[small] * (num + a[3]) / (den + b[3])
        # 0.46875 < |x| <= 4: erfc = exp(-x^2) P(|x|) / Q(|x|)
        c = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
             2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
             2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
        d = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
             1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
             3.43936767414372164e03, 1.23033935480374942e03)
        v = y[mid]
        num = c[8] * v
        den = v
        for i in range(7):
            num = (num + c[i]) * v
            den = (den + d[i]) * v
        q = (num + c[7]) / (den + d[7])
        s = np.trunc(v * 16.0) / 16.0
        r[mid] = np.exp(-s * s) * np.exp(-(v - s) * (v + s)) * q
        # |x| > 4: erfc = exp(-x^2) / |x| (1/sqrt(pi) + R(1/x^2) / x^2)
        p = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
             1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
        qq = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
              6.05183413124413191e-2, 2.33520497626869185e-3)
        v = y[big]
        z = 1.0 / (v * v)
        num = p[5] * z
        den = z
        for i in range(4):
            num = (num + p[i]) * z
            den = (den + qq[i]) * z
        q = (5.6418958354775628695e-1 - z * (num + p[4]) / (den + qq[4])) / v
        s = np.trunc(v * 16.0) / 16.0
        e = np.exp(-(v - s) * (v + s)) * q
        # past 26 the result is subnormal: scaled by e**64 until the last product, so
        # that it is rounded once (exp(-s*s) alone would already have lost its bits)
        sub = v >= 26.0
        t = np.exp(np.where(sub, 64.0, 0.0) - s * s) * e
        t = np.where(sub, t * 1.603810890548638e-28, t)  # e**-64
        r[big] = np.where(v < 27.5, t, 0.0)  # under 2**-1075 from 27.3 on (and at inf)
        tail = ~small  # r holds erfc(|x|) here, erf(x) on ``small``
        if complement:
            out = np.where(tail, np.where(x < 0, 2.0 - r, r), 1.0 - r)
        else:
            out = np.where(tail, np.copysign((0.5 - r) + 0.5, x), r)
        return np.where(np.isnan(x), x, out)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, as scipy.special.erf (which the emitted module may not import)."""
    x = np.asarray(x)
    dtype = np.result_type(x.dtype, np.float16)
    out = _erf_cody(x.astype(np.float64), False)
    return out.astype(dtype)[()]


def _erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), accurate where it is tiny (large x), as scipy.special.erfc; subnormal
    for 26.64 < x < 27.3, where scipy's flushes to 0."""
    x = np.asarray(x)
    dtype = np.result_type(x.dtype, np.float16)
    out = _erf_cody(x.astype(np.float64), True)
    return out.astype(dtype)[()]


def _gammaln(x: np.ndarray) -> np.ndarray:
    """log|Gamma(x)|, as scipy.special.gammaln (Cephes lgam): inf at the poles (x <= 0
    integral) and at +inf, -inf at -inf. x >= 13: Stirling's series; -34 <= x < 13: the
    recurrence down or up to u in [2, 3), then Cephes' rational approximation in u - 2
    (relatively accurate at the roots 1 and 2 from above; just below them it cancels,
    as scipy's: 3000 ulp at 0.999); x < -34: reflection. A subnormal x gives -log|x|
    (744.44 at 5e-324), where Cephes overflows 1/x to inf."""
    with np.errstate(all="ignore"):  # overflow to inf, 0 * inf: as scipy, silent
        x = np.asarray(x)
        dtype = np.result_type(x.dtype, np.float16)
        x = x.astype(np.float64)
        out = np.full(x.shape, np.inf)
        out[np.isnan(x)] = np.nan
        out[x == -np.inf] = -np.inf
        pole = (x <= 0) & (x == np.floor(x))
        ok = np.isfinite(x) & ~pole
        tiny = ok & (np.abs(x) < 2.0 ** -60)  # lgamma(x) = -log|x| - 0.5772 x: the last < ulp
        out[tiny] = -np.log(np.abs(x[tiny]))
        ok &= ~tiny

        def stirling(v: np.ndarray) -> np.ndarray:
            # Bernoulli terms B_2k / (2k (2k-1) v^(2k-1)), k = 1..7: under 1e-17 for v >= 13
            z = 1.0 / (v * v)
            s = ((((((1.0 / 156 * z - 691.0 / 360360) * z + 1.0 / 1188) * z - 1.0 / 1680) * z
                    + 1.0 / 1260) * z - 1.0 / 360) * z + 1.0 / 12) / v
            q = (v - 0.5) * np.log(v) - v + 0.91893853320467274178  # log sqrt(2 pi)
            return np.where(v > 2.556348e305, np.inf, np.where(v > 1e8, q, q + s))

        m = ok & (x >= 13)
        out[m] = stirling(x[m])
        m = ok & (x < -34)
        v = -x[m]
        f = v - np.floor(v)
        f = np.where(f > 0.5, np.floor(v) + 1.0 - v, f)
        out[m] = 1.14472988584940017414 - np.log(v * np.sin(np.pi * f)) - stirling(v)  # log pi
        m = ok & (x >= -34) & (x < 13)
        v = x[m]
        k = 2.0 - np.floor(v)  # u = v + k in [2, 3)
        z = np.ones_like(v)
        for j in range(1, int(-k.min(initial=0)) + 1):  # 3 <= v < 13: z = (v-1)...(u)
            z = np.where(k <= -j, z * (v - j), z)
        for j in range(int(k.max(initial=0))):  # v < 2: z = 1 / (v (v+1) ... (u-1))
            z = np.where(k > j, z / (v + j), z)
        t = v + (k - 2.0)
        b = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
             -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)
        c = (-3.51815701436523470549e2, -1.70642106651881159223e4, -2.20528590553854454839e5,
             -1.13933444367982507207e6, -2.53252307177582951285e6, -2.01889141433532773231e6)
        num = np.full_like(t, b[0])
        den = t + c[0]
        for i in range(1, 6):
            num = num * t + b[i]
            den = den * t + c[i]
        out[m] = np.log(np.abs(z)) + t * num / den
        return out.astype(dtype)[()]


def _digamma(x: np.ndarray) -> np.ndarray:
    """The digamma function d/dx log Gamma(x), as scipy.special.digamma (Cephes psi):
    -inf at 0.0, +inf at -0.0, nan at the negative integers and -inf. x < 0: reflection;
    the recurrence down (x < 10) or up (x < 1) to [1, 2], then a Taylor series about the
    positive root 1.4616 (poles at 0 and -1 taken out, so it converges fast), and the
    same about the first negative root -0.5041 for |x + 0.5041| < 0.3 (so both roots
    keep their relative accuracy, as scipy's); x >= 10: the asymptotic series."""
    with np.errstate(all="ignore"):  # overflow to inf, 0 * inf: as scipy, silent
        x = np.asarray(x)
        dtype = np.result_type(x.dtype, np.float16)
        x = x.astype(np.float64)
        out = np.full(x.shape, np.nan)
        out[x == np.inf] = np.inf
        out[x == 0] = np.copysign(np.inf, -x[x == 0])
        ok = np.isfinite(x) & (x != 0) & ~((x < 0) & (x == np.floor(x)))
        v = x[ok]
        neg = v < 0
        y = np.zeros_like(v)
        y[neg] = -np.pi / np.tan(np.pi * np.fmod(v[neg], 1.0))
        v[neg] = 1.0 - v[neg]
        # positive integers up to 10: the harmonic numbers less Euler's constant, as Cephes
        harmonic = [0.0]
        for i in range(1, 10):
            harmonic.append(harmonic[-1] + 1.0 / i)
        integral = (v <= 10) & (v == np.floor(v))
        n = v[integral].astype(np.intp)
        exact = y[integral] + (np.array(harmonic)[n - 1] - 0.57721566490153286061)
        up = v < 1
        y[up] -= 1.0 / v[up]
        v[up] += 1.0
        down = (v > 2) & (v < 10)  # down to [1, 2]
        w, t = v[down], y[down]
        for _ in range(int(np.ceil(np.max(w, initial=2.0))) - 2):
            d = w > 2
            w = np.where(d, w - 1.0, w)
            t = np.where(d, t + 1.0 / w, t)
        v[down], y[down] = w, t
        # [1, 2]: psi(v) = psi(r) + h/(r v) + h/((r+1)(v+1)) + psi(v+2) - psi(r+2), h = v - r
        cp = (0.3345617098544669, -0.05547620828281966, 0.012163351366549665,
              -0.0029766770504308336, 0.0007713020708922788, -0.0002067460762835447,
              5.663403931142352e-05, -1.574204279364516e-05, 4.420381437801449e-06,
              -1.2502790337317236e-06, 3.5550043655490004e-07, -1.0147423082995089e-07,
              2.9048430651778805e-08, -8.33350765245727e-09, 2.3946448469644653e-09,
              -6.889561205460087e-10, 1.9840436029350844e-10, -5.717729634679896e-11,
              1.648677489663637e-11, -4.755891089999051e-12, 1.3723653713077146e-12)
        r = 1.4616321449683622
        low = v <= 2
        w = v[low]
        h = w - r
        s = np.zeros_like(h)
        for coef in cp[::-1]:
            s = (s + coef) * h
        y[low] += (s + (h / (r * w) + h / (2.4616321449683625 * (w + 1.0)))) - 9.241265521729427e-17
        # v > 2 (so v >= 10): log v - 1/(2v) - sum B_2k / (2k v^2k)
        w = v[~low]
        z = 1.0 / (w * w)
        a = ((((((1.0 / 12 * z - 691.0 / 32760) * z + 1.0 / 132) * z - 1.0 / 240) * z
               + 1.0 / 252) * z - 1.0 / 120) * z + 1.0 / 12) * z
        y[~low] += np.log(w) - 0.5 / w - np.where(w < 1e17, a, 0.0)
        y[integral] = exact
        # |x - r| < 0.3 about the negative root r: as [1, 2], with the poles at 0, -1, -2 out
        cn = (0.4913240491236688, -0.11856044147907663, 0.037531959133452655,
              -0.013172055376303032, 0.004866503777109233, -0.0018509116032794433,
              0.0007164834608058607, -0.0002804707762736125, 0.00011059945836052453,
              -4.3827749767204884e-05, 1.7425838118500264e-05, -6.944388287385589e-06,
              2.7718194037819783e-06, -1.1075872776553215e-06, 4.429239947710089e-07,
              -1.7722241955384526e-07, 7.093758183016747e-08, -2.840228203415235e-08,
              1.1374035982106784e-08)
        r = -0.5040830082644554
        w = x[ok]
        near = np.abs(w - r) < 0.3
        w = w[near]
        h = w - r
        s = np.zeros_like(h)
        for coef in cn[::-1]:
            s = (s + coef) * h
        y[near] = (s + (h / (r * w) + h / (0.4959169917355446 * (w + 1.0))
                        + h / (1.4959169917355446 * (w + 2.0)))) + 7.289763902976895e-17
        out[ok] = y
        return out.astype(dtype)[()]


def _polygamma(n: float, x: np.ndarray) -> np.ndarray:
    """The n-th derivative of digamma, n >= 1 an integer, as scipy.special.polygamma:
    (-1)^(n+1) n! zeta(n+1, x). x > 0: the Hurwitz zeta summed directly until x + k >= 10,
    then by Euler-Maclaurin (Cephes zeta); x < 0: the reflection
    (-1)^n psi_n(1-x) - pi d^n/dx^n cot(pi x), with cot's derivatives as polynomials in
    cot (x reduced to [-1/2, 1/2] first, exactly); signed inf at the poles and at -inf."""
    with np.errstate(all="ignore"):
        x = np.asarray(x)
        dtype = np.result_type(x.dtype, np.float16)
        x = x.astype(np.float64)
        n = int(n)
        s = n + 1.0
        sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
        pole = (x <= 0) & (x == np.floor(x)) | (x == -np.inf)
        neg = (x < 0) & ~pole
        q = np.where(neg, 1.0 - x, np.where(pole, 1.0, x))  # x > 0 everywhere now
        total = np.zeros_like(q)
        for _ in range(int(np.ceil(10.0 - np.nanmin(q, initial=10.0)))):  # up to q >= 10
            low = q < 10.0
            total = np.where(low, total + q ** -s, total)
            q = np.where(low, q + 1.0, q)
        b = q ** -s
        total += q ** (1.0 - s) / (s - 1.0) + 0.5 * b
        rising, k = 1.0, 0.0
        # (2k)! / B_2k: the Euler-Maclaurin coefficients of the Hurwitz zeta (Cephes zeta)
        for coef in (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                     7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                     -4.5979787224074726105e15, 1.8152105401943546773e17,
                     -7.1661652561756670113e18):
            rising *= s + k
            b = b / q
            total += rising * b / coef
            k += 1.0
            rising *= s + k
            b = b / q
            k += 1.0
        factorial = float(np.prod(np.arange(1.0, n + 1.0)))
        out = sign * factorial * total
        # x < 0: out is psi_n(1 - x); d^n/dx^n cot(pi x) = pi^n P_n(cot), P_0(c) = c,
        # P_(k+1)(c) = -(1 + c^2) P_k'(c), coefficients lowest power first
        poly = np.array([0.0, 1.0])
        for _ in range(n):
            deriv = poly[1:] * np.arange(1.0, len(poly))
            poly = -np.convolve([1.0, 0.0, 1.0], deriv)
        u = x - np.round(x)  # cot(pi u), accurate near u = +-1/2 (where cot is ~0) too
        c = np.where(np.abs(u) < 0.25, 1.0 / np.tan(np.pi * u),
                     np.copysign(np.tan(np.pi * (0.5 - np.abs(u))), u))
        cot_n = np.polynomial.polynomial.polyval(c, poly) * np.pi ** n
        out = np.where(neg, (-1.0) ** n * out - np.pi * cot_n, out)
        out = np.where(pole, sign * np.inf, np.where(np.isnan(x), np.nan, out))
        return out.astype(dtype)[()]


NEEDS = {"_erf": (_erf_cody,), "_erfc": (_erf_cody,), "_gammaln": (), "_digamma": (),
         "_polygamma": ()}
"""The shipped helpers each function calls, to be emitted before it."""
