"""Sub-commands of the ``ganphase`` CLI, one module each.

A module exposes ``NAME`` (str), ``HELP`` (str), ``add_arguments(parser)`` and
``run(args) -> int``; ``ganphase.cli`` discovers them.  ``ValueError`` raised
by ``run`` becomes a one-line error with exit status 2.
"""
