"""ganphase sweep: the grid on a LocalCluster and on a separately started scheduler, resume, a killed worker."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ganphase.cli import main
from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate.settings import Setting
from ganphase.simulate.sweep import config_hash, plan, read_index, sweep
from ganphase.simulate.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="gmm-2d", epochs=3, max_iterations_per_epoch=8, eval_every=1, eval_samples=64,
            eval_steepness_samples=8, early_stop=True, continue_after_stop=True, device="cpu")
tiny = Setting("tiny", 1, "test: 3 short epochs of the 2-D mixture", TINY)


def test_hash_ignores_what_does_not_change_the_numbers(tmp_path):
    a = TrainConfig(**TINY, seed=1, out="x").to_dict()
    same = TrainConfig(**{**TINY, "device": "cuda"}, seed=1, out="y", progress=False, threads=1, resume=True,
                       data_dir="/d").to_dict()
    assert config_hash(a) == config_hash(same)
    assert config_hash(a) != config_hash(TrainConfig(**TINY, seed=2, out="x").to_dict())
    assert config_hash(a) != config_hash(TrainConfig(**{**TINY, "epochs": 4}, seed=1, out="x").to_dict())
    jobs = plan([tiny], 3, tmp_path)
    assert [j.folder for j in jobs] == ["tiny/seed-0000", "tiny/seed-0001", "tiny/seed-0002"]
    assert all(j.config["threads"] == 1 and j.config["out"] == str(tmp_path / j.folder) for j in jobs)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    for argv in (["nope", "--seeds", "2"], ["gmm3d-collapse", "--seeds", "0"], ["gmm3d-collapse", "--seeds", "x"],
                 ["gmm3d-collapse", "--seeds", "1", "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"],
                 ["gmm3d-collapse", "--seeds", "1", "--set", "bogus=1"], ["gmm3d-collapse", "--seeds", "1", "--resume"]):
        assert main(["sweep", *argv, "--out", str(tmp_path / "s")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "s").exists()          # nothing half-made


@pytest.mark.timeout(600)
def test_local_cluster_sweep_then_rerun_skips_finished_runs(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", "gmm3d-collapse", "--seeds", "2", "--out", str(out), "--workers", "2", "--no-progress",
            "--set", "epochs=2", "--set", "max_iterations_per_epoch=6", "--set", "eval_samples=64",
            "--set", "eval_every=1"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"out": str(out), "runs": 2, "finished": 2}
    rows = read_index(out)
    assert [(r["setting"], r["seed"], r["status"]) for r in rows] == [("gmm3d-collapse", 0, "finished"),
                                                                      ("gmm3d-collapse", 1, "finished")]
    for r in rows:
        run = RunFolder(out / r["folder"])
        assert run.finished() and r["hash"] == config_hash(run.read_config()["train"])
        assert [m["epoch"] for m in run.metrics()] == [1, 2] and run.read_traces()["it_q_d"].shape == (12,)
        assert r["epochs_run"] == 2 and r["returned_checkpoint"] == run.read_summary()["returned_checkpoint"]
    stamps = {r["folder"]: (out / r["folder"] / "summary.json").stat().st_mtime_ns for r in rows}
    # a rerun with --resume starts no cluster at all: an unreachable scheduler would be an error if it did
    rows2 = sweep(["gmm3d-collapse"], 2, out, resume=True, scheduler="tcp://127.0.0.1:9", connect_timeout=1,
                  overrides={"epochs": 2, "max_iterations_per_epoch": 6, "eval_samples": 64, "eval_every": 1,
                             "device": "cpu"}, progress=False)
    assert [r["status"] for r in rows2] == ["finished", "finished"]
    assert stamps == {r["folder"]: (out / r["folder"] / "summary.json").stat().st_mtime_ns for r in rows}
    # a changed configuration is another run: the folder of the old one is not overwritten
    with pytest.raises(ValueError, match="another configuration"):
        sweep(["gmm3d-collapse"], 1, out, overrides={"epochs": 3}, progress=False)
    # the committable part: four files per run, no checkpoints, and the provenance of the commands
    res = tmp_path / "results"
    assert main(["sweep-export", str(out), str(res)]) == 0
    files = sorted(str(p.relative_to(res)) for p in res.rglob("*") if p.is_file())
    per_run = ["config.json", "metrics.jsonl", "summary.json", "traces.npz"]
    assert files == sorted(["index.json", "provenance.json", "sweep.json"] +
                           [f"gmm3d-collapse/seed-000{s}/{f}" for s in (0, 1) for f in per_run])
    assert read_index(res) == read_index(out)
    for r in rows:
        assert (res / r["folder"] / "traces.npz").read_bytes() == (out / r["folder"] / "traces.npz").read_bytes()
    prov = json.loads((res / "provenance.json").read_text())
    first = prov["sweep_invocations"][0]["command"]
    assert first.startswith("ganphase sweep gmm3d-collapse --seeds 2 --out ") and "--set epochs=2" in first
    assert prov["export"]["machine"]["cores"] == os.cpu_count() and prov["runs"] == 2
    assert prov["export"]["commit"] is None or len(prov["export"]["commit"]) == 40
    assert {"torch", "numpy", "dask", "distributed"} <= set(prov["export"]["versions"])


# ----------------------------------------------------------------------------- a separately started cluster
def _spawn(args, log):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **{k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    return subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers, each its own process on 127.0.0.1, for at most 5 minutes."""
    from distributed import Client

    sched_file = tmp_path / "scheduler.json"
    log = open(tmp_path / "cluster.log", "w")
    procs = [_spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sched_file), "--idle-timeout", "300"], log)]
    try:
        for _ in range(600):
            if sched_file.is_file() and sched_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):
            procs.append(_spawn(["distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--host", "127.0.0.1", "--lifetime", "300s",
                                 "--name", f"w{i}"], log))
        client = Client(address, timeout=30)
        client.wait_for_workers(2, timeout=120)
        pids = client.run(os.getpid)
        yield address, client, pids
        client.close()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
        log.close()


