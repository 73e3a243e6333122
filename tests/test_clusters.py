"""`pairs` on real clusters: a Ray head and a Dask scheduler with two workers on 127.0.0.1,
started and stopped by the tests; the results must equal the local run exactly.

Needs the extras (``pip install 'mitool[distributed-ray,distributed-dask]'``, which CI
installs); without them the cluster tests are skipped (the install advice is tested in
test_pairs.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mitool
from mitool.errors import UsageError
from mitool.inference import InferenceSpec
from mitool.screening import Parallel

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 1000
    base = rng.normal(size=n)
    df = pd.DataFrame({f"c{i}": base * (i % 3) * 0.4 + rng.normal(size=n) for i in range(6)})
    df["label"] = np.where(base > 0, "a", "b")
    path = tmp_path_factory.mktemp("wide") / "wide.csv"
    df.to_csv(path, index=False)
    return path


def _same(a, b) -> None:
    assert [(s.x, s.y) for s in a.scores] == [(s.x, s.y) for s in b.scores]
    assert [s.mi for s in a.scores] == [s.mi for s in b.scores]
    assert [s.p_value for s in a.scores] == [s.p_value for s in b.scores]


@pytest.fixture(scope="module")
def ray_head():
    pytest.importorskip("ray")
    ray_bin = shutil.which("ray", path=str(BIN))
    assert ray_bin, "the ray extra installs a 'ray' command beside python"
    port = free_port()
    start = subprocess.run(
        [ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
         "--object-store-memory=200000000"], capture_output=True, text=True, timeout=180)
    assert start.returncode == 0, start.stdout + start.stderr
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_bin, "stop", "--force"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def dask_cluster():
    pytest.importorskip("distributed")
    dask_bin = shutil.which("dask", path=str(BIN))
    assert dask_bin, "the dask extra installs a 'dask' command beside python"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask_bin, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        time.sleep(2)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [dask_bin, "worker", address, "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--memory-limit", "2GB"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_ray_cluster_equals_local_run(ray_head, wide):
    local = mitool.pairs(wide, seed=3, inference=InferenceSpec(permutations=5))
    remote = mitool.pairs(wide, seed=3, inference=InferenceSpec(permutations=5), parallel=Parallel(backend="ray", address=ray_head))
    assert remote.backend == "ray" and len(remote.scores) == 21
    _same(local, remote)
    target = mitool.pairs(wide, target="label", parallel=Parallel(backend="ray", address=ray_head))
    _same(mitool.pairs(wide, target="label"), target)


def test_dask_cluster_equals_local_run(dask_cluster, wide):
    local = mitool.pairs(wide, seed=3, inference=InferenceSpec(permutations=5))
    remote = mitool.pairs(wide, seed=3, inference=InferenceSpec(permutations=5), parallel=Parallel(backend="dask", address=dask_cluster, jobs=2))
    assert remote.backend == "dask" and len(remote.scores) == 21
    _same(local, remote)


def test_unreachable_dask_scheduler_is_a_clear_error(wide, monkeypatch):
    """The connection is attempted once, with a bounded timeout (dask's own default retries
    for longer), and no work is sent anywhere: checked on the Client's arguments, not on
    the clock."""
    pytest.importorskip("distributed")
    import dask.distributed
    from dask.utils import parse_timedelta

    real, calls = dask.distributed.Client, []

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(dask.distributed, "Client", spy)
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(UsageError, match=r"cannot connect to the Dask scheduler at "
                                         r"'tcp://127.0.0.1:\d+'"):
        mitool.pairs(wide, parallel=Parallel(backend="dask", address=address))
    assert len(calls) == 1 and calls[0][0] == (address,)
    assert 0 < parse_timedelta(calls[0][1]["timeout"]) <= 10


def test_unreachable_ray_cluster_is_a_clear_error(wide):
    pytest.importorskip("ray")
    with pytest.raises(UsageError, match="cannot connect to the Ray cluster at '127.0.0.1:"):
        mitool.pairs(wide, parallel=Parallel(backend="ray", address=f"127.0.0.1:{free_port()}"))
