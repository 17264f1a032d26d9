# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io
import json
import logging
import time
from datetime import datetime, time as day_time, timedelta, timezone

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, LazyTranslate, float_round

from ..tools.sales_history import (
    DEFAULT_DECIMAL_SEPARATOR,
    DEFAULT_MAX_QUANTITY,
    DEFAULT_NON_PRODUCT_CODES,
    SKIP_REASONS,
    SalesHistoryError,
    SalesHistoryReader,
)

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

DEFAULT_BATCH_SIZE = 200
# Prefix of the customer reference (res.partner.ref) that holds the customer
# id of the previous system, so that a second import finds the same partner.
PARTNER_REF_PREFIX = "HIST-"
# Country names of the source that are not the English name of one country.
COUNTRY_ALIASES = {
    "eire": "IE",
    "rsa": "ZA",
    "usa": "US",
    "uk": "GB",
    "czech republic": "CZ",
    "korea": "KR",
}
# Regions and placeholders that name no single country: Jersey and Guernsey
# are both Channel Islands.
NO_COUNTRY = frozenset({"channel islands", "european community", "unspecified", ""})

# sale.order.line columns that _insert_order_lines writes. The ORM computes
# the other stored computed fields of the line after the insert.
LINE_FIELDS_WRITTEN = frozenset(
    {
        "order_id",
        "sequence",
        "company_id",
        "currency_id",
        "order_partner_id",
        "salesman_id",
        "state",
        "display_type",
        "product_id",
        "product_uom",
        "name",
        "product_uom_qty",
        "price_unit",
        "technical_price_unit",
        "discount",
        "price_subtotal",
        "price_tax",
        "price_total",
        "price_reduce_taxexcl",
        "price_reduce_taxinc",
        "qty_delivered",
        "qty_invoiced",
        "qty_to_invoice",
        "invoice_status",
        "untaxed_amount_invoiced",
        "untaxed_amount_to_invoice",
        "is_downpayment",
        "is_expense",
    }
)
# sale.order fields that _recompute_after_insert sets in SQL.
ORDER_FIELDS_WRITTEN = ("amount_untaxed", "amount_tax", "amount_total", "invoice_status")
# Stored computed fields of the line that stay empty on historical lines:
# taxes and analytics were settled in the previous system, and the line
# keeps the unit of measure of its product, so no packaging applies.
LINE_FIELDS_LEFT_EMPTY = frozenset(
    {"tax_id", "analytic_distribution", "product_packaging_id", "product_packaging_qty"}
)


