#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mine cross-sell rules from the Online Retail file at 250k to 1M order lines and time them.

Creates ``--db`` with the addon and no demo data and imports the full file
with the command-line import. Then it makes one database per size from it:

- 250k: a copy that keeps only some of the real customers (chosen by a hash
  of their id) and drops the orders of the others;
- real: the imported file itself (388,364 order lines);
- 500k and 1M: copies where customer companies, their contacts, orders and
  order lines are copied with new ids and names, dates kept, until the size
  is reached.

For each size, in the same process, it times:

- the floor: one aggregate scan of the confirmed order lines that mining
  reads, grouped by customer company and product (best of two runs);
- ``_mine_rules`` at the default thresholds as of the day after the file's
  last invoice, with the peak memory of this process and of its PostgreSQL
  backend (VmHWM, reset just before the run);
- mlxtend ``fpgrowth`` (max_len=2) and ``association_rules`` on the same
  baskets (customer company -> products bought within the horizon), with the
  same support, confidence and lift, in a child process: its wall time
  (reading the baskets included) and its peak memory.

On the real file it prints the ten strongest product rules, then refreshes
the re-order cycles and times the suggestion generation twice on the rules
just mined (the second run adds nothing). With
``--families``, every product is filed under a product category named after
its kind, from a keyword list over its name. The category rules are then
mined too, and it prints the ten strongest of them. ``--reuse`` keeps the databases
that exist; ``--keep-db`` keeps them afterwards.
"""
import argparse
import json
import re
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from _bench_common import environment, machine, open_registry

import bench_reorder_cycles

AS_OF = bench_reorder_cycles.AS_OF
DEFAULT_FILE = bench_reorder_cycles.DEFAULT_FILE
# None: the imported file as it is.
SIZES = (("250k", 250_000), ("real", None), ("500k", 500_000), ("1M", 1_000_000))
# The child process of fpgrowth stops at this much address space.
FPGROWTH_MEMORY = 12 * 2**30

# Kinds of product for --families: the first keyword found in the name wins, so longer phrases
# come before the words they contain ("T-LIGHT" before "LIGHT", "WATER BOTTLE" before "BOTTLE").
FAMILIES = (
    "CAKE CASES", "CAKE STAND", "LUNCH BOX", "T-LIGHT", "TEA TOWEL", "DOORMAT", "HOT WATER BOTTLE",
    "WATER BOTTLE", "PHOTO FRAME", "NAPKINS", "BUNTING", "GARLAND", "CUSHION", "CANDLE", "HOLDER",
    "LANTERN", "LIGHTS", "LIGHT", "CLOCK", "BAG", "MUG", "CUP", "BOWL", "PLATE", "JAR", "TIN",
    "BOX", "CARD", "WRAP", "PAPER", "SIGN", "BOTTLE", "FRAME", "NOTEBOOK", "STICKER", "PEN",
    "DECORATION", "ORNAMENT", "HEART", "STAR", "TRAY", "VASE", "PURSE", "NECKLACE", "EARRINGS",
    "BRACELET", "RING", "UMBRELLA", "APRON", "GLOVES", "CHARM", "MAGNET", "BADGE", "BUCKET",
    "BASKET", "HOOK", "HANGER", "DRAWER", "CABINET", "MIRROR", "DOORSTOP", "PARASOL", "BELL",
    "WREATH", "EGG", "PARTY", "BALLOON", "GAME", "TOY", "DOLL", "SPOON", "CUTLERY", "BAKING",
    "TISSUE", "RIBBON", "STAMP", "CHALK", "CRAYON", "BLOCK",
)

LINES_SQL = """
      FROM sale_order_line sol
      JOIN sale_order so ON so.id = sol.order_id
      JOIN res_partner p ON p.id = so.partner_id
      JOIN product_product pp ON pp.id = sol.product_id
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
     WHERE so.state = 'sale' AND sol.display_type IS NULL AND pt.type = 'consu' AND sol.product_uom_qty > 0
       AND so.date_order >= %(since)s AND p.commercial_partner_id != ALL(%(own_ids)s)
"""

# The same lines as mining, one scan, grouped by customer company and product.
FLOOR_SQL = f"""
    SELECT p.commercial_partner_id, sol.product_id, MIN(so.date_order::date), SUM(sol.product_uom_qty)
      {LINES_SQL}
  GROUP BY 1, 2
