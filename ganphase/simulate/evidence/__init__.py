"""Numerical evidence for the claims of ``ganphase.theory``.

Each module here attaches functions to claims with
``@REGISTRY.evidence("claim-id")``; the registry imports every module of this
package when evidence is asked for.  An evidence function takes a numpy
``Generator`` and a ``thorough`` flag (quick pass for ``ganphase claims``,
thorough pass for tests) and returns an ``Evidence``.  A failed check of the
paper's statement carries the input that fails it as ``counterexample``.
"""
