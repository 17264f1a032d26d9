#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time the Customer Journey Analysis funnel over many customers and leads.

The script creates a database with the addon (no demo data) and inserts
``--customers`` customer companies with one lead each and 0-5 confirmed
orders in SQL, the data of bench_recompute.py. The stage recompute writes
their history, each lead gets its customer's stage and every tenth lead is
marked lost. Two segments store every second and every third customer as
members. Then it times the grouped reads that the funnel's pivot makes: by
stage, by stage and month entered, and by stage and segment. Each read runs
``--repeat`` times and the median is reported.

Usage: benchmarks/bench_funnel_report.py [--customers 200000] [--repeat 5]
"""
import argparse
import statistics
import time

from _bench_common import ADDON, drop_db, environment, machine, open_registry, run_odoo
from bench_recompute import insert_history

MEASURES = [
    "customer_count:sum",
    "moved_on_count:sum",
    "conversion_rate:ratio",
    "days_avg:avg",
    "days_median:median",
    "dropoff_count:sum",
    "lead_count:sum",
]


def prepare_leads(cr):
    """Give each lead its customer's stage and mark every tenth lead lost there.

    The lead events would have written that stage on the lead. Without it, no
    lead would count in the funnel.
    """
    cr.execute(
        """
        UPDATE crm_lead l
           SET journey_stage_snapshot_id = p.journey_stage_id
          FROM res_partner p
         WHERE p.id = l.partner_id
        """
    )
    cr.execute(
        """
        UPDATE crm_lead l
           SET active = FALSE, probability = 0, journey_dropoff_stage_id = p.journey_stage_id
          FROM res_partner p
         WHERE p.id = l.partner_id AND l.id % 10 = 0
        """
    )


def add_segments(env):
    """Create two segments and store every second and every third customer as their members."""
    Segment = env["customer.journey.segment"]
    for divisor in (2, 3):
        segment = Segment.create({"name": f"Bench segment: every customer {divisor}", "target": "company"})
        env.cr.execute(
            """
            INSERT INTO customer_journey_segment_member (segment_id, partner_id)
            SELECT %s, p.id FROM res_partner p
             WHERE p.name LIKE 'Bench customer %%' AND p.id %% %s = 0
            """,
            [segment.id, divisor],
        )


def timed_read(env, groupby, repeat):
    Report = env["customer.journey.funnel.report"]
    timings = []
    for _round in range(repeat):
        env.invalidate_all()
        started = time.perf_counter()
        groups = Report._read_group([], groupby, MEASURES)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), len(groups)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default="wcj_bench_funnel")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    drop_db(args.db)
    run_odoo(args.db, "-i", ADDON, "--without-demo=all")
    registry = open_registry(args.db)
    with environment(registry) as env:
        insert_history(env.cr, args.customers)
        env.cr.execute("ANALYZE")
        env.cr.commit()
        started = time.perf_counter()
        env["customer.journey.replay"]._recompute_stages(full=True, commit=True)
        print(f"stage history written in {time.perf_counter() - started:.1f} s")
        prepare_leads(env.cr)
        add_segments(env)
        env.cr.execute("ANALYZE")
        env.cr.commit()
        env.cr.execute("SELECT COUNT(*) FROM crm_lead")
        leads = env.cr.fetchone()[0]
        env.cr.execute("SELECT COUNT(*) FROM customer_journey_history")
        rows = env.cr.fetchone()[0]
        print(f"{args.customers} customers, {leads} leads, {rows} history rows")

        by_stage, groups = timed_read(env, ["stage_id"], args.repeat)
        print(f"funnel by stage: {by_stage:.3f} s (median of {args.repeat}, {groups} groups)")
        by_month, groups = timed_read(env, ["stage_id", "date:month"], args.repeat)
        print(f"funnel by stage and month: {by_month:.3f} s (median of {args.repeat}, {groups} groups)")
        by_segment, groups = timed_read(env, ["stage_id", "segment_ids"], args.repeat)
        print(f"funnel by stage and segment: {by_segment:.3f} s (median of {args.repeat}, {groups} groups)")

    print(f"machine: {machine()}")
    if not args.keep_db:
        registry.delete(args.db)
        drop_db(args.db)


if __name__ == "__main__":
    main()
