"""ganphase: check the theory of GAN training dynamics symbolically and numerically.

``ganphase.theory`` derives the paper's formal results with sympy and holds
them in one registry of claims; ``ganphase.simulate`` supplies the numerical
computations they are checked against; ``ganphase.figures`` redraws the
paper's figures.  Dependencies point one way: figures -> simulate -> theory.
"""
__version__ = "0.1.0"
PAPER = ("Evolution of Discriminator and Generator Gradients in GAN Training: "
         "From Fitting to Collapse")
