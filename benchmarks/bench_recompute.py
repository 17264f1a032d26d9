#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time the nightly stage recompute on many customers with order history.

The script creates a database with the addon (no demo data), inserts
``--customers`` customer companies with leads and confirmed orders in SQL
(as an import or a script would, so no stage is set), then times:

1. the first full recompute, which moves every customer and writes its
   stage history;
2. a second full recompute, which finds nothing to move (the nightly scan);
3. an incremental recompute after ``--changed`` customers got a new
   confirmed order in SQL.

Usage: benchmarks/bench_recompute.py [--customers 100000] [--changed 1000]
"""
import argparse
import time

from _bench_common import ADDON, drop_db, environment, machine, open_registry, run_odoo


def insert_history(cr, customers):
    """Insert customers, one lead each and 0-5 confirmed orders each, in SQL."""
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, is_company, active, type, autopost_bills,
                                 journey_is_company, create_date, write_date)
        SELECT 'Bench customer ' || n, 'Bench customer ' || n, TRUE, TRUE, 'contact', 'ask',
               TRUE, NOW(), NOW()
          FROM generate_series(1, %s) n
        """,
        [customers],
    )
    cr.execute(
        """
        UPDATE res_partner SET commercial_partner_id = id
         WHERE name LIKE 'Bench customer %' AND commercial_partner_id IS NULL
        """
    )
    cr.execute(
        """
        INSERT INTO crm_lead (name, type, partner_id, company_id, active, create_date, write_date,
                              date_last_stage_update)
        SELECT 'Bench lead ' || p.id, 'opportunity', p.id, 1, TRUE,
               TIMESTAMP '2023-01-01' + (p.id % 700) * INTERVAL '1 day',
               NOW() - INTERVAL '2 days',
               TIMESTAMP '2023-01-01' + (p.id % 700) * INTERVAL '1 day'
          FROM res_partner p WHERE p.name LIKE 'Bench customer %'
        """
    )
    # Customer n gets n % 6 orders: a sixth of the customers have only a lead.
    cr.execute(
        """
        INSERT INTO sale_order (name, partner_id, partner_invoice_id, partner_shipping_id, company_id,
                                currency_id, state, date_order, journey_delivered,
                                journey_delivered_date, create_date, write_date)
        SELECT 'BENCH/' || p.id || '/' || k, p.id, p.id, p.id, 1, c.currency_id, 'sale',
               TIMESTAMP '2023-03-01' + (p.id % 700 + 30 * k) * INTERVAL '1 day',
               k > 1,
               CASE WHEN k > 1 THEN TIMESTAMP '2023-03-05' + (p.id % 700 + 30 * k) * INTERVAL '1 day' END,
               NOW(), NOW() - INTERVAL '2 days'
          FROM res_partner p
          JOIN res_company c ON c.id = 1
          CROSS JOIN LATERAL generate_series(1, p.id % 6) k
         WHERE p.name LIKE 'Bench customer %'
        """
    )


def add_orders(cr, count):
    """Give ``count`` customers that only have a lead a confirmed order, written now."""
    cr.execute(
        """
        INSERT INTO sale_order (name, partner_id, partner_invoice_id, partner_shipping_id, company_id,
                                currency_id, state, date_order, create_date, write_date)
        SELECT 'BENCH/NEW/' || p.id, p.id, p.id, p.id, 1, c.currency_id, 'sale', NOW(), NOW(), NOW()
          FROM res_partner p JOIN res_company c ON c.id = 1
         WHERE p.name LIKE 'Bench customer %%' AND p.id %% 6 = 0
         ORDER BY p.id LIMIT %s
        """,
        [count],
    )


def timed(label, function):
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s -> {result}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=1000)
    parser.add_argument("--db", default="wcj_bench_recompute")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    drop_db(args.db)
    run_odoo(args.db, "-i", ADDON, "--without-demo=all")
    registry = open_registry(args.db)
    with environment(registry) as env:
        insert_history(env.cr, args.customers)
        env.cr.execute("SELECT COUNT(*) FROM sale_order WHERE name LIKE 'BENCH/%'")
        print(f"inserted {args.customers} customers, {args.customers} leads, {env.cr.fetchone()[0]} orders")
        env.cr.execute("ANALYZE")
        env.cr.commit()

    with environment(registry) as env:
        Replay = env["customer.journey.replay"]
        first = timed("first full recompute (moved, remaining)",
                      lambda: Replay._recompute_stages(full=True, commit=True))
        env.cr.execute("SELECT COUNT(*) FROM customer_journey_history")
        print(f"history rows: {env.cr.fetchone()[0]}")
        env.cr.commit()
        steady = timed("second full recompute, nothing to move",
                       lambda: Replay._recompute_stages(full=True, commit=True))
        add_orders(env.cr, args.changed)
        env.cr.commit()
        incremental = timed(f"incremental recompute after {args.changed} new orders",
                            lambda: Replay._recompute_stages(commit=True))
        env.cr.commit()

    print(f"machine: {machine()}")
    print(f"| {args.customers} customers | first full {first:.1f} s | full scan {steady:.1f} s "
          f"| {args.changed} changed {incremental:.2f} s |")
    if not args.keep_db:
        registry.delete(args.db)
        drop_db(args.db)


if __name__ == "__main__":
    main()
