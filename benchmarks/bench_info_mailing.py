#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time queueing product information mails against Odoo's own mass mailing.

The script creates a database with the addon (no demo data). It inserts in
SQL ``--customers`` customer companies, each with one contact who has an
email address and prefers email. It creates one open opportunity per
contact through the ORM, and 20 products in two categories, two of them
with a datasheet to attach. Every second customer gets a discount
pricelist, the others the default one. The product information rule has
the trigger "Product Interest Recorded", the audience leads and all 20
products. The script then inserts one product interest per customer,
recorded after the rule's "Events From", so every lead is due.

It times ``_run_info_rules(rule, batch_size=--batch, commit=True)`` from
nothing queued to every mail in the mail queue (``mail.mail`` in state
Outgoing), split into the selection (phase 1) and the batches (phase 2),
and counts the SQL queries of each batch. The baseline, in the same run and
database, is Odoo's mass mailing of one ``mailing.mailing`` on the same
leads through ``action_send_mail`` (the mass mail composer), with
``mail.batch_size`` set to the same batch size. Its body is the rule's mail
rendered once, so it shows the same products, with the contact's name as
the only placeholder. The baseline runs first, so the rule's run meets the
larger mail tables.

No mail leaves the database: the mail queue's scheduled action is archived
and nothing runs the queue. The mails stay Outgoing until the database is
dropped.

