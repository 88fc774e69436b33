"""digamma, polygamma and gelu for one float, for the numba loops (``loops.SCALAR``):
numba has none of them, and the NumPy helpers (ops/special.py) work on arrays. Each
follows its NumPy helper's method: equal up to rounding, not to the last bit. Shipped
by their source and compiled with ``numba.njit``; they read ``math`` and ``np``."""

from __future__ import annotations

import math

import numpy as np


def _digamma1(x):
    """digamma of one float by ``_digamma``'s method (scipy's values at 0, -0, the poles,
    inf and nan): reflection for x < 0, harmonic numbers at the integers up to 10, the
    recurrence to [1, 2] and a Taylor series about the root 1.4616 there (the one about
    -0.5041 near it), the asymptotic series from 10 up."""
    if x != x or x == -math.inf:
        return math.nan
    if x == math.inf:
        return x
    if x == 0.0:
        return -math.copysign(math.inf, x)
    if x < 0.0 and x == np.floor(x):
        return math.nan
    r = -0.5040830082644554
    if abs(x - r) < 0.3:
        h, s = x - r, 0.0
        for coef in (1.1374035982106784e-08, -2.840228203415235e-08, 7.093758183016747e-08,
                     -1.7722241955384526e-07, 4.429239947710089e-07, -1.1075872776553215e-06,
                     2.7718194037819783e-06, -6.944388287385589e-06, 1.7425838118500264e-05,
                     -4.3827749767204884e-05, 0.00011059945836052453, -0.0002804707762736125,
                     0.0007164834608058607, -0.0018509116032794433, 0.004866503777109233,
                     -0.013172055376303032, 0.037531959133452655, -0.11856044147907663,
                     0.4913240491236688):
            s = (s + coef) * h
        return (s + (h / (r * x) + h / (0.4959169917355446 * (x + 1.0))
                     + h / (1.4959169917355446 * (x + 2.0)))) + 7.289763902976895e-17
    y, v = 0.0, x
    if v < 0.0:
        y = -math.pi / math.tan(math.pi * np.fmod(v, 1.0))
        v = 1.0 - v
    if v <= 10.0 and v == np.floor(v):
        harmonic = 0.0
        for i in range(1, int(v)):
            harmonic += 1.0 / i
        return y + (harmonic - 0.57721566490153286061)
    if v < 1.0:
        y -= 1.0 / v
        v += 1.0
    while 2.0 < v < 10.0:
        v -= 1.0
        y += 1.0 / v
    if v <= 2.0:
        r = 1.4616321449683622
        h, s = v - r, 0.0
        for coef in (1.3723653713077146e-12, -4.755891089999051e-12, 1.648677489663637e-11,
                     -5.717729634679896e-11, 1.9840436029350844e-10, -6.889561205460087e-10,
                     2.3946448469644653e-09, -8.33350765245727e-09, 2.9048430651778805e-08,
                     -1.0147423082995089e-07, 3.5550043655490004e-07, -1.2502790337317236e-06,
                     4.420381437801449e-06, -1.574204279364516e-05, 5.663403931142352e-05,
                     -0.0002067460762835447, 0.0007713020708922788, -0.0029766770504308336,
                     0.012163351366549665, -0.05547620828281966, 0.3345617098544669):
            s = (s + coef) * h
        return y + ((s + (h / (r * v) + h / (2.4616321449683625 * (v + 1.0))))
                    - 9.241265521729427e-17)
    z = 1.0 / (v * v)
    a = ((((((1.0 / 12 * z - 691.0 / 32760) * z + 1.0 / 132) * z - 1.0 / 240) * z
           + 1.0 / 252) * z - 1.0 / 120) * z + 1.0 / 12) * z
    return y + (math.log(v) - 0.5 / v - (a if v < 1e17 else 0.0))


def _polygamma1(n, x):
    """polygamma(n, x) of one float, n >= 1, as ``_polygamma``: (-1)^(n+1) n! times the
    Hurwitz zeta(n + 1, x), summed until x + k >= 10, then by Euler-Maclaurin; x < 0 by
    the reflection, cot's n-th derivative a polynomial in cot; signed inf at the poles."""
    k = int(n)
    s = k + 1.0
    sign = -1.0 if k % 2 == 0 else 1.0
    if x != x:
        return x
    if x == -math.inf or x <= 0.0 and x == np.floor(x):
        return sign * math.inf
    q = 1.0 - x if x < 0.0 else x
    total = 0.0
    while q < 10.0:
        total += q ** -s
        q += 1.0
    b = q ** -s
    total += q ** (1.0 - s) / (s - 1.0) + 0.5 * b
    rising, j = 1.0, 0.0
    for coef in (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                 7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                 -4.5979787224074726105e15, 1.8152105401943546773e17,
                 -7.1661652561756670113e18):
        rising *= s + j
        b = b / q
        total += rising * b / coef
        j += 1.0
        rising *= s + j
        b = b / q
        j += 1.0
    out = sign * math.gamma(s) * total
    if x > 0.0:
        return out
    poly = [0.0, 1.0]  # P_0(c) = c; P_(i+1)(c) = -(1 + c^2) P_i'(c), lowest power first
    for _ in range(k):
        new = [0.0] * (len(poly) + 1)
        for i in range(1, len(poly)):
            new[i - 1] -= i * poly[i]
            new[i + 1] -= i * poly[i]
        poly = new
    u = x - np.floor(x + 0.5)  # cot(pi u), accurate near u = +-1/2 too
    c = 1.0 / math.tan(math.pi * u) if abs(u) < 0.25 else \
        math.copysign(math.tan(math.pi * (0.5 - abs(u))), u)
    cot_n = 0.0
    for i in range(len(poly) - 1, -1, -1):
        cot_n = cot_n * c + poly[i]
    return (-1.0) ** k * out - math.pi * cot_n * math.pi ** k


def _gelu1(x, approximate):
    """gelu of one float: JAX's tanh form, or the exact x Phi(x) through erf (as _gelu)."""
    if approximate:
        return x * (0.5 * (1.0 + math.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))))
    return x * (math.erf(x / 1.4142135623730951) + 1.0) / 2.0


JITTED = (_digamma1, _polygamma1, _gelu1)
