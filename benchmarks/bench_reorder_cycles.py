#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mine re-order cycles from the full Online Retail file and time the refresh.

Creates ``--db`` with the addon and no demo data, imports the file with the
command-line import, then times in the same process:

- the floor: one aggregate scan of the same confirmed order lines, grouped by
  customer company and product (purchase days and quantity);
- ``_refresh_cycles`` as of the day after the file's last invoice.

It prints the number of cycles, how many are regular, the ratio refresh /
floor, and the ten most regular cycles, one per customer (lowest spread,
then most purchase days). ``--reuse`` skips the install and import when the database exists.
"""
import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from _bench_common import ADDON, PROJECT_ROOT, drop_db, environment, machine, open_registry, run_odoo

DEFAULT_FILE = PROJECT_ROOT.parent / "shared" / "datasets" / "online-retail" / "online_retail_2010-12_2011-12.csv.gz"
LAUNCHER = PROJECT_ROOT / "scripts" / "import-sales-history"
# The day after the file's last invoice (2011-12-09): the cycles as the wholesaler saw them then.
AS_OF = date(2011, 12, 10)

FLOOR_SQL = """
    SELECT p.commercial_partner_id, sol.product_id, COUNT(DISTINCT so.date_order::date), SUM(sol.product_uom_qty)
      FROM sale_order_line sol
      JOIN sale_order so ON so.id = sol.order_id
      JOIN res_partner p ON p.id = so.partner_id
      JOIN product_product pp ON pp.id = sol.product_id
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
     WHERE so.state = 'sale' AND sol.display_type IS NULL AND pt.type = 'consu'
  GROUP BY 1, 2
"""

TOP_SQL = """
    SELECT * FROM (
        SELECT DISTINCT ON (c.partner_id)
               p.ref, pp.default_code, pt.name->>'en_US' AS product, c.purchase_days, c.median_interval,
               c.spread, c.typical_quantity, c.last_date, c.next_date
          FROM customer_journey_reorder_cycle c
          JOIN res_partner p ON p.id = c.partner_id
          JOIN product_product pp ON pp.id = c.product_id
          JOIN product_template pt ON pt.id = pp.product_tmpl_id
         WHERE c.regular
      ORDER BY c.partner_id, c.spread, c.purchase_days DESC, pp.default_code
    ) best
  ORDER BY spread, purchase_days DESC, median_interval, ref
     LIMIT 10
"""

# Cycles with no spread at all: one weekly customer can fill a plain top ten by itself.
TOP_CUSTOMER_SQL = """
    SELECT p.ref, COUNT(*) FROM customer_journey_reorder_cycle c JOIN res_partner p ON p.id = c.partner_id
     WHERE c.regular AND c.spread = 0
  GROUP BY p.ref ORDER BY 2 DESC LIMIT 3
"""


def prepare(db, path):
    """Create ``db`` with the addon and import ``path`` into it."""
    drop_db(db)
    subprocess.run(["createdb", db], check=True)
    seconds = run_odoo(db, "-i", ADDON, "--without-demo=all")
    print(f"database {db} with {ADDON}, no demo data: {seconds:.0f} s", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(LAUNCHER), "--database", db, "--tz", "Europe/London", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"error: the import into {db} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    print(f"imported {path.name} in {time.monotonic() - started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="wcj_b_cycles")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="CSV file (default: %(default)s)")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database and its import")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()

    print("machine:", machine())
    if not options.reuse:
        prepare(options.db, options.file)
    registry = open_registry(options.db)
    with environment(registry) as env:
        env.cr.execute("SELECT COUNT(*) FROM sale_order_line sol JOIN sale_order so ON so.id = sol.order_id "
                       "WHERE so.state = 'sale'")
        lines = env.cr.fetchone()[0]
        env.cr.execute("ANALYZE")

        started = time.monotonic()
        env.cr.execute(FLOOR_SQL)
        pairs = len(env.cr.fetchall())
        floor = time.monotonic() - started

        started = time.monotonic()
        cycles = env["customer.journey.reorder.cycle"]._refresh_cycles(today=AS_OF)
        refresh = time.monotonic() - started
        env.cr.execute("SELECT COUNT(*) FILTER (WHERE regular), COUNT(DISTINCT partner_id) "
                       "FROM customer_journey_reorder_cycle")
        regular, customers = env.cr.fetchone()
        env.cr.execute(TOP_SQL)
        top = env.cr.fetchall()
        env.cr.execute(TOP_CUSTOMER_SQL)
        clockwork = env.cr.fetchall()
        env.cr.commit()

    print(f"\n{lines} confirmed order lines, {pairs} customer/product pairs")
    print(f"floor: one aggregate scan of the lines          {floor:7.2f} s")
    print(f"refresh of the re-order cycles (as of {AS_OF})  {refresh:7.2f} s   ratio {refresh / floor:.1f}")
    print(f"cycles: {cycles} ({regular} regular, {cycles - regular} irregular) of {customers} customers")
    print(f"customers with the most cycles of spread 0: {clockwork}")
    print("\nten most regular cycles, the best of each customer: "
          "customer | code | product | days | interval | spread | qty | last | next")
    for row in top:
        print(" | ".join(str(value) for value in row))
    if not options.keep_db:
        drop_db(options.db)


if __name__ == "__main__":
    main()