Usage: benchmarks/bench_info_mailing.py [--customers 10000] [--batch 200] [--keep-db]
"""
import argparse
import base64
import os
import statistics
import time
from datetime import timedelta
from unittest.mock import patch

from _bench_common import ADDON, drop_db, environment, machine, open_registry, run_odoo

PRODUCTS = 20
TARGET_SECONDS = 60


def insert_customers(env, customers):
    """Insert ``customers`` customer companies and one contact each in SQL, and return the contact ids."""
    cr = env.cr
    stage = env.ref("wholesale_customer_journey.stage_consideration")
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, is_company, active, type, autopost_bills, email,
                                 email_normalized, journey_stage_id, journey_stage_date,
                                 journey_preferred_channel, journey_is_company, lang, create_date, write_date)
        SELECT 'Bench customer ' || n, 'Bench customer ' || n, TRUE, TRUE, 'contact', 'ask',
               'info' || n || '@bench.example', 'info' || n || '@bench.example', %s,
               NOW() - INTERVAL '30 days', 'email', TRUE, 'en_US', NOW(), NOW()
          FROM generate_series(1, %s) n
        """,
        [stage.id, customers],
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'Bench customer %' AND commercial_partner_id IS NULL"
    )
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, parent_id, commercial_partner_id, is_company, active, type,
                                 autopost_bills, email, email_normalized, journey_preferred_channel,
                                 journey_is_company, lang, create_date, write_date)
        SELECT 'Contact ' || c.id, c.name || ', Contact ' || c.id, c.id, c.id, FALSE, TRUE, 'contact', 'ask',
               'buyer' || c.id || '@bench.example', 'buyer' || c.id || '@bench.example', 'email', FALSE,
               'en_US', NOW(), NOW()
          FROM res_partner c
         WHERE c.name LIKE 'Bench customer %'
     RETURNING id
        """
    )
    return sorted(row[0] for row in cr.fetchall())


def create_leads(env, contact_ids):
    """Create one open opportunity per contact through the ORM, in batches, and return their ids."""
    Lead = env["crm.lead"].with_context(
        tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True, journey_no_capture=True
    )
    stage = env.ref("crm.stage_lead1")
    lead_ids = []
    for start in range(0, len(contact_ids), 1000):
        leads = Lead.create(
            [
                {
                    "name": f"Bench opportunity {contact_id}",
                    "type": "opportunity",
                    "partner_id": contact_id,
                    "stage_id": stage.id,
                    "user_id": env.user.id,
                }
                for contact_id in contact_ids[start:start + 1000]
            ]
        )
        lead_ids += leads.ids
        env.flush_all()
        env.invalidate_all()
    return lead_ids


def create_products(env):
    """Create the products, two datasheets and the pricelists, and return the product templates."""
    categories = env["product.category"].create([{"name": f"Bench category {n}"} for n in range(2)])
    products = env["product.template"].create(
        [
            {
                "name": f"Bench product {n}",
                "type": "consu",
                "categ_id": categories[n % 2].id,
                "list_price": 10 + n,
                "sale_ok": True,
                "description_sale": f"Bench product {n}: 25 kg bag, pallet of 40 bags.",
            }
            for n in range(PRODUCTS)
        ]
    )
    env["product.document"].create(
        [
            {
                "name": f"Datasheet {product.name}.pdf",
                "res_model": "product.template",
                "res_id": product.id,
                "datas": base64.b64encode(b"%PDF-1.4 bench datasheet"),
                "attached_on_sale": "quotation",
            }
            for product in products[:2]
        ]
    )
    Pricelist = env["product.pricelist"]
    Pricelist.create({"name": "Bench list price", "sequence": 1})
    discount = Pricelist.create(
        {
            "name": "Bench wholesale",
            "sequence": 2,
            "item_ids": [
                (0, 0, {"compute_price": "percentage", "percent_price": 10, "applied_on": "3_global"}),
            ],
        }
    )
    # Every second customer company gets the discount pricelist, the others the default.
    env.flush_all()
    env.cr.execute(
        """
        UPDATE res_partner SET specific_property_product_pricelist = jsonb_build_object(%s::text, %s)
         WHERE name LIKE 'Bench customer %%' AND id %% 2 = 0
        """,
        [env.company.id, discount.id],
    )
    return products


def create_rule(env, products):
    return env["customer.journey.info.rule"].create(
        {
            "name": "Bench product information",
            "trigger": "interest",
            "target": "lead",
            "product_ids": [(6, 0, products.ids)],
            "max_products": 5,
            "date_start": env.cr.now() - timedelta(days=1),
        }
    )


def insert_interests(env, products):
    """Insert one product interest per customer company, an hour old, linked to its lead."""
    env.cr.execute(
        """
        INSERT INTO customer_journey_interest (partner_id, product_tmpl_id, lead_id, date, user_id, company_id,
                                               create_uid, create_date, write_uid, write_date)
        SELECT p.commercial_partner_id, (%(products)s::int[])[1 + l.id %% %(count)s], l.id,
               NOW() - INTERVAL '1 hour', %(uid)s, %(company)s, %(uid)s, NOW(), %(uid)s, NOW()
          FROM crm_lead l
          JOIN res_partner p ON p.id = l.partner_id
         WHERE l.name LIKE 'Bench opportunity %%'
        """,
        {"products": products.ids, "count": len(products), "uid": env.uid, "company": env.company.id},
    )


def render_static_body(env, rule, lead):
    """Return the rule's mail for ``lead`` rendered once, with the contact's name as placeholder.

    The baseline mailing sends this body to every lead, so both runs queue
    mails of the same size and links.
    """
    Send = env["customer.journey.info.send"]
    customer = lead.partner_id.commercial_partner_id
    item = {"send_id": 0, "res_id": lead.id, "customer_id": customer.id, "occurrence_key": "sample,0"}
    plan = Send._plan_items(rule, [item])[0]
    payload = Send._get_render_payload(rule, [plan])
    rendered = rule.mail_template_id.with_context(journey_info_payload=payload)._generate_template(
        [lead.id], ["body_html"]
    )
    body = str(rendered[lead.id]["body_html"])
    placeholder = "<t t-out=\"object.contact_name or ''\">Customer</t>"
    return body.replace(f"Dear {lead.contact_name}", f"Dear {placeholder}", 1)


def count_outgoing(env, mailing):
    env.cr.execute(
        "SELECT state, COUNT(*) FROM mail_mail WHERE mailing_id = %s GROUP BY state", [mailing.id]
    )
    return dict(env.cr.fetchall())


def batch_stats(marks, end_count, end_time):
    """Return [(queries, seconds)] per batch from the (time, query count) at each batch start."""
    bounds = marks + [(end_time, end_count)]
    return [
        (bounds[index + 1][1] - count, bounds[index + 1][0] - started)
        for index, (started, count) in enumerate(marks)
    ]


def run_info_rule(registry, rule_id, batch_size):
    """Run the rule with its batches committed, and return phase timings and per-batch query counts.

    A batch counts from the start of its dispatch to the start of the next
    one: its planning, mails, results, progress notice and commit, and the
    locking SELECT of the next batch.
    """
    with environment(registry) as env:
        Send = env["customer.journey.info.send"]
        rule = env["customer.journey.info.rule"].browse(rule_id)
        send_class = type(Send)
        original_dispatch = send_class._dispatch
        original_pending = send_class._dispatch_pending
        marks, phase2 = [], {}

        def dispatch(sends):
            marks.append((time.perf_counter(), sends.env.cr.sql_log_count))
            return original_dispatch(sends)

        def dispatch_pending(model, rules, **kwargs):
            phase2["start"] = (time.perf_counter(), model.env.cr.sql_log_count)
            return original_pending(model, rules, **kwargs)

        with patch.object(send_class, "_dispatch", dispatch), patch.object(
            send_class, "_dispatch_pending", dispatch_pending
        ):
            query_start = env.cr.sql_log_count
            started = time.perf_counter()
            totals = Send._run_info_rules(rule, batch_size=batch_size, commit=True)
            env.cr.commit()
            ended = time.perf_counter()
            query_end = env.cr.sql_log_count
        outgoing = count_outgoing(env, rule.mailing_id)
    phase2_start, phase2_queries = phase2["start"]
    return {
        "totals": totals,
        "outgoing": outgoing,
        "total_time": ended - started,
        "phase1_time": phase2_start - started,
        "phase1_queries": phase2_queries - query_start,
        "phase2_time": ended - phase2_start,
        "phase2_queries": query_end - phase2_queries,
        "batches": batch_stats(marks, query_end, ended),
    }


def run_baseline(registry, lead_ids, body, batch_size):
    """Queue one Odoo mass mailing to the leads through the composer, and return timings and per-batch queries."""
    with environment(registry) as env:
        env["ir.config_parameter"].set_param("mail.batch_size", batch_size)
        mailing = env["mailing.mailing"].create(
            {
                "subject": "Product information (Odoo mass mailing)",
                "mailing_model_id": env["ir.model"]._get_id("crm.lead"),
                "mailing_domain": repr([("id", "in", lead_ids)]),
                "body_arch": body,
                "body_html": body,
                "email_from": env.user.email_formatted,
                "journey_lead_creation": "off",
            }
        )
        env.cr.commit()
        Composer = env["mail.compose.message"]
        composer_class = type(Composer)
        original_prepare = composer_class._prepare_mail_values
        marks = []

        def prepare_mail_values(composer, res_ids):
            marks.append((time.perf_counter(), composer.env.cr.sql_log_count))
            return original_prepare(composer, res_ids)

        with patch.object(composer_class, "_prepare_mail_values", prepare_mail_values):
            query_start = env.cr.sql_log_count
            started = time.perf_counter()
            mailing.action_send_mail()
            env.cr.commit()
            ended = time.perf_counter()
            query_end = env.cr.sql_log_count
        outgoing = count_outgoing(env, mailing)
    return {
        "outgoing": outgoing,
        "total_time": ended - started,
        "queries": query_end - query_start,
        "batches": batch_stats(marks, query_end, ended),
    }


def describe_batches(batches):
    """Return the min/median/max queries and the median seconds of the batches as a line."""
    queries = [count for count, _seconds in batches]
    seconds = [duration for _count, duration in batches]
    return (
        f"{len(batches)} batches, queries per batch min {min(queries)} / median {statistics.median(queries):.0f}"
        f" / max {max(queries)}, seconds per batch median {statistics.median(seconds):.3f}"
    )


def growth(batches):
    """Return the median queries of the first and of the last fifth of the full batches."""
    full = batches[:-1] if len(batches) > 1 else batches
    fifth = max(len(full) // 5, 1)
    first = statistics.median(count for count, _seconds in full[:fifth])
    last = statistics.median(count for count, _seconds in full[-fifth:])
    return first, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000, help="customer companies, leads and interests")
    parser.add_argument("--batch", type=int, default=200, help="sends per committed batch, for both runs")
    parser.add_argument("--db", default="wcj_b_info_mailing")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (its mails stay queued)")
    args = parser.parse_args()

    drop_db(args.db)
    seconds = run_odoo(args.db, "-i", ADDON, "--without-demo=all")
    print(f"database {args.db} with {ADDON}, no demo data: {seconds:.0f} s")
    registry = open_registry(args.db)
    with environment(registry) as env:
        # An Odoo server started on a kept database must not send the queued mails.
        env.ref("mail.ir_cron_mail_scheduler_action").active = False
        env.company.email = "sales@bench.example"
        started = time.perf_counter()
        contact_ids = insert_customers(env, args.customers)
        env.cr.commit()
        lead_ids = create_leads(env, contact_ids)
        products = create_products(env)
        rule = create_rule(env, products)
        insert_interests(env, products)
        env.cr.commit()
        env.cr.execute("ANALYZE")
        env.cr.commit()
        counts = {}
        for table in ("res_partner", "crm_lead", "customer_journey_interest", "product_template"):
            env.cr.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed table names)
            counts[table] = env.cr.fetchone()[0]
        print(f"data created in {time.perf_counter() - started:.1f} s: {counts}")
        rule_id = rule.id
        body = render_static_body(env, rule, env["crm.lead"].browse(lead_ids[0]))
        env.cr.rollback()

    # Other processes on the machine sway both timings: record the load before each run.
    baseline_load = os.getloadavg()[0]
    baseline = run_baseline(registry, lead_ids, body, args.batch)
    with environment(registry) as env:
        env.cr.execute("ANALYZE")
    ours_load = os.getloadavg()[0]
    ours = run_info_rule(registry, rule_id, args.batch)

    print(f"machine: {machine()}")
    print(f"load average (1 min) before the baseline: {baseline_load:.2f}, before the rule's run: {ours_load:.2f}, "
          f"after both: {os.getloadavg()[0]:.2f}")
    print(f"{args.customers} customers, leads and interests, batches of {args.batch}")
    print()
    rows = [
        ("product information: phase 1 (selection, insert of pending sends)",
         f"{ours['phase1_time']:.2f} s", f"{ours['phase1_queries']} queries"),
        ("product information: phase 2 (dispatch to the mail queue)",
         f"{ours['phase2_time']:.2f} s", f"{ours['phase2_queries']} queries"),
        ("product information: total", f"{ours['total_time']:.2f} s", f"{ours['outgoing']}"),
        ("Odoo mass mailing (baseline): action_send_mail", f"{baseline['total_time']:.2f} s",
         f"{baseline['queries']} queries, {baseline['outgoing']}"),
    ]
    width = max(len(row[0]) for row in rows)
    for label, duration, detail in rows:
        print(f"{label:<{width}}  {duration:>9}  {detail}")
    print()
    print(f"product information batches: {describe_batches(ours['batches'])}")
    first, last = growth(ours["batches"])
    print(f"  median queries of the first / last fifth of the full batches: {first:.0f} / {last:.0f}")
    print(f"Odoo mass mailing batches:   {describe_batches(baseline['batches'])}")
    print(f"sends: {ours['totals']}")
    print(f"ratio product information / Odoo mass mailing: {ours['total_time'] / baseline['total_time']:.2f}")
    met = ours["total_time"] <= TARGET_SECONDS * args.customers / 10_000
    print(f"target {TARGET_SECONDS} s per 10,000 recipients: {'met' if met else 'NOT met'}")

    if not args.keep_db:
        registry.delete(args.db)
        drop_db(args.db)


if __name__ == "__main__":
    main()
