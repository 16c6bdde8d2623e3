"""The ``ganphase`` command line.

Sub-commands live in ``ganphase.commands`` (one module each) and are
discovered here.  Bad input is one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import ganphase
import ganphase.commands


class UsageError(ValueError):
    """Bad command-line input."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + message; we print one line
        raise UsageError(f"{self.prog}: {message}")


def _commands():
    for info in sorted(pkgutil.iter_modules(ganphase.commands.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"ganphase.commands.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="ganphase", description=ganphase.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ganphase {ganphase.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in _commands():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings from the library reach the user as one line each."""
    text = _one_line(message) if isinstance(message, Exception) else " ".join(str(message).split())
    print(f"warning: {text}", file=sys.stderr)


def main(argv=None) -> int:
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _main(argv)


def _main(argv) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not hasattr(args, "_run"):
            raise UsageError("ganphase: a command is required (see ganphase --help)")
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was written so far is kept; rerun with --resume where the command has it",
              file=sys.stderr)
        return 130


def _one_line(exc: Exception) -> str:
    text = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.strerror}: {exc.filename}"
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
