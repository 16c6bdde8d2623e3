"""Shared sympy symbols, so that every derivation speaks of the same quantities.

Positivity is declared where the paper assumes it (sigma > 0, step sizes > 0,
densities > 0); this lets sympy simplify and lets the claim comparison draw
valid random points.
"""
import sympy as sp

x, y, z, t = sp.symbols("x y z t", real=True)
mu = sp.Symbol("mu", positive=True)          # half the distance between two symmetric modes
sigma = sp.Symbol("sigma", positive=True)    # per-component standard deviation
s = sp.Symbol("s", positive=True)            # particle step size
r = sp.Symbol("r", nonnegative=True)         # a distance to a mode centre, or a density ratio
k = sp.Symbol("k", positive=True)            # a steepness bound
n = sp.Symbol("n", positive=True, integer=True)   # dimension
N = sp.Symbol("N", positive=True, integer=True)   # number of modes