class CustomerJourneySalesImport(models.AbstractModel):
    """Import of the invoice lines of a previous system as historical sale orders.

    ``SalesHistoryReader`` validates and groups the file. This model creates or
    reuses the customers (by ``ref``), products (by upper-case internal
    reference) and orders (by ``journey_import_ref``), so that importing the
    same file again creates nothing. Orders are created in state ``sale``
    without ``action_confirm``: no mail, no picking, no invoice. Their lines
    are inserted in SQL, because creating them through the ORM took 8 ms of
    CPU per line on a 2-core machine, about 50 minutes for the 388,364 lines
    kept from the full Online Retail file. Each order gets one touchpoint,
    also inserted in SQL, dated at its invoice date.
    """

    _name = "customer.journey.sales.import"
    _description = "Sales History Import"

    @api.model
    def _import_sales_history(
        self,
        fileobj_or_path,
        mapping=None,
        encoding=None,
        batch_size=DEFAULT_BATCH_SIZE,
        commit=False,
        progress=None,
        delimiter=",",
        max_quantity=DEFAULT_MAX_QUANTITY,
        non_product_codes=DEFAULT_NON_PRODUCT_CODES,
        date_format=None,
        tz=None,
        on_skip=None,
        decimal_separator=DEFAULT_DECIMAL_SEPARATOR,
        salesperson=None,
    ):
        """Import a sales-history CSV file and return the stats of the import.

        The whole file is validated first: any invalid line raises a UserError
        naming up to 20 lines with their column, before anything is written.

        :param fileobj_or_path: see ``SalesHistoryReader``
        :param batch_size: invoices created per batch
        :param commit: commit after each batch, for the command line only.
            A batch is atomic, and importing the file again completes it.
        :param progress: called with the stats after each batch
        :param tz: time zone of the invoice dates without offset, by default
            the user's time zone, else UTC
        :param on_skip: called with each skipped ``SalesLine``, in file order
        :param salesperson: ``res.users`` record that becomes the salesperson
            of the customers the import creates; customers found by their
            reference keep theirs
        :param date_format, decimal_separator: see ``SalesHistoryReader``
        :return: dict of counts, see ``_new_stats``
        """
        started = time.monotonic()
        reader = SalesHistoryReader(
            fileobj_or_path,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
            max_quantity=max_quantity,
            non_product_codes=non_product_codes,
            date_format=date_format,
            decimal_separator=decimal_separator,
        )
        try:
            file_stats = reader.validate()
        except SalesHistoryError as error:
            raise UserError(self._format_reader_error(error)) from None
        stats = self._new_stats(file_stats)
        _logger.info(
            "Sales history: %s lines valid, %s invoices with %s kept lines to import",
            file_stats["lines"],
            file_stats["invoices"],
            file_stats["kept_lines"],
        )

        # journey_no_capture: the replay at the end sets each customer's stage,
        # dated at its orders, so the order events must not set it at import time.
        env = self.env(
            context=dict(
                self.env.context,
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                mail_notrack=True,
                journey_no_capture=True,
            )
        )
        importer = env[self._name]
        cache = {
            "partners": {},
            "products": {},
            "countries": importer._country_ids_by_name(),
            "tz": pytz.timezone(tz or self.env.user.tz or "UTC"),
            "reader": reader,
            "salesperson_id": salesperson.id if salesperson else False,
        }
        partner_ids = set()
        touchpoint_partner_ids = set()
        batch = []
        for invoice in reader.iter_invoices(on_skip=on_skip):
            batch.append(invoice)
            if len(batch) >= batch_size:
                ordered, touched = importer._import_batch(batch, cache, stats)
                partner_ids |= ordered
                touchpoint_partner_ids |= touched
                batch = []
                importer._end_batch(commit, progress, stats)
        if batch:
            ordered, touched = importer._import_batch(batch, cache, stats)
            partner_ids |= ordered
            touchpoint_partner_ids |= touched

        if partner_ids and hasattr(env["res.partner"], "_journey_replay_history"):
            stats["customers_moved"] = env["res.partner"]._journey_replay_history(sorted(partner_ids))
        if touchpoint_partner_ids:
            importer._set_touchpoint_stages(sorted(touchpoint_partner_ids))
        stats["seconds"] = round(time.monotonic() - started, 1)
        importer._end_batch(commit, progress, stats)
        _logger.info("Sales history imported: %s", stats)
        return stats

    @api.model
    def _journey_demo_import_reorders(self, purchases):
        """Import repeat purchases of demo customers as sales history, dated back from today, and refresh the cycles.

        Demo data only. The customers are found by their reference, HIST-
        followed by the customer id, and the products by internal reference,
        as a real import finds them.

        :param purchases: list of [customer id, country, stock code, unit
            price, [[days before today, quantity], ...]]
        :return: the import's counts
        """
        today = fields.Date.context_today(self)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"])
        for customer, country, code, price, days_and_quantities in purchases:
            for days, quantity in days_and_quantities:
                moment = datetime.combine(today - timedelta(days=days), day_time(10))
                writer.writerow(
                    [f"DEMO-{customer}-{days}", code, quantity, moment.strftime("%Y-%m-%d %H:%M"), price, customer,
                     country]
                )
        stats = self._import_sales_history(buffer.getvalue().encode())
        # Demo data of this module: uninstalling it removes the orders before their customers.
        orders = self.env["sale.order"].search([("journey_import_ref", "=like", "DEMO-%")])
        names = {order: "demo_reorder_order_" + order.journey_import_ref.lower().replace("-", "_") for order in orders}
        # An upgrade loads the demo again: the import then creates no order, and the xmlids exist.
        existing = set(
            self.env["ir.model.data"]
            .search([("module", "=", "wholesale_customer_journey"), ("name", "in", list(names.values()))])
            .mapped("name")
        )
        self.env["ir.model.data"].create(
            [
                {
                    "module": "wholesale_customer_journey",
                    "name": name,
                    "model": "sale.order",
                    "res_id": order.id,
                    "noupdate": True,
                }
                for order, name in names.items()
                if name not in existing
            ]
        )
        self.env["customer.journey.reorder.cycle"]._refresh_cycles(today=today)
        return stats

    @api.model
    def _new_stats(self, file_stats):
        return dict(
            file_stats,
            orders_created=0,
            orders_existing=0,
            order_lines_created=0,
            touchpoints_created=0,
            customers_created=0,
            customers_reused=0,
            products_created=0,
            products_reused=0,
            customers_moved=0,
            invoices_done=0,
            seconds=0.0,
        )

    @api.model
    def _end_batch(self, commit, progress, stats):
        """Commit if asked, and drop the record cache so that memory stays flat."""
        self.env.flush_all()
        if commit:
            self.env.cr.commit()
        self.env.invalidate_all()
        if progress:
            progress(stats)

    @api.model
    def _format_reader_error(self, error):
        lines = [self.env._(issue.template, **issue.params) for issue in error.issues]
        if error.total > len(error.issues):
            lines.append(
                _("%(count)s more errors are not shown.", count=error.total - len(error.issues))
            )
        header = _("The file was not imported, nothing was changed. Fix these lines and import it again:")
        return "\n".join([header, *lines])

    @api.model
    def _skip_reason_label(self, reason):
        """Return the translated label of a skip reason code of ``SKIP_REASONS``."""
        return self.env._(SKIP_REASONS[reason])

    # ------------------------------------------------------------
    # Batches
    # ------------------------------------------------------------

    @api.model
    def _import_batch(self, invoices, cache, stats):
        """Create the orders of ``invoices`` that do not exist yet, with their touchpoints.

        Orders imported before touchpoints were recorded get theirs too.

        :return: (ids of the customers that received an order, ids of the
            customers that received a touchpoint)
        """
        stats["invoices_done"] += len(invoices)
        company = self.env.company
        existing_orders = (
            self.env["sale.order"]
            .with_context(active_test=False)
            .search([("company_id", "=", company.id), ("journey_import_ref", "in", [inv.number for inv in invoices])])
        )
        existing = set(existing_orders.mapped("journey_import_ref"))
        stats["orders_existing"] += len(existing)
        invoices = [invoice for invoice in invoices if invoice.number not in existing]
        if not invoices:
            touched = self._insert_touchpoints(existing_orders, stats)
            return set(), touched

        partners = self._get_partners(invoices, cache, stats)
        products = self._get_products(invoices, cache, stats)
        order_vals = [
            {
                # Named after the invoice number, which the customer has on
                # its papers. This also saves a sequence call per order.
                "name": invoice.number,
                "partner_id": partners[invoice.customer_id],
                "date_order": self._to_utc(invoice.date, cache["tz"]),
                "state": "sale",
                "locked": True,
                "user_id": False,
                "origin": invoice.number,
                "journey_historical": True,
                "journey_import_ref": invoice.number,
                "company_id": company.id,
            }
            for invoice in invoices
        ]
        orders = self.env["sale.order"].create(order_vals)
        self.env.flush_all()
        lines = self._insert_order_lines(orders, invoices, products)
        self._recompute_after_insert(orders, lines)
        touched = self._insert_touchpoints(existing_orders | orders, stats)
        stats["orders_created"] += len(orders)
        stats["order_lines_created"] += len(lines)
        return set(orders.partner_id.ids), touched

    @api.model
    def _to_utc(self, date, tz):
        if date.tzinfo is None:
            date = tz.localize(date, is_dst=False)
        return date.astimezone(timezone.utc).replace(tzinfo=None)

    # ------------------------------------------------------------
    # Customers and products
    # ------------------------------------------------------------

    @api.model
    def _country_ids_by_name(self):
        """Return {lower-case English name, ISO code or alias: country id}."""
        countries = self.env["res.country"].with_context(lang="en_US").search_read([], ["name", "code"])
        by_name = {}
        for country in countries:
            by_name[country["name"].lower()] = country["id"]
            by_name[country["code"].lower()] = country["id"]
        for alias, code in COUNTRY_ALIASES.items():
            if code.lower() in by_name:
                by_name.setdefault(alias, by_name[code.lower()])
        return by_name

    @api.model
    def _country_id(self, name, cache):
        key = (name or "").strip().lower()
        if key in NO_COUNTRY:
            return False
        country_id = cache["countries"].get(key)
        if country_id is None:
            _logger.warning("Sales history: unknown country %r, customers get no country", name)
            cache["countries"][key] = country_id = False
        return country_id

    @api.model
    def _get_partners(self, invoices, cache, stats):
        """Return {customer id: partner id}, creating the missing customers."""
        known = cache["partners"]
        missing = sorted({invoice.customer_id for invoice in invoices} - set(known))
        if missing:
            refs = {PARTNER_REF_PREFIX + customer: customer for customer in missing}
            found = self.env["res.partner"].with_context(active_test=False).search_read(
                [("ref", "in", list(refs)), ("company_id", "in", [False, self.env.company.id])],
                ["ref"],
                order="id",
            )
            for partner in found:
                customer = refs[partner["ref"]]
                if customer not in known:
                    known[customer] = partner["id"]
                    stats["customers_reused"] += 1
            countries = cache["reader"].customers
            to_create = [customer for customer in missing if customer not in known]
            created = self.env["res.partner"].create(
                [
                    {
                        "name": _("Customer %(customer_id)s", customer_id=customer),
                        "ref": PARTNER_REF_PREFIX + customer,
                        "is_company": True,
                        "customer_rank": 1,
                        "country_id": self._country_id(countries.get(customer), cache),
                        "user_id": cache.get("salesperson_id") or False,
                    }
                    for customer in to_create
                ]
            )
            known.update(zip(to_create, created.ids))
            stats["customers_created"] += len(created)
        return known

    @api.model
    def _get_products(self, invoices, cache, stats):
        """Return {upper-case stock code: (product id, uom id)}.

        Finds products by internal reference regardless of case and creates
        the missing ones as goods, named after the most frequent description.
        """
        known = cache["products"]
        missing = sorted({line.stock_code for invoice in invoices for line in invoice.lines} - set(known))
        if missing:
            self.env.cr.execute(
                SQL(
                    """
                    SELECT DISTINCT ON (UPPER(pp.default_code))
                           UPPER(pp.default_code), pp.id, pt.uom_id
                      FROM product_product pp
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                     WHERE UPPER(pp.default_code) = ANY(%s)
                       AND (pt.company_id IS NULL OR pt.company_id = %s)
                  ORDER BY UPPER(pp.default_code), pp.active DESC, pp.id
                    """,
                    missing,
                    self.env.company.id,
                )
            )
            for code, product_id, uom_id in self.env.cr.fetchall():
                known[code] = (product_id, uom_id)
                stats["products_reused"] += 1
            summaries = cache["reader"].products
            to_create = [code for code in missing if code not in known]
            created = self.env["product.product"].create(
                [
                    {
                        "name": summaries[code].name or code,
                        "default_code": code,
                        "type": "consu",
                        "sale_ok": True,
                        "list_price": summaries[code].price,
                    }
                    for code in to_create
                ]
            )
            for code, product in zip(to_create, created):
                known[code] = (product.id, product.uom_id.id)
            stats["products_created"] += len(created)
        return known

    # ------------------------------------------------------------
    # Order lines
    # ------------------------------------------------------------

    @api.model
    def _insert_order_lines(self, orders, invoices, products):
        """Insert the lines of ``invoices`` into ``orders`` in one SQL statement.

        Computes the stored fields as the ORM does for a line without taxes
        or discount, as delivered and invoiced in the previous system.

        :return: the new sale.order.line records
        """
        line_model = self.env["sale.order.line"]
        now = fields.Datetime.now()
        uid = self.env.uid
        columns = {
            name: []
            for name in (
                "order_id",
                "sequence",
                "company_id",
                "currency_id",
                "order_partner_id",
                "salesman_id",
                "product_id",
                "product_uom",
                "name",
                "product_uom_qty",
                "price_unit",
                "price_subtotal",
                "price_reduce_taxexcl",
            )
        }
        order_values = orders.read(["company_id", "currency_id", "partner_id", "user_id"], load=None)
        roundings = {currency.id: currency.rounding for currency in orders.currency_id}
        for values, invoice in zip(order_values, invoices):
            rounding = roundings[values["currency_id"]]
            for sequence, line in enumerate(invoice.lines, start=1):
                product_id, uom_id = products[line.stock_code]
                subtotal = float_round(line.quantity * line.unit_price, precision_rounding=rounding)
                columns["order_id"].append(values["id"])
                columns["sequence"].append(sequence * 10)
                columns["company_id"].append(values["company_id"])
                columns["currency_id"].append(values["currency_id"])
                columns["order_partner_id"].append(values["partner_id"])
                columns["salesman_id"].append(values["user_id"] or None)
                columns["product_id"].append(product_id)
                columns["product_uom"].append(uom_id)
                columns["name"].append("[%s] %s" % (line.stock_code, line.description or line.stock_code))
                columns["product_uom_qty"].append(line.quantity)
                columns["price_unit"].append(line.unit_price)
                columns["price_subtotal"].append(subtotal)
                columns["price_reduce_taxexcl"].append(subtotal / line.quantity)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO sale_order_line (
                    order_id, sequence, company_id, currency_id, order_partner_id,
                    salesman_id, product_id, product_uom, name, product_uom_qty,
                    price_unit, technical_price_unit, discount,
                    price_subtotal, price_tax, price_total,
                    price_reduce_taxexcl, price_reduce_taxinc, customer_lead,
                    state, display_type, qty_delivered_method,
                    qty_delivered, qty_invoiced, qty_to_invoice, invoice_status,
                    untaxed_amount_invoiced, untaxed_amount_to_invoice,
                    is_downpayment, is_expense,
                    create_uid, create_date, write_uid, write_date)
                SELECT v.order_id, v.sequence, v.company_id, v.currency_id, v.order_partner_id,
                       v.salesman_id, v.product_id, v.product_uom, v.name, v.qty,
                       v.price_unit, v.price_unit, 0,
                       v.subtotal, 0, v.subtotal,
                       v.price_reduce, v.price_reduce, 0,
                       'sale', NULL, NULL,
                       v.qty, v.qty, 0, 'invoiced',
                       v.subtotal, 0,
                       FALSE, FALSE,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(
                       %(order_id)s::int[], %(sequence)s::int[], %(company_id)s::int[],
                       %(currency_id)s::int[], %(order_partner_id)s::int[], %(salesman_id)s::int[],
                       %(product_id)s::int[], %(product_uom)s::int[], %(name)s::text[],
                       %(product_uom_qty)s::numeric[], %(price_unit)s::numeric[],
                       %(price_subtotal)s::numeric[], %(price_reduce_taxexcl)s::numeric[]
                  ) AS v(order_id, sequence, company_id, currency_id, order_partner_id,
                         salesman_id, product_id, product_uom, name, qty,
                         price_unit, subtotal, price_reduce)
             RETURNING id
                """,
                uid=uid,
                now=now,
                **columns,
            )
        )
        return line_model.browse([row[0] for row in self.env.cr.fetchall()])

    # ------------------------------------------------------------
    # Touchpoints
    # ------------------------------------------------------------

    @api.model
    def _insert_touchpoints(self, orders, stats):
        """Insert one touchpoint per confirmed order of ``orders`` that has none, in one SQL statement.

        The values follow the orders' ``_journey_touchpoint_vals``, except that
        the date is the order date (the invoice date), the direction is inbound
        and the key is "sale.order,<id>,imported". As for other automatic
        touchpoints, the summary is stored in every installed language, and
        orders of the own organisation get none. ``_set_touchpoint_stages``
        sets their stage once the customers are replayed.

        :return: ids of the customer companies that received a touchpoint
        """
        if not orders:
            return set()
        summaries = []
        for values in orders.read(["name"], load=None):
            summary = _lt("Order %(name)s imported from the sales history", name=values["name"])
            summaries.append(json.dumps(self.env["customer.journey.touchpoint"]._summary_translations(summary)))
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO customer_journey_touchpoint (
                    name, date, partner_id, contact_id, channel, direction, kind, origin,
                    campaign_id, source_id, medium_id, user_id, company_id,
                    res_model, res_id, source_key,
                    create_uid, create_date, write_uid, write_date)
                SELECT v.summary, so.date_order, p.commercial_partner_id,
                       NULLIF(p.id, p.commercial_partner_id),
                       'other', 'inbound', 'direct', 'order',
                       so.campaign_id, so.source_id, so.medium_id, so.user_id, so.company_id,
                       'sale.order', so.id, 'sale.order,' || so.id || ',imported',
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(order_ids)s::int[], %(summaries)s::jsonb[]) AS v(order_id, summary)
                  JOIN sale_order so ON so.id = v.order_id
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale'
                   AND p.commercial_partner_id NOT IN (%(own_partners)s)
                    ON CONFLICT (source_key) DO NOTHING
             RETURNING id, partner_id
                """,
                uid=self.env.uid,
                now=now,
                order_ids=orders.ids,
                summaries=summaries,
                own_partners=self.env["res.partner"]._journey_own_partner_query(),
            )
        )
        rows = self.env.cr.fetchall()
        stats["touchpoints_created"] += len(rows)
        touchpoint_model = self.env["customer.journey.touchpoint"]
        touchpoint_model.invalidate_model()
        self.env["res.partner"].invalidate_model(["journey_touchpoint_ids"])
        touchpoints = touchpoint_model.browse([row[0] for row in rows])
        for field in touchpoint_model._fields.values():
            if field.store and field.compute:
                self.env.add_to_compute(field, touchpoints)
        return {row[1] for row in rows}

    @api.model
    def _set_touchpoint_stages(self, partner_ids):
        """Set the stage of the imported-order touchpoints of ``partner_ids`` that have none.

        Each gets the stage of the customer's latest history row started no
        later than the touchpoint, so call this after the replay. Touchpoints
        older than all of the customer's history keep no stage.
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_touchpoint tp
                   SET stage_id = reached.stage_id
                  FROM (SELECT DISTINCT ON (t.id) t.id, h.stage_id
                          FROM customer_journey_touchpoint t
                          JOIN customer_journey_history h
                            ON h.partner_id = t.partner_id AND h.date_start <= t.date
                          JOIN customer_journey_stage stage ON stage.id = h.stage_id
                         WHERE t.partner_id = ANY(%(partner_ids)s)
                           AND t.stage_id IS NULL
                           AND t.source_key LIKE %(key_pattern)s
                      ORDER BY t.id, h.date_start DESC, stage.sequence DESC, h.id DESC) reached
                 WHERE tp.id = reached.id
                """,
                partner_ids=list(partner_ids),
                key_pattern="sale.order,%,imported",
            )
        )
        self.env["customer.journey.touchpoint"].invalidate_model(["stage_id"])

    @api.model
    def _recompute_after_insert(self, orders, lines):
        """Set the order totals in SQL, and let the ORM compute the rest.

        The ORM computes the stored line fields that the insert did not write
        and the stored order fields that depend on the lines, other modules'
        included. It would take most of the import time on the totals and
        invoice status, so these are set here in SQL.
        """
        self.env.cr.execute(
            SQL(
                """
                UPDATE sale_order so
                   SET amount_untaxed = totals.amount,
                       amount_tax = 0,
                       amount_total = totals.amount,
                       invoice_status = 'invoiced'
                  FROM (SELECT order_id, SUM(price_subtotal) AS amount
                          FROM sale_order_line
                         WHERE order_id = ANY(%s)
                      GROUP BY order_id) totals
                 WHERE so.id = totals.order_id
                """,
                orders.ids,
            )
        )
        line_model = self.env["sale.order.line"]
        line_model.invalidate_model()
        orders.invalidate_recordset(["order_line", *ORDER_FIELDS_WRITTEN])
        for field in line_model._fields.values():
            if (
                field.store
                and field.compute
                and field.name not in LINE_FIELDS_WRITTEN
                and field.name not in LINE_FIELDS_LEFT_EMPTY
            ):
                self.env.add_to_compute(field, lines)
        for field in orders._fields.values():
            if (
                field.store
                and field.compute
                and field.name not in ORDER_FIELDS_WRITTEN
                and any(path.split(".")[0] == "order_line" for path in self.pool.field_depends[field])
            ):
                self.env.add_to_compute(field, orders)
        self.env.flush_all()