"""

BASKETS_SQL = f"SELECT DISTINCT p.commercial_partner_id, sol.product_id {LINES_SQL}"

# Strongest: highest lift among the rules at the default support, ties by support.
TOP_SQL = """
    SELECT COALESCE(pa.default_code, ca.name), COALESCE(ta.name->>'en_US', ''),
           COALESCE(pb.default_code, cb.name), COALESCE(tb.name->>'en_US', ''),
           r.support, r.antecedent_customers, ROUND(r.confidence::numeric, 3), ROUND(r.lift::numeric, 1),
           r.median_quantity, ROUND(r.median_quantity_ratio::numeric, 2), r.median_delay
      FROM customer_journey_cross_sell_rule r
      LEFT JOIN product_product pa ON pa.id = r.antecedent_product_id
      LEFT JOIN product_template ta ON ta.id = pa.product_tmpl_id
      LEFT JOIN product_product pb ON pb.id = r.consequent_product_id
      LEFT JOIN product_template tb ON tb.id = pb.product_tmpl_id
      LEFT JOIN product_category ca ON ca.id = r.antecedent_categ_id
      LEFT JOIN product_category cb ON cb.id = r.consequent_categ_id
     WHERE r.level = %s AND r.origin = 'mined'
  ORDER BY r.lift DESC, r.support DESC, 1, 3
     LIMIT 10
"""


def psql(db, *statements):
    """Run ``statements`` on ``db`` with psql, each in its own transaction, and fail loudly."""
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db]
    for statement in statements:
        command += ["-c", statement]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: psql on {db} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def exists(db):
    return psql("postgres", "\\pset tuples_only on",
                f"SELECT COUNT(*) FROM pg_database WHERE datname = '{db}'").split()[-1] == "1"


def drop(db):
    import odoo.sql_db

    odoo.sql_db.close_db(db)
    subprocess.run(["dropdb", "--if-exists", db], check=True)


def drop_connections(db):
    import odoo.sql_db

    odoo.sql_db.close_db(db)


def confirmed_lines(db):
    return int(psql(db, "\\pset tuples_only on", "SELECT COUNT(*) FROM sale_order_line sol JOIN sale_order so "
                        "ON so.id = sol.order_id WHERE so.state = 'sale'").split()[-1])


# Customer companies of the file (no copies) with their number of confirmed order lines, in an
# order fixed by a hash of their id and a salt, and the running total of those lines.
CUSTOMERS_SQL = """
    WITH per AS (
        SELECT p.commercial_partner_id AS customer, COUNT(*) AS lines
          FROM sale_order_line sol JOIN sale_order so ON so.id = sol.order_id
          JOIN res_partner p ON p.id = so.partner_id
          JOIN res_partner c ON c.id = p.commercial_partner_id
         WHERE so.state = 'sale' AND c.name NOT LIKE '%(copy %'
      GROUP BY 1
    )
    SELECT customer, SUM(lines) OVER (ORDER BY md5(customer || '{salt}'), customer) AS running FROM per
