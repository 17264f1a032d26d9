#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Count the cross-sell pairs of the real file in NumPy instead of SQL, to see what the mining could gain.

An experiment, not a benchmark of shipped code: the addon counts the pairs
in SQL. On a database that ``bench_cross_sell_mining.py --keep-db`` made
(default ``wcj_bm_cross_sell``), it fills the mining's first purchases with
the addon's own step, then in NumPy builds every pair of first purchases of
one basket within the 30-day window and counts the distinct pairs. Nothing
is written: the transaction is rolled back.

Needs ``numpy`` (not a dependency of the addon).
"""
import argparse
import sys
import time
from datetime import timedelta

import numpy as np

from _bench_common import environment, machine, open_registry

import bench_reorder_cycles

AS_OF = bench_reorder_cycles.AS_OF
# The day numbers only need to be comparable: days since this date.
EPOCH = "2000-01-01"


def count_pairs(rows, window, min_support):
    """Return (pairs in the window, distinct pairs, distinct pairs with the minimum support).

    ``rows`` contains basket, node and day, sorted by basket, day and node. A
    pair is two nodes of one basket whose days differ by 0 to ``window``,
    the earlier first. Same-day pairs count both ways, as in the SQL.
    """
    basket, node, day = rows[:, 0], rows[:, 1], rows[:, 2]
    key = basket * 100_000 + day
    end = np.searchsorted(key, key + window, side="right")
    start = np.searchsorted(key, key, side="left")
    lengths = end - start
    total = int(lengths.sum())
    first = np.repeat(np.arange(len(key)), lengths)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    second = np.repeat(start, lengths) + offsets
    keep = node[second] != node[first]
    first, second = first[keep], second[keep]
    pairs = node[first] * (int(node.max()) + 1) + node[second]
    _unique, counts = np.unique(pairs, return_counts=True)
    return len(pairs), len(counts), int((counts >= min_support).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="wcj_bm_cross_sell", help="database of the real file (default: %(default)s)")
    options = parser.parse_args()
    if not options.db.startswith("wcj_bm_"):
        sys.exit("error: --db must start with wcj_bm_")
    print("machine:", machine())
    with environment(open_registry(options.db)) as env:
        Rule = env["customer.journey.cross.sell.rule"]
        thresholds = Rule._get_thresholds()
        cr = env.cr
        cr.execute("SET LOCAL jit = off")
        cr.execute("SET LOCAL work_mem = '256MB'")
        started = time.monotonic()
        Rule._mining_first_purchases(AS_OF - timedelta(days=thresholds.horizon_days), thresholds, env.companies.ids)
        print(f"first purchases (SQL, the addon's step): {time.monotonic() - started:.2f} s")
        started = time.monotonic()
        cr.execute(
            f"SELECT basket, node, first_day - DATE '{EPOCH}' FROM journey_mining_first ORDER BY basket, first_day, node"
        )
        rows = np.array(cr.fetchall(), dtype=np.int64)
        print(f"read {len(rows)} first purchases into NumPy: {time.monotonic() - started:.2f} s")
        started = time.monotonic()
        in_window, distinct, supported = count_pairs(rows, max(thresholds.windows), thresholds.min_support)
        print(f"pair count (NumPy): {time.monotonic() - started:.2f} s, {in_window} pairs in the window, "
              f"{distinct} distinct, {supported} with support >= {thresholds.min_support}")
        cr.rollback()


if __name__ == "__main__":
    main()
