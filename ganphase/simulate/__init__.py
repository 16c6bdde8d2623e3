"""Numerical computations the claims are checked against (numpy, scipy, torch)."""
