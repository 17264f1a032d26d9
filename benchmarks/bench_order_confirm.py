#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time confirming sale orders without and with the addon, in one database.

The script creates a database with the addon's dependencies only and draft
orders, then alternates ``--rounds`` times: confirm ``--orders`` orders
without the addon, install it, confirm as many with it, uninstall it. Every
confirmation runs the same way: batches of ``--batch`` orders, each
committed, so pre-commit work (tracking, the addon's Aftersales check) is
included. Alternating spreads drift of the machine over both sides.

Usage: benchmarks/bench_order_confirm.py [--orders 1000] [--rounds 2] [--batch 50] [--keep-db]
"""
import argparse
import statistics
import time

from _bench_common import ADDON, DEPENDENCIES, drop_db, environment, machine, open_registry, run_odoo


def create_orders(env, count):
    """Create ``count`` draft orders of 3 lines for 200 customer companies."""
    from odoo import Command

    Partner = env["res.partner"]
    companies = Partner.create([{"name": f"Bench customer {i}", "is_company": True} for i in range(200)])
    contacts = Partner.create(
        [{"name": f"Contact {i}", "parent_id": company.id} for i, company in enumerate(companies)]
    )
    products = env["product.product"].create(
        [{"name": f"Bench product {i}", "type": "consu", "list_price": 10 + i} for i in range(20)]
    )
    orders = env["sale.order"].create(
        [
            {
                "partner_id": contacts[i % len(contacts)].id,
                "order_line": [
                    Command.create({"product_id": products[(i + k) % len(products)].id, "product_uom_qty": 1 + k})
                    for k in range(3)
                ],
            }
            for i in range(count)
        ]
    )
    return orders.ids


def confirm(registry, order_ids, batch):
    """Confirm the orders batch by batch; return the seconds per batch."""
    timings = []
    for start in range(0, len(order_ids), batch):
        with environment(registry) as env:
            orders = env["sale.order"].browse(order_ids[start:start + batch])
            started = time.perf_counter()
            orders.action_confirm()
            env.cr.commit()
            timings.append(time.perf_counter() - started)
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders confirmed in each half")
    parser.add_argument("--batch", type=int, default=50, help="orders confirmed per transaction")
    parser.add_argument("--rounds", type=int, default=2, help="without/with alternations")
    parser.add_argument("--db", default="wcj_bench_confirm")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    drop_db(args.db)
    seconds = run_odoo(args.db, "-i", DEPENDENCIES, "--without-demo=all")
    print(f"database {args.db} with {DEPENDENCIES}: {seconds:.0f} s")

    half = args.orders + args.batch
    registry = open_registry(args.db)
    with environment(registry) as env:
        order_ids = create_orders(env, 2 * half * args.rounds)
        env.cr.commit()

    baseline, with_addon = [], []
    for round_index in range(args.rounds):
        chunk = order_ids[2 * half * round_index:2 * half * (round_index + 1)]
        baseline_ids, addon_ids = chunk[:half], chunk[half:]
        # The first batch of each half warms the caches and is not measured.
        confirm(registry, baseline_ids[:args.batch], args.batch)
        baseline += confirm(registry, baseline_ids[args.batch:], args.batch)

        seconds = run_odoo(args.db, "-i", ADDON, "--without-demo=all")
        print(f"round {round_index + 1}: installed {ADDON} in {seconds:.0f} s")
        registry = open_registry(args.db)
        confirm(registry, addon_ids[:args.batch], args.batch)
        with_addon += confirm(registry, addon_ids[args.batch:], args.batch)

        if round_index + 1 < args.rounds:
            with environment(registry) as env:
                env["ir.module.module"].search([("name", "=", ADDON)]).button_immediate_uninstall()
            registry = open_registry(args.db)

    total = args.orders * args.rounds
    base_total, addon_total = sum(baseline), sum(with_addon)
    print(f"machine: {machine()}")
    print(f"without addon: {total} orders in {base_total:.2f} s "
          f"({total / base_total:.0f} orders/s, median batch {statistics.median(baseline):.3f} s)")
    print(f"with addon:    {total} orders in {addon_total:.2f} s "
          f"({total / addon_total:.0f} orders/s, median batch {statistics.median(with_addon):.3f} s)")
    print(f"ratio (time with / without): {addon_total / base_total:.3f}")
    if not args.keep_db:
        registry.delete(args.db)
        drop_db(args.db)


if __name__ == "__main__":
    main()