SLOW = Setting("tiny-long", 1, "test: 6 epochs of the 2-D mixture",
               {**TINY, "epochs": 6, "max_iterations_per_epoch": 40, "monitor_every": 1})


@pytest.mark.timeout(600)
def test_scheduler_sweep_survives_a_killed_worker(tmp_path, cluster):
    address, client, pids = cluster
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    out = tmp_path / "sw"
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "rows", sweep([SLOW], 4, out, scheduler=address, progress=False)), daemon=True)
    thread.start()
    victim, killed_folder = None, None
    deadline = time.time() + 300
    while victim is None and time.time() < deadline and thread.is_alive():
        for addr, keys in client.processing().items():
            for key in keys:
                run = RunFolder(out / str(key).split("@")[0])       # keys are <setting>/seed-<NNNN>@<hash>
                if len(run.metrics()) >= 2 and not run.finished():   # mid-run, past two epochs
                    victim, killed_folder = pids[addr], run.path
                    break
            if victim:
                break
        time.sleep(0.02)
    assert victim is not None, "no run was caught mid-way"
    finished_before = {p: p.stat().st_mtime_ns for p in out.glob("tiny-long/*/summary.json")}
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=400)
    assert not thread.is_alive() and "rows" in result
    rows = result["rows"]
    assert [r["status"] for r in rows] == ["finished"] * 4 and [r["seed"] for r in rows] == [0, 1, 2, 3]
    assert read_index(out) == rows
    for p, stamp in finished_before.items():      # no finished run was run again
        assert p.stat().st_mtime_ns == stamp
    for r in rows:                                 # every run whole, each epoch once
        run = RunFolder(out / r["folder"])
        assert [m["epoch"] for m in run.metrics()] == list(range(1, 7))
        assert run.read_traces()["it_epoch"].tolist() == [e for e in range(1, 7) for _ in range(40)]
    # the killed run, resumed from its checkpoint, has the numbers of an uninterrupted run
    again = train(SLOW.config(int(killed_folder.name[-4:]), tmp_path / "again", threads=1, progress=False))
    killed = RunFolder(killed_folder)
    np.testing.assert_array_equal(killed.read_traces()["it_q_d"], RunFolder(tmp_path / "again").read_traces()["it_q_d"])
    assert killed.read_summary()["stop_iteration"] == again["stop_iteration"]


@pytest.mark.timeout(600)
def test_image_runs_share_one_classifier_trained_before_them(tmp_path, monkeypatch):
    """Without a cached classifier each run would train its own into its folder; the sweep trains one, once."""
    from distributed import Client

    from ganphase.simulate.sweep import classifier_of

    monkeypatch.setenv("GANPHASE_CACHE", str(tmp_path / "cache"))
    digits = Setting("tiny-digits", 1, "test: one short epoch of the 8x8 digits",
                     dict(data="digits", epochs=1, max_iterations_per_epoch=2, eval_every=1, eval_samples=64,
                          eval_steepness_samples=4, device="cpu"))
    assert classifier_of(plan([digits], 1, tmp_path)[0].config) == "digits"
    assert classifier_of(plan([tiny], 1, tmp_path)[0].config) is None
    assert classifier_of({**plan([digits], 1, tmp_path)[0].config, "evaluator": False}) is None
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        rows = sweep([digits, tiny], 2, tmp_path / "sw", client=client, progress=False)
    assert [r["status"] for r in rows] == ["finished"] * 4
    cached = sorted(p.name for p in (tmp_path / "cache" / "classifiers").iterdir())
    assert len(cached) == 2 and cached[0].startswith("digits-") and cached[0].endswith(".json")
    for seed in (0, 1):
        run = tmp_path / "sw" / "tiny-digits" / f"seed-000{seed}"
        assert not any((run / "eval_cache").glob("*.pt"))
        assert "classes_covered" in RunFolder(run).metrics()[0]["eval"]


def test_local_cluster_workers_keep_glibc_malloc_defaults(monkeypatch):
    """Dask's nanny would set MALLOC_TRIM_THRESHOLD_=65536 (twice the CPU per DCGAN iteration); ours do not."""
    from ganphase.simulate.sweep import _close, connect

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    client = connect(workers=1)
    try:
        env = client.run(lambda: {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")})
    finally:
        _close(client)
    assert list(env.values()) == [{"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}]
