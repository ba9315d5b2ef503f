"""Sweeps on an executor: one backtest per task on a process pool and on a Dask cluster of
two worker processes, ranked exactly as the in-process sweep ranks them, on the committed
BTC hourly data (examples/data).

Dask comes from the package registry (`.ci/run` and `scripts/test` install it into the test
environment); without it the Dask test says so and is skipped.
"""

import concurrent.futures
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import strangle

ROOT = Path(__file__).resolve().parents[2]
SPOT = ROOT / "examples" / "data" / "btcusd_1h_20210324_20220301.csv"
START = datetime(2021, 11, 1, tzinfo=timezone.utc)
GRID = {"delta_band.low": [0.08, 0.1], "max_profit_pct": ["40", "80"], "contracts_per_leg": ["1", "3"]}


def profile() -> strangle.Profile:
    return strangle.Profile(name="exec", liquidity={"max_quote_age_secs": 7200})


def in_process() -> strangle.SweepResult:
    return strangle.sweep(profile(), GRID, SPOT, start=START, until=START + timedelta(days=7), threads=2)


def same(a: strangle.SweepResult, b: strangle.SweepResult) -> bool:
    # Every row, KPI and profile, compared as JSON text: the last digit counts.
    return json.dumps(a._raw, sort_keys=True, default=repr) == json.dumps(b._raw, sort_keys=True, default=repr)


def test_a_sweep_on_a_process_pool_ranks_as_the_in_process_sweep():
    want = in_process()
    assert len(want) == 8 and want.best["kpis"] is not None
    seen = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        got = strangle.sweep(profile(), GRID, SPOT, start=START, until=START + timedelta(days=7),
                             executor=pool, progress=lambda done, total: seen.append((done, total)))
    assert same(got, want)
    assert seen == [(i, 8) for i in range(1, 9)]


def test_an_executor_failing_cancels_the_tasks_it_holds_and_raises():
    given = []

    class Refusing(concurrent.futures.ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            if len(given) == 2:
                raise RuntimeError("the cluster went away")
            given.append(super().submit(fn, *args, **kwargs))
            return given[-1]

    with Refusing(max_workers=1) as pool, pytest.raises(RuntimeError, match="went away"):
        strangle.sweep(profile(), GRID, SPOT, start=START, until=START + timedelta(days=7), executor=pool)
    # The second task was still queued behind the first on the one worker: cancelled.
    assert given[1].cancelled()


def test_a_sweep_on_a_dask_cluster_ranks_as_the_in_process_sweep():
    distributed = pytest.importorskip(
        "dask.distributed", reason="Dask is not installed here (pip install 'dask[distributed]')")
    want = in_process()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        got = strangle.sweep(profile(), GRID, SPOT, start=START, until=START + timedelta(days=7),
                             executor=client.get_executor())
    assert same(got, want)


def test_what_a_task_needs_pickles():
    import pickle

    p = profile()
    assert pickle.loads(pickle.dumps(p)).to_dict() == p.to_dict()
    market = strangle.Synthetic(seed=3, days=2)
    r = strangle.backtest(strangle.Profile(name="pickled"), market)
    assert pickle.loads(pickle.dumps(r)).to_dict() == r.to_dict()
    again = strangle.backtest(strangle.Profile(name="pickled"), pickle.loads(pickle.dumps(market)))
    assert again.kpis == r.kpis
