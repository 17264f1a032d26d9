#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time the live member count of a customer segment over many customers.

The script creates a database with the addon (no demo data). It inserts in
SQL ``--customers`` customer companies with a journey stage, a country, a
tag and a preferred channel. Each gets 0-3 confirmed orders with two lines
in ten product categories, dated over two years, and 0-3 touchpoints in the
last year. It then times ``member_count`` of a segment that uses the stage, country,
tag, bought product categories, no-order and touchpoint criteria together,
and a plain ``search_count`` of all customer companies as baseline. Each
count runs ``--repeat`` times and the median is reported.

Usage: benchmarks/bench_segment_count.py [--customers 100000] [--repeat 7]
"""
import argparse
import os
import statistics
import time

from _bench_common import ADDON, drop_db, environment, machine, open_registry, run_odoo

CATEGORIES = 10


def insert_customers(env, customers):
    """Insert customers, orders with lines, tags and touchpoints in SQL."""
    cr = env.cr
    stage_ids = env["customer.journey.stage"].search([], order="sequence").ids
    country_ids = [env.ref(f"base.{code}").id for code in ("be", "nl", "fr", "de")]
    tags = env["res.partner.category"].create([{"name": f"Bench tag {n}"} for n in range(5)])
    categories = env["product.category"].create([{"name": f"Bench category {n}"} for n in range(CATEGORIES)])
    products = env["product.product"].create(
        [{"name": f"Bench product {n}", "type": "consu", "categ_id": category.id} for n, category in enumerate(categories)]
    )
    env.flush_all()

    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, is_company, active, type, autopost_bills, email,
                                 email_normalized, country_id, journey_stage_id, journey_stage_date,
                                 journey_preferred_channel, journey_is_company, create_date, write_date)
        SELECT 'Bench customer ' || n, 'Bench customer ' || n, TRUE, TRUE, 'contact', 'ask',
               'info' || n || '@bench.example', 'info' || n || '@bench.example',
               (%(countries)s::int[])[1 + n %% 4], (%(stages)s::int[])[1 + n %% %(stage_count)s],
               NOW() - (n %% 400) * INTERVAL '1 day',
               (ARRAY['email', 'phone', 'visit', 'none'])[1 + n %% 4], TRUE, NOW(), NOW()
          FROM generate_series(1, %(customers)s) n
        """,
        {"countries": country_ids, "stages": stage_ids, "stage_count": len(stage_ids), "customers": customers},
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'Bench customer %' AND commercial_partner_id IS NULL"
    )
    cr.execute(
        """
        INSERT INTO res_partner_res_partner_category_rel (category_id, partner_id)
        SELECT (%s::int[])[1 + p.id %% 5], p.id FROM res_partner p WHERE p.name LIKE 'Bench customer %%'
        """,
        [tags.ids],
    )

    # Customer n gets n % 4 orders, dated over the last two years.
    cr.execute(
        """
        INSERT INTO sale_order (name, partner_id, partner_invoice_id, partner_shipping_id, company_id,
                                currency_id, state, date_order, create_date, write_date)
        SELECT 'BENCH/' || p.id || '/' || k, p.id, p.id, p.id, 1, c.currency_id, 'sale',
               NOW() - ((p.id * 7 + k * 131) % 730) * INTERVAL '1 day', NOW(), NOW()
          FROM res_partner p
          JOIN res_company c ON c.id = 1
         CROSS JOIN LATERAL generate_series(1, p.id % 4) k
         WHERE p.name LIKE 'Bench customer %'
        """
    )
    cr.execute(
        """
        INSERT INTO sale_order_line (order_id, name, product_id, product_uom_qty, price_unit, customer_lead,
                                     company_id, currency_id, state, create_date, write_date)
        SELECT o.id, 'Bench line', (%s::int[])[1 + (o.id + k * 3) %% %s], 5, 10, 0, 1, o.currency_id, 'sale',
               NOW(), NOW()
          FROM sale_order o
         CROSS JOIN generate_series(1, 2) k
         WHERE o.name LIKE 'BENCH/%%'
        """,
        [products.ids, CATEGORIES],
    )

    cr.execute(
        """
        INSERT INTO customer_journey_touchpoint (name, partner_id, date, channel, direction, kind, origin,
                                                 company_id, create_date, write_date)
        SELECT '{"en_US": "Bench call"}'::jsonb, p.id, NOW() - ((p.id * 13 + k * 37) % 365) * INTERVAL '1 day',
               'phone', 'outbound', 'direct', 'manual', 1, NOW(), NOW()
          FROM res_partner p
         CROSS JOIN LATERAL generate_series(1, p.id % 4) k
         WHERE p.name LIKE 'Bench customer %'
        """
    )
    return stage_ids, country_ids, tags, categories


def timed_count(env, count, repeat):
    timings = []
    result = None
    for _round in range(repeat):
        env.invalidate_all()
        started = time.perf_counter()
        result = count()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", default="wcj_bench_segment")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    drop_db(args.db)
    run_odoo(args.db, "-i", ADDON, "--without-demo=all")
    registry = open_registry(args.db)
    with environment(registry) as env:
        started = time.perf_counter()
        stage_ids, country_ids, tags, categories = insert_customers(env, args.customers)
        env.cr.execute("ANALYZE")
        env.cr.commit()
        counts = {}
        for table in ("res_partner", "sale_order", "sale_order_line", "customer_journey_touchpoint"):
            env.cr.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed table names)
            counts[table] = env.cr.fetchone()[0]
        print(f"data inserted in {time.perf_counter() - started:.1f} s: {counts}")

        segment = env["customer.journey.segment"].create(
            {
                "name": "Bench segment",
                "stage_ids": [(6, 0, stage_ids[2:])],
                "country_ids": [(6, 0, country_ids[:2])],
                "tag_ids": [(6, 0, tags[:3].ids)],
                "product_category_ids": [(6, 0, categories[:3].ids)],
                "bought_days": 365,
                "no_order_days": 60,
                "touchpoint_days": 90,
            }
        )
        env.cr.commit()
        segment_time, members = timed_count(env, lambda: segment.member_count, args.repeat)
        baseline_time, customers = timed_count(
            env, lambda: env["res.partner"].search_count([("journey_is_company", "=", True)]), args.repeat
        )
        print(f"segment member_count: {segment_time:.3f} s (median of {args.repeat}), {members} members")
        print(f"baseline search_count of customer companies: {baseline_time:.3f} s, {customers} customers")
        print(f"ratio segment / baseline: {segment_time / baseline_time:.1f}")
        refresh_time, __ = timed_count(env, segment._refresh_members, 3)
        print(f"membership refresh (stored member table): {refresh_time:.3f} s (median of 3)")

    print(f"load average during the run: {os.getloadavg()}")
    print(f"machine: {machine()}")
    if not args.keep_db:
        registry.delete(args.db)
        drop_db(args.db)


if __name__ == "__main__":
    main()
