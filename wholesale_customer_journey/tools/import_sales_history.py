# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Import a sales-history CSV file into an Odoo database from the command line.

For files too large for an upload in the web client. Each batch of orders is
committed, so an interrupted import keeps what it did, and running it again
completes it. Usage, with the addon installed into ``odoo.addons`` (``pip
install .``)::

    python3 -m odoo.addons.wholesale_customer_journey.tools.import_sales_history \\
        --database DB --addons-path /path/to/project,/path/to/odoo/addons \\
        --tz Europe/London [--encoding latin-1] [--decimal-separator comma] \\
        [--date-format day_first] [--map invoice=InvoiceNo ...] FILE

From a source checkout, ``scripts/import-sales-history`` takes the same
arguments. The summary goes to stdout, progress and errors to stderr. Exit
status: 0 when imported, 1 when the file or the database is rejected, 2 for
invalid arguments.
"""
import argparse
import resource
import sys
import time

from .sales_history import (
    DATE_FORMATS,
    DECIMAL_SEPARATORS,
    DEFAULT_DATE_FORMAT,
    DEFAULT_ENCODING,
    DEFAULT_MAX_QUANTITY,
    DEFAULT_NON_PRODUCT_CODES,
    FIELDS,
    SkipReport,
)

ADDON = "wholesale_customer_journey"
IMPORT_MODEL = "customer.journey.sales.import"
# Keep in sync with DEFAULT_BATCH_SIZE of models/sales_history_import.py,
# which cannot be imported before the Odoo configuration is parsed.
DEFAULT_BATCH_SIZE = 200


# This text is %-formatted twice, below and by argparse for %(default)s, so a
# literal "%" is written "%%%%".
DATE_FORMAT_HELP = (
    "format of the invoice dates, one of: %s. Day and month may have one or two digits. "
    "A time may follow, with or without seconds, and outside iso it may end in AM or PM. "
    "Only on the command line, a Python strptime format is accepted too, recognised by its "
    "%%%% codes, for example %%%%d/%%%%m/%%%%y %%%%H:%%%%M (default: %%(default)s)"
) % ", ".join("%s = %s" % (key, date_format.label) for key, date_format in DATE_FORMATS.items())


def build_parser():
    parser = argparse.ArgumentParser(
        prog="import_sales_history",
        description=(
            "Import a sales-history CSV file (.csv or .csv.gz) as historical sale orders. "
            "The file is validated first: if a line is invalid, nothing is imported."
        ),
    )
    parser.add_argument("file", help="CSV file, plain or compressed with gzip")
    parser.add_argument("-d", "--database", required=True, help="database with %s installed" % ADDON)
    parser.add_argument("-c", "--config", help="Odoo configuration file")
    parser.add_argument("--addons-path", help="Odoo addons path, comma-separated, including this project")
    parser.add_argument("--db_host", help="PostgreSQL host")
    parser.add_argument("--db_port", help="PostgreSQL port")
    parser.add_argument("--db_user", help="PostgreSQL user")
    parser.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="encoding of the file, for example latin-1 or cp1252 (default: %(default)s)",
    )
    parser.add_argument("--delimiter", default=",", help="column delimiter (default: %(default)s)")
    parser.add_argument(
        "--decimal-separator",
        choices=list(DECIMAL_SEPARATORS),
        default="point",
        help="decimal separator of quantities and unit prices: point (1,234.56, where a comma "
        "may separate thousands) or comma (1.234,56, where a point may separate thousands) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--date-format",
        type=date_format_argument,
        default=DEFAULT_DATE_FORMAT,
        metavar="FORMAT",
        help=DATE_FORMAT_HELP,
    )
    parser.add_argument(
        "--tz",
        help="time zone of the invoice dates, for example Europe/London "
        "(default: the time zone of the superuser, else UTC)",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="column of the file that contains FIELD, one of: %s. Repeat the option for each "
        "field. An empty COLUMN marks description or country as absent." % ", ".join(FIELDS),
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help="invoices per committed batch (default: %(default)s)",
    )
    parser.add_argument(
        "--max-quantity",
        type=int,
        default=DEFAULT_MAX_QUANTITY,
        help="skip lines with a larger quantity, 0 for no maximum (default: %(default)s)",
    )
    parser.add_argument(
        "--non-product-codes",
        default=",".join(DEFAULT_NON_PRODUCT_CODES),
        help="comma-separated stock codes that are not products, * matches any text "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--salesperson",
        metavar="LOGIN",
        help="login of the internal user who becomes the salesperson of the customers the import creates",
    )
    parser.add_argument("--skip-report", metavar="CSV", help="write every skipped line with its reason to this file")
    parser.add_argument(
        "--log-level",
        default="warn",
        choices=["debug", "info", "warn", "error", "critical"],
        help="Odoo log level (default: %(default)s)",
    )
    return parser


def date_format_argument(value):
    """Return ``value`` if it is a key of DATE_FORMATS or a strptime format."""
    if value in DATE_FORMATS or "%" in value:
        return value
    raise argparse.ArgumentTypeError(
        "unknown date format %r: use one of %s, or a strptime format with %% codes"
        % (value, ", ".join(DATE_FORMATS))
    )


def parse_mapping(parser, pairs):
    mapping = {}
    for pair in pairs:
        field, separator, column = pair.partition("=")
        field = field.strip()
        if not separator or field not in FIELDS:
            parser.error(
                "--map %s: expected FIELD=COLUMN with FIELD one of %s" % (pair, ", ".join(FIELDS))
            )
        mapping[field] = column.strip()
    return mapping


def odoo_arguments(options):
    """Return the Odoo command-line arguments that ``options`` set."""
    arguments = ["--database", options.database, "--log-level", options.log_level]
    for name in ("config", "addons_path", "db_host", "db_port", "db_user"):
        value = getattr(options, name)
        if value:
            arguments += ["--%s" % name.replace("addons_path", "addons-path"), value]
    return arguments


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_summary(stats, skip_labels):
    lines = [
        "Lines read: %s" % stats["lines"],
        "Lines imported: %s" % stats["kept_lines"],
        "Orders: %s created, %s already imported" % (stats["orders_created"], stats["orders_existing"]),
        "Order lines created: %s" % stats["order_lines_created"],
        "Touchpoints created: %s" % stats["touchpoints_created"],
        "Customers: %s created, %s reused" % (stats["customers_created"], stats["customers_reused"]),
        "Products: %s created, %s reused" % (stats["products_created"], stats["products_reused"]),
        "Customers moved to a new journey stage: %s" % stats["customers_moved"],
        "Cancellations offset against their original line: %s" % stats["offsets"],
        "Cancellations without a matching original line: %s" % stats["unmatched_cancellations"],
        "Skipped lines: %s" % sum(stats["skipped"].values()),
    ]
    lines += ["  %s: %s (%s)" % (reason, count, skip_labels[reason]) for reason, count in stats["skipped"].items()]
    seconds = stats["seconds"] or 1e-9
    lines += [
        "Wall time: %.1f s" % stats["seconds"],
        "Speed: %.0f lines/s" % (stats["lines"] / seconds),
        "Peak memory (RSS): %.0f MiB" % peak_rss_mib(),
    ]
    return "\n".join(lines)


def run_import(options, mapping):
    """Open the registry of the database, import the file and return the exit status."""
    import odoo
    from odoo.exceptions import UserError
    from odoo.modules.registry import Registry

    from .sales_history import SKIP_REASONS

    try:
        registry = Registry(options.database)
    except Exception as error:  # noqa: BLE001 - any failure to open the database ends the command
        print("error: cannot open database %s: %s" % (options.database, error), file=sys.stderr)
        return 1
    if IMPORT_MODEL not in registry:
        print(
            "error: %s is not installed in database %s. Install it with: "
            "python3 -m odoo -d %s -i %s --stop-after-init" % (ADDON, options.database, options.database, ADDON),
            file=sys.stderr,
        )
        return 1

    started = time.monotonic()

    def report_progress(stats):
        elapsed = time.monotonic() - started
        print(
            "%s/%s invoices, %s orders created, %.0f s, peak RSS %.0f MiB"
            % (stats["invoices_done"], stats["invoices"], stats["orders_created"], elapsed, peak_rss_mib()),
            file=sys.stderr,
            flush=True,
        )

    report_file = open(options.skip_report, "w", encoding="utf-8", newline="") if options.skip_report else None  # noqa: SIM115
    try:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            salesperson = None
            if options.salesperson:
                salesperson = env["res.users"].search(
                    [("login", "=", options.salesperson), ("share", "=", False)], limit=1
                )
                if not salesperson:
                    print(
                        "error: --salesperson %s: no internal user has this login. Use the login of an "
                        "active internal user." % options.salesperson,
                        file=sys.stderr,
                    )
                    return 1
            try:
                stats = env[IMPORT_MODEL]._import_sales_history(
                    options.file,
                    mapping=mapping,
                    encoding=options.encoding,
                    batch_size=options.batch_size,
                    commit=True,
                    progress=report_progress,
                    delimiter=options.delimiter,
                    max_quantity=options.max_quantity,
                    non_product_codes=options.non_product_codes,
                    date_format=options.date_format,
                    decimal_separator=DECIMAL_SEPARATORS[options.decimal_separator],
                    tz=options.tz,
                    on_skip=SkipReport(report_file, keep=0) if report_file else None,
                    salesperson=salesperson,
                )
            except UserError as error:
                cr.rollback()
                print("error: %s" % error.args[0], file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        print(
            "Interrupted: the committed batches are kept. Run the same command again to complete the import.",
            file=sys.stderr,
        )
        return 130
    finally:
        if report_file:
            report_file.close()
    print(format_summary(stats, SKIP_REASONS))
    return 0


def main(argv=None):
    parser = build_parser()
    options = parser.parse_args(argv)
    mapping = parse_mapping(parser, options.map)
    if options.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if options.tz:
        import pytz

        if options.tz not in pytz.all_timezones_set:
            parser.error("--tz %s: unknown time zone, use a name such as Europe/London" % options.tz)

    # The Odoo configuration sets the addons path and the database options,
    # and must be parsed before the registry is opened.
    from odoo.tools import config

    config.parse_config(odoo_arguments(options), setup_logging=True)
    return run_import(options, mapping)


if __name__ == "__main__":
    sys.exit(main())
