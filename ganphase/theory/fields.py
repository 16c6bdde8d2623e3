"""The optimal-discriminator field grad d*/d* (Section 2.2, Appendix C.2-C.3).

d*(x) = p_data(x) / (p_data(x) + p_g(x)) and r(x) = p_data(x) / p_g(x).
"""
import sympy as sp

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.symbols import x

p_data = sp.Function("p_data", positive=True)
p_g = sp.Function("p_g", positive=True)
ratio = sp.Function("r", positive=True)


def optimal_discriminator(pd, pg):
    """d*(x) = p_data / (p_data + p_g)  (Section 2.2, after Goodfellow et al., 2014)."""
    return pd / (pd + pg)


@REGISTRY.claim(
    "sec-2.2", source="Section 2.2, equation after Algorithm 1",
    title="particle field grad d*/d* in terms of the density ratio r = p_data/p_g",
    section="2 Preliminaries",
    assumptions=("d is the optimal discriminator p_data/(p_data+p_g)", "p_data, p_g > 0 and differentiable"))
def particle_field():
    d = optimal_discriminator(p_data(x), p_g(x))
    field = sp.diff(d, x) / d
    # write p_data = r p_g and let sympy eliminate p_g
    in_r = sp.simplify(field.subs(p_data(x), ratio(x) * p_g(x)).doit())
    printed = sp.diff(ratio(x), x) * 1 / (ratio(x) * (1 + ratio(x)))
    return [Part("field", derived=in_r, printed=printed, equation=r"\nabla d_*/d_*")]
