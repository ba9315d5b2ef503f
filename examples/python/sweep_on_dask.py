"""A sweep on a Dask cluster: one backtest per task, ranked as the in-process sweep ranks it.

    pip install 'dask[distributed]' target/wheels/strangle-*.whl
    python examples/python/sweep_on_dask.py [SCHEDULER_ADDRESS]

Without an address it starts a local cluster of two worker processes. Every worker must be
able to read the data file at the same path (here the committed BTC hourly series, run from
the repository's root). A `concurrent.futures.ProcessPoolExecutor` works the same way.
"""

import sys
from datetime import datetime, timedelta, timezone

from dask.distributed import Client, LocalCluster

import strangle

DATA = "examples/data/btcusd_1h_20210324_20220301.csv"


def main() -> None:
    profile = strangle.Profile(name="dask", liquidity={"max_quote_age_secs": 7200})
    grid = {"delta_band.low": [0.08, 0.10], "max_profit_pct": ["40", "80"]}
    start = datetime(2021, 11, 1, tzinfo=timezone.utc)
    if len(sys.argv) > 1:
        client = Client(sys.argv[1])
    else:
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
    with client:
        result = strangle.sweep(profile, grid, DATA, start=start, until=start + timedelta(days=14),
                                executor=client.get_executor(),
                                progress=lambda done, total: print(f"{done}/{total} done"))
    for row in result.rows:
        print(row["rank"], row["params"], row["kpis"]["net"] if row["kpis"] else row["error"])


if __name__ == "__main__":
    main()