"""


def make_subset(base, db, lines):
    """Create ``db`` from ``base`` with the orders of the first customers that add up to ``lines``."""
    psql("postgres", f"CREATE DATABASE {db} TEMPLATE {base}")
    psql(
        db,
        f"""
        CREATE TABLE bench_dropped AS
        SELECT customer FROM ({CUSTOMERS_SQL.format(salt='subset')}) c WHERE running > {lines};
        DELETE FROM sale_order so USING res_partner p, bench_dropped d
         WHERE p.id = so.partner_id AND p.commercial_partner_id = d.customer;
        DROP TABLE bench_dropped;
        """,
        "VACUUM FULL ANALYZE sale_order_line",
        "VACUUM FULL ANALYZE sale_order",
        "ANALYZE",
    )


def column_list(db, table):
    out = psql(db, "\\pset tuples_only on", "\\pset format unaligned",
               f"SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
               f"AND table_name = '{table}' AND column_name != 'id' AND is_generated = 'NEVER' "
               f"ORDER BY ordinal_position")
    return [name for name in out.split() if name]


def copy_statement(table, columns, source, overrides, new_id="m.new_id"):
    """Return INSERT … SELECT of ``columns`` of ``table`` from ``source`` (alias t), with ids ``new_id``."""
    expressions = [overrides.get(column, f"t.{column}") for column in columns]
    return (f"INSERT INTO {table} (id, {', '.join(columns)}) "
            f"SELECT {new_id}, {', '.join(expressions)} FROM {source}")


def make_scaled(base, db, lines):
    """Create ``db`` from ``base`` with copies of customers and their orders until it has ``lines`` order lines.

    A copy is a new customer company (and contacts) with its own copy of every order and order line of
    the original, on the same dates. Foreign keys are not checked while copying (the copies point to
    rows that exist), so a 1M build took 22 s.
    """
    psql("postgres", f"CREATE DATABASE {db} TEMPLATE {base}")
    partner_columns = column_list(db, "res_partner")
    order_columns = column_list(db, "sale_order")
    line_columns = column_list(db, "sale_order_line")
    copy = 0
    while (missing := lines - confirmed_lines(db)) > 0:
        copy += 1
        mapped = "COALESCE((SELECT new_id FROM bench_partner WHERE old_id = t.{0}), t.{0})"
        partners = copy_statement(
            "res_partner", partner_columns, "res_partner t JOIN bench_partner m ON m.old_id = t.id",
            {
                "name": f"t.name || ' (copy {copy})'",
                "complete_name": f"t.complete_name || ' (copy {copy})'",
                "ref": f"t.ref || '-{copy}'",
                "parent_id": mapped.format("parent_id"),
                "commercial_partner_id": mapped.format("commercial_partner_id"),
            },
        )
        partner_in = "(SELECT new_id FROM bench_partner WHERE old_id = t.{0})"
        orders = copy_statement(
            "sale_order", order_columns, "sale_order t JOIN bench_order m ON m.old_id = t.id",
            {
                "name": f"t.name || '-{copy}'",
                "journey_import_ref": f"t.journey_import_ref || '-{copy}'",
                "partner_id": partner_in.format("partner_id"),
                "partner_invoice_id": partner_in.format("partner_invoice_id"),
                "partner_shipping_id": partner_in.format("partner_shipping_id"),
            },
        )
        order_lines = copy_statement(
            "sale_order_line", line_columns,
            "sale_order_line t JOIN bench_order o ON o.old_id = t.order_id",
            {"order_id": "o.new_id", "order_partner_id": partner_in.format("order_partner_id")},
            new_id="nextval('sale_order_line_id_seq')",
        )
        psql(
            db,
            f"""
            SET session_replication_role = replica;
            CREATE TEMP TABLE bench_customer AS
            SELECT customer FROM ({CUSTOMERS_SQL.format(salt=copy)}) c
             WHERE running <= {missing} OR running = (SELECT MIN(running) FROM ({CUSTOMERS_SQL.format(salt=copy)}) f);
            CREATE TEMP TABLE bench_partner AS
            SELECT p.id AS old_id, nextval('res_partner_id_seq') AS new_id
              FROM res_partner p JOIN bench_customer b ON b.customer = p.commercial_partner_id;
            CREATE UNIQUE INDEX ON bench_partner (old_id);
            CREATE TEMP TABLE bench_order AS
            SELECT so.id AS old_id, nextval('sale_order_id_seq') AS new_id
              FROM sale_order so JOIN bench_partner m ON m.old_id = so.partner_id;
            CREATE UNIQUE INDEX ON bench_order (old_id);
            ANALYZE bench_partner; ANALYZE bench_order;
            {partners};
            {orders};
            {order_lines};
            """,
        )
    psql(db, "VACUUM ANALYZE")
    return copy


def file_families(env):
    """File every product under a category named after its kind (FAMILIES), "Other" when none matches.

    A keyword matches a whole word of the name, also in the plural ("BAGS", "BOXES"). The categories
    are children of a category "Families", made once and reused by later runs.
    """
    Category = env["product.category"]
    root = Category.search([("name", "=", "Families"), ("parent_id", "=", False)], limit=1) or Category.create(
        {"name": "Families"}
    )
    names = list(FAMILIES) + ["Other"]
    existing = {category.name: category.id for category in Category.search([("parent_id", "=", root.id)])}
    for name in names:
        if name not in existing:
            existing[name] = Category.create({"name": name, "parent_id": root.id}).id
    patterns = [(name, re.compile(rf"\b{re.escape(name)}(S|ES)?\b")) for name in FAMILIES]
    env.cr.execute("SELECT id, UPPER(name->>'en_US') FROM product_template")
    updates = {}
    for template_id, product_name in env.cr.fetchall():
        family = next((name for name, pattern in patterns if pattern.search(product_name or "")), "Other")
        updates.setdefault(family, []).append(template_id)
    for family, template_ids in updates.items():
        env.cr.execute("UPDATE product_template SET categ_id = %s WHERE id = ANY(%s)", (existing[family], template_ids))
    env.cr.execute("ANALYZE product_template")
    return {name: len(updates.get(name, [])) for name in names}


def vm_hwm(pid):
    """Return the peak resident memory (VmHWM) of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_hwm(pid):
    """Reset the peak resident memory of ``pid`` to its current size (Linux, needs the right to write)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def run_fpgrowth(db, since, own_ids, thresholds, timeout):
    """Run fpgrowth in a child process on the baskets of ``db``; return its measures (a dict)."""
    command = [sys.executable, __file__, "--fpgrowth-child", json.dumps({
        "db": db, "since": since.isoformat(), "own_ids": own_ids, "min_support": thresholds.min_support,
        "min_confidence": thresholds.min_confidence, "min_lift": thresholds.min_lift,
    })]
    started = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout} s", "seconds": time.monotonic() - started, "timeout": True}
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed",
                "seconds": time.monotonic() - started}
    return json.loads(result.stdout.strip().splitlines()[-1])


def fpgrowth_child(arguments):
    """In the child process: read the baskets, one-hot them, run fpgrowth and association_rules, print JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (FPGROWTH_MEMORY, FPGROWTH_MEMORY))
    started = time.monotonic()
    import numpy
    import pandas
    import psycopg2
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from scipy import sparse

    imported = time.monotonic()
    options = json.loads(arguments)
    with psycopg2.connect(dbname=options["db"]) as connection, connection.cursor() as cursor:
        cursor.execute(BASKETS_SQL, {"since": options["since"], "own_ids": options["own_ids"]})
        rows = numpy.array(cursor.fetchall(), dtype=numpy.int64).reshape(-1, 2)
    connection.close()
    customers, customer_index = numpy.unique(rows[:, 0], return_inverse=True)
    products, product_index = numpy.unique(rows[:, 1], return_inverse=True)
    matrix = sparse.csr_matrix(
        (numpy.ones(len(rows), dtype=bool), (customer_index, product_index)), shape=(len(customers), len(products))
    )
    # mlxtend wants sparse columns named by strings (or by integers from 0).
    baskets = pandas.DataFrame.sparse.from_spmatrix(matrix, columns=[str(product) for product in products])
    loaded = time.monotonic()
    frequent = fpgrowth(baskets, min_support=options["min_support"] / len(customers), use_colnames=True, max_len=2)
    mined = time.monotonic()
    rules = association_rules(frequent, num_itemsets=len(customers), metric="lift",
                              min_threshold=options["min_lift"])
    rules = rules[rules["confidence"] >= options["min_confidence"]]
    done = time.monotonic()
    print(json.dumps({
        "customers": len(customers), "baskets_items": len(rows), "itemsets": len(frequent), "rules": len(rules),
        "read_seconds": loaded - imported, "fpgrowth_seconds": mined - loaded, "rules_seconds": done - mined,
        "seconds": done - imported, "import_seconds": imported - started,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def measure(db, label, families, top, fpgrowth_timeout):
    """Time the floor, the mining and fpgrowth on ``db``; return a dict of the numbers."""
    registry = open_registry(db)
    with environment(registry) as env:
        Rule = env["customer.journey.cross.sell.rule"]
        if families:
            counts = file_families(env)
            env.cr.commit()
            print(f"families: {len(counts)} categories, products per family: "
                  + ", ".join(f"{name} {count}" for name, count in sorted(counts.items(), key=lambda i: -i[1])[:12])
                  + ", …", flush=True)
        thresholds = Rule._get_thresholds()
        since = AS_OF - timedelta(days=thresholds.horizon_days)
        own_ids = list(env["res.partner"]._journey_own_partner_ids()) or [0]
        env.cr.execute("SELECT COUNT(*) FROM sale_order_line sol JOIN sale_order so ON so.id = sol.order_id "
                       "WHERE so.state = 'sale'")
        lines = env.cr.fetchone()[0]
        env.cr.execute("ANALYZE")
        env.cr.commit()
        floors = []
        for _run in range(2):
            started = time.monotonic()
            env.cr.execute(FLOOR_SQL, {"since": since, "own_ids": own_ids})
            groups = len(env.cr.fetchall())
            floors.append(time.monotonic() - started)
        floor = min(floors)

        env.cr.execute("SELECT pg_backend_pid()")
        backend = env.cr.fetchone()[0]
        reset = reset_hwm(backend) and reset_hwm("self")
        started = time.monotonic()
        counts = Rule._mine_rules(today=AS_OF)
        mining = time.monotonic() - started
        backend_peak = vm_hwm(backend)
        python_peak = vm_hwm("self")
        env.cr.execute("SELECT level, COUNT(*) FROM customer_journey_cross_sell_rule WHERE origin = 'mined' "
                       "GROUP BY level")
        levels = dict(env.cr.fetchall())
        tops = {}
        for level in top:
            env.cr.execute(TOP_SQL, (level,))
            tops[level] = env.cr.fetchall()
        generation = None
        if top:
            # As at night, the generation runs after the mining committed: it analyzes the committed tables.
            env.cr.commit()
            generation = measure_generation(env)
            env.cr.execute("DELETE FROM customer_journey_suggestion")
            env.cr.execute("DELETE FROM customer_journey_cross_sell_rule WHERE origin = 'mined'")
            env.cr.commit()
        # Every size mines from an empty rule table: roll the rules back.
        env.cr.rollback()
    if fpgrowth_timeout:
        fp = run_fpgrowth(db, since, own_ids, thresholds, fpgrowth_timeout)
    else:
        fp = {"error": "not run", "seconds": float("nan")}
    return {
        "label": label, "lines": lines, "groups": groups, "floor": floor, "mining": mining, "counts": counts,
        "levels": levels, "backend_peak": backend_peak, "python_peak": python_peak, "peak_reset": reset,
        "fpgrowth": fp, "top": tops, "generation": generation,
    }


def measure_generation(env):
    """Refresh the re-order cycles, then time the suggestion generation twice on the rules just mined.

    Each run commits, as the nightly job does; the caller deletes the suggestions afterwards.

    :return: list of (seconds, counts) per run; the second run adds nothing
    """
    env["customer.journey.reorder.cycle"]._refresh_cycles(today=AS_OF)
    Suggestion = env["customer.journey.suggestion"]
    runs = []
    for _run in range(2):
        started = time.monotonic()
        counts = Suggestion._generate_suggestions(today=AS_OF)
        runs.append((time.monotonic() - started, counts))
        # As the nightly job, which commits: the next run analyzes the committed suggestions.
        env.cr.commit()
    env.cr.execute(
        "SELECT COUNT(*) FROM customer_journey_suggestion s JOIN customer_journey_cross_sell_rule r ON r.id = s.rule_id "
        "WHERE r.level = 'category'"
    )
    runs[0][1]["from_category_rules"] = env.cr.fetchone()[0]
    return runs


def print_rules(title, rows):
    print(f"\n{title}: A code | A name | B code | B name | support | customers of A | confidence | lift | "
          "typical qty of B | qty ratio B/A | delay (days)")
    for row in rows:
        print(" | ".join("" if value is None else str(value) for value in row))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="wcj_bm_cross_sell", help="database of the real file; the sizes add "
                        "suffixes to the name (default: %(default)s)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="CSV file (default: %(default)s)")
    parser.add_argument("--sizes", default=",".join(label for label, _lines in SIZES),
                        help="sizes to run, of %(default)s")
    parser.add_argument("--families", action="store_true",
                        help="file the products under categories named after their kind, so category rules exist")
    parser.add_argument("--reuse", action="store_true", help="keep the databases that exist and their data")
    parser.add_argument("--keep-db", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--fpgrowth-timeout", type=int, default=240,
                        help="seconds before fpgrowth is stopped; once stopped, larger sizes skip it; 0: never run "
                        "it (default: %(default)s)")
    parser.add_argument("--fpgrowth-child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.fpgrowth_child:
        return fpgrowth_child(options.fpgrowth_child)
    if not options.db.startswith("wcj_bm_"):
        sys.exit("error: --db must start with wcj_bm_")

    print("machine:", machine())
    started = time.monotonic()
    sizes = options.sizes.split(",")
    if not (options.reuse and exists(options.db)):
        bench_reorder_cycles.prepare(options.db, options.file)
    results = []
    fpgrowth_timeout = options.fpgrowth_timeout
    for label, lines in SIZES:
        if label not in sizes:
            continue
        db = options.db if lines is None else f"{options.db}_{label.lower()}"
        if db != options.db and not (options.reuse and exists(db)):
            drop(db)
            drop_connections(options.db)  # a template must have no open connection
            built = time.monotonic()
            if lines < confirmed_lines(options.db):
                make_subset(options.db, db, lines)
            else:
                copies = make_scaled(options.db, db, lines)
                print(f"{db}: {copies} rounds of copies", flush=True)
            print(f"{db}: {confirmed_lines(db)} confirmed order lines, built in {time.monotonic() - built:.0f} s",
                  flush=True)
        # --families files the products for good: later runs on a kept database mine family rules too.
        result = measure(db, label, options.families, ("product", "category") if lines is None else (),
                         fpgrowth_timeout)
        if result["fpgrowth"].get("timeout"):
            fpgrowth_timeout = 0  # it took longer at each larger size measured
        results.append(result)
        fp = result["fpgrowth"]
        print(f"{label}: {result['lines']} lines, floor {result['floor']:.2f} s, mining {result['mining']:.1f} s, "
              f"{result['counts']['rules']} rules {result['levels']}, fpgrowth "
              f"{fp.get('seconds', float('nan')):.1f} s {fp.get('rules', fp.get('error'))} rules", flush=True)
        for run, (seconds, counts) in enumerate(result["generation"] or (), start=1):
            print(f"{label}: suggestion generation run {run}: {seconds:.2f} s, {counts['reorder']} re-order and "
                  f"{counts['cross_sell']} cross-sell suggestions"
                  + (f" ({counts['from_category_rules']} from category rules)" if "from_category_rules" in counts else ""),
                  flush=True)
        if not options.keep_db and db != options.db:
            drop(db)

    print(f"\nmachine: {machine()}")
    print(f"as of {AS_OF}, default thresholds; peak memory: VmHWM (MiB) reset just before the mining; "
          "fpgrowth: child process, reading the baskets included, peak = its ru_maxrss")
    print("size | lines | customers | first purchases | floor s | mining s | mining/floor | mining peak MiB "
          "(python / postgres) | rules (product / category) | fpgrowth s (fpgrowth alone) | fpgrowth peak MiB | "
          "fpgrowth rules | mining/fpgrowth")
    for r in results:
        fp, counts = r["fpgrowth"], r["counts"]
        fp_seconds = fp.get("seconds", float("nan"))
        fp_text = (f"{fp_seconds:.1f} ({fp['fpgrowth_seconds'] + fp['rules_seconds']:.1f}) | {fp['peak_mib']:.0f} | "
                   f"{fp['rules']}" if "error" not in fp else f"{fp['error']} | - | -")
        print(f"{r['label']} | {r['lines']} | {counts['customers']} | {counts['items']} | {r['floor']:.2f} | "
              f"{r['mining']:.1f} | {r['mining'] / r['floor']:.1f} | {r['python_peak']:.0f} / {r['backend_peak']:.0f}"
              f"{'' if r['peak_reset'] else ' (not reset)'} | {r['levels'].get('product', 0)} / "
              f"{r['levels'].get('category', 0)} | {fp_text} | {r['mining'] / fp_seconds:.2f}"
              f"{' (at most)' if fp.get('timeout') else ''}")
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last["lines"] / first["lines"]
        print(f"scaling {first['label']} -> {last['label']}: lines x{growth:.2f}, floor "
              f"x{last['floor'] / first['floor']:.2f}, mining x{last['mining'] / first['mining']:.2f}")
    for r in results:
        for level, rows in r["top"].items():
            if rows or level == "product":
                print_rules(f"ten strongest {level} rules on the {r['label']} file ({r['levels'].get(level, 0)} "
                            f"{level} rules)", rows)
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")
    if not options.keep_db:
        drop(options.db)


if __name__ == "__main__":
    main()
