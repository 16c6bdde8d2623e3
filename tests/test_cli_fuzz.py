"""Every sub-command, fed generated argument lists and damaged run folders: exit 0 or 2, never a traceback.

Argument lists are drawn from each sub-command's own parser (its options, choices and positionals),
with values from a pool of valid, odd and invalid tokens and of damaged run folders. A command that
is still working after a few seconds accepted its input and is interrupted (that is exit 0's path);
anything else must end in exit 0, or exit 2 with exactly one ``error:`` line on stderr.
"""
import argparse
import shutil
import signal
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganphase.cli import build_parser, main
from ganphase.simulate.run_folder import RunFolder, RunFolderWarning
from ganphase.simulate.train import TrainConfig, train

SECONDS = 4
NUMBERS = ["0", "1", "2", "3", "-1", "0.5", "1e-3", "nan", "inf", "-inf", "1e400", "abc", "", "٣", "0x10"]
DAMAGES = ["truncated", "garbage", "no-train", "bad-json", "torn-metrics", "newer-format", "empty", "a-file",
           "missing"]


class Accepted(BaseException):
    """Raised by the alarm: the command accepted its input and was working."""


def _damage(src: Path, dst: Path, how: str) -> Path:
    if how == "missing":
        return dst / "not-there"
    if how == "a-file":
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text("not a run folder")
        return dst
    if how == "empty":
        dst.mkdir(parents=True)
        return dst
    shutil.copytree(src, dst)
    run = RunFolder(dst)
    newest = run.checkpoint_path(run.checkpoint_epochs()[-1])
    if how == "truncated":
        newest.write_bytes(newest.read_bytes()[:300])
    elif how == "garbage":
        for e in run.checkpoint_epochs():
            run.checkpoint_path(e).write_bytes(b"\x80\x04garbage")
    elif how == "no-train":
        (dst / "config.json").write_text('{"model": {"kind": "mlp"}}')
    elif how == "bad-json":
        (dst / "config.json").write_text('{"train": {"data": ')
    elif how == "torn-metrics":
        with open(dst / "metrics.jsonl", "a") as f:
            f.write('{"epoch": 9, "loss')
    elif how == "newer-format":
        text = (dst / "config.json").read_text()
        (dst / "config.json").write_text(text.replace('"format": 2', '"format": 99'))
    return dst


def _import_everything():
    """Import every ganphase module first: an alarm that lands inside a first import would leave a
    half-initialised module (matplotlib's, say) behind for the next example."""
    import importlib
    import pkgutil

    import matplotlib
    import ganphase

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    for info in pkgutil.walk_packages(ganphase.__path__, "ganphase."):
        if info.name != "ganphase.__main__":
            importlib.import_module(info.name)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    _import_everything()
    root = tmp_path_factory.mktemp("fuzz")
    src = root / "source"
    train(TrainConfig(data="gmm-2d", epochs=2, out=str(src), device="cpu", progress=False, eval_every=1,
                      max_iterations_per_epoch=3, eval_samples=16, eval_steepness_samples=2, evaluator=False))
    return {how: str(_damage(src, root / how, how)) for how in DAMAGES}


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def _value(action, pool):
    if action.choices:
        return st.sampled_from([str(c) for c in action.choices] + ["bogus"])
    return st.sampled_from(pool)


@st.composite
def argument_lists(draw, name, folders):
    sub = _subparsers()[name]
    pool = NUMBERS + list(folders.values())
    argv = [name]
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:   # positionals
            count = draw(st.integers(1, 2)) if action.nargs in ("+", "*") else 1
            argv += [draw(_value(action, pool)) for _ in range(count)]
            continue
        if not (action.required or draw(st.booleans())):
            continue
        argv.append(action.option_strings[-1])
        if action.nargs != 0:
            count = draw(st.integers(1, 2)) if action.nargs in ("+", "*") else 1
            argv += [draw(_value(action, pool)) for _ in range(count)]
    return argv


def _alarm(signum, frame):
    raise Accepted


def _run(argv, capsys):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        code = main(argv)
    except Accepted:
        code = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return code, capsys.readouterr().err


COMMANDS = sorted(_subparsers())


@pytest.mark.parametrize("name", COMMANDS)
def test_generated_arguments_exit_0_or_2_without_traceback(name, folders, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warnings.simplefilter("ignore", RunFolderWarning)

    @settings(max_examples=12, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(argument_lists(name, folders))
    def check(argv):
        code, err = _run(argv, capsys)
        assert "Traceback" not in err, (argv, err)
        assert "weights_only" not in err, (argv, err)
        if code is None:
            return
        assert code in (0, 2), (argv, code, err[-1500:])   # the tail names what failed
        if code == 2:
            errors = [line for line in err.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1, (argv, err)

    check()


@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_run_folders_get_one_line_from_evaluate(how, folders, capsys):
    code, err = _run(["evaluate", folders[how], "--device", "cpu", "--no-progress", "--samples", "16",
                      "--reference", "64"], capsys)
    assert code in (0, 2) and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), err
