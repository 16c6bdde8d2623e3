"""Argument types shared by the sub-commands (argparse prints their message in one line)."""
from __future__ import annotations

import argparse


def positive_int(text) -> int:
    """An integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v
