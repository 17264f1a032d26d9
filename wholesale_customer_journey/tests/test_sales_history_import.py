# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import csv
import gzip
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytz

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import float_round

# Read in place, because the data set is not part of the repository.
DATASET_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "online-retail"
SAMPLE_FILE = DATASET_DIR / "online_retail_sample_100_customers.csv.gz"
TZ = "Europe/London"


def expected_import(path, max_quantity=10000):
    """Compute what importing ``path`` must give, with plain csv code.

    Written apart from the reader on purpose: the same rules, read from their
    description, not from the reader's code.
    """
    non_product = re.compile(
        r"POST|DOT|M|C2|D|S|B|CRUK|PADS|AMAZONFEE|BANK CHARGES|GIFT_0001_.*|DCGS.*|TEST.*"
    )
    with gzip.open(path, "rt", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    reasons = Counter()
    kept = {}
    cancellations = []
    seen = set()
    for number, row in enumerate(rows, start=2):
        code = row["stock_code"].upper()
        quantity = float(row["quantity"])
        row_key = tuple(row.values())
        duplicate = row_key in seen
        seen.add(row_key)
        if row["invoice"].startswith("A"):
            reason = "bad_debt"
        elif not row["customer_id"]:
            reason = "no_customer"
        elif duplicate:
            reason = "duplicate"
        elif row["invoice"].startswith("C"):
            reason = "cancellation"
            cancellations.append(number)
        elif non_product.fullmatch(code):
            reason = "non_product"
        elif quantity <= 0:
            reason = "stock_adjustment"
        elif quantity > max_quantity:
            reason = "quantity_above_max"
        elif float(row["unit_price"]) < 0:
            reason = "negative_price"
        else:
            kept[number] = row
            continue
        reasons[reason] += 1

    # A cancellation removes the latest kept line of the same customer and
    # stock code with the opposite quantity, dated no later than itself.
    candidates = {}
    for number, row in kept.items():
        key = (row["customer_id"], row["stock_code"].upper(), float(row["quantity"]))
        candidates.setdefault(key, []).append(number)
    for number in sorted(cancellations, key=lambda n: (rows[n - 2]["invoice_date"], n)):
        row = rows[number - 2]
        key = (row["customer_id"], row["stock_code"].upper(), -float(row["quantity"]))
        matches = [
            original
            for original in candidates.get(key, [])
            if original in kept and rows[original - 2]["invoice_date"] <= row["invoice_date"]
        ]
        if matches:
            del kept[max(matches, key=lambda n: (rows[n - 2]["invoice_date"], n))]
            reasons["cancelled"] += 1

    return {
        "skipped": dict(reasons),
        "kept_lines": len(kept),
        "invoices": {row["invoice"] for row in kept.values()},
        "customers": {row["customer_id"] for row in kept.values()},
        "stock_codes": {row["stock_code"].upper() for row in kept.values()},
        "amount": sum(float(row["quantity"]) * float(row["unit_price"]) for row in kept.values()),
        "lines": len(rows),
        "rows": kept,
    }


@tagged("post_install", "-at_install")
class TestSalesHistoryImport(TransactionCase):
    """Import of the 100-customer sample of the Online Retail data set."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not SAMPLE_FILE.exists():
            raise AssertionError("Missing data set %s" % SAMPLE_FILE)
        cls.expected = expected_import(SAMPLE_FILE)
        cls.mail_count_before = cls.env["mail.mail"].search_count([])
        cls.stats = cls.env["customer.journey.sales.import"]._import_sales_history(
            str(SAMPLE_FILE), tz=TZ
        )
        cls.orders = cls.env["sale.order"].search([("journey_import_ref", "in", list(cls.expected["invoices"]))])

    def _imported_partners(self):
        refs = ["HIST-%s" % customer for customer in self.expected["customers"]]
        return self.env["res.partner"].search([("ref", "in", refs)])

    def test_counts_equal_csv(self):
        expected = self.expected
        stats = self.stats
        self.assertEqual(stats["lines"], expected["lines"])
        self.assertEqual(stats["skipped"], expected["skipped"])
        self.assertEqual(stats["kept_lines"], expected["kept_lines"])
        self.assertEqual(stats["orders_created"], len(expected["invoices"]))
        self.assertEqual(stats["orders_existing"], 0)
        self.assertEqual(stats["order_lines_created"], expected["kept_lines"])
        self.assertEqual(stats["customers_created"], len(expected["customers"]))
        self.assertEqual(stats["stock_codes"], len(expected["stock_codes"]))
        self.assertEqual(stats["customers"], len(expected["customers"]))
        self.assertEqual(stats["invoices"], len(expected["invoices"]))
        self.assertEqual(stats["products_created"] + stats["products_reused"], len(expected["stock_codes"]))
        self.assertEqual(len(self.orders), len(expected["invoices"]))
        self.assertEqual(len(self.orders.order_line), expected["kept_lines"])
        self.assertEqual(len(self._imported_partners()), len(expected["customers"]))

    def test_products_by_upper_case_reference(self):
        products = self.orders.order_line.product_id
        self.assertEqual(set(products.mapped("default_code")), self.expected["stock_codes"])
        self.assertEqual(set(products.mapped("type")), {"consu"})

    def test_orders_historical_and_confirmed(self):
        orders = self.orders
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertTrue(all(orders.mapped("journey_historical")))
        self.assertEqual(set(orders.mapped("journey_import_ref")), self.expected["invoices"])
        self.assertFalse(orders.invoice_ids, "no invoice is created")
        if "picking_ids" in orders._fields:
            self.assertFalse(orders.picking_ids, "no delivery is created")
        self.assertEqual(self.env["mail.mail"].search_count([]), self.mail_count_before, "no mail is queued")
        self.assertFalse(
            self.env["mail.message"].search_count([("model", "=", "sale.order"), ("res_id", "in", orders.ids)]),
            "no message is posted on the orders",
        )
        self.assertEqual(set(orders.order_line.mapped("invoice_status")), {"invoiced"})
        self.assertEqual(set(orders.mapped("invoice_status")), {"invoiced"})

    def test_order_dates_and_amounts(self):
        # Dates are London time: UTC+1 in August.
        rows = [row for row in self.expected["rows"].values() if row["invoice_date"].startswith("2011-08")]
        self.assertTrue(rows, "the sample has orders in British Summer Time")
        row = rows[0]
        order = self.orders.filtered(lambda o: o.journey_import_ref == row["invoice"])
        local = datetime.fromisoformat(row["invoice_date"])
        self.assertEqual(order.date_order, local - timedelta(hours=1))
        currency = self.orders.currency_id
        self.assertEqual(len(currency), 1)
        expected_lines = [r for r in self.expected["rows"].values() if r["invoice"] == row["invoice"]]
        expected_total = sum(
            float_round(float(r["quantity"]) * float(r["unit_price"]), precision_rounding=currency.rounding)
            for r in expected_lines
        )
        self.assertAlmostEqual(order.amount_untaxed, expected_total, places=2)
        self.assertAlmostEqual(order.amount_total, expected_total, places=2)
        self.assertAlmostEqual(
            sum(self.orders.mapped("amount_untaxed")), self.expected["amount"], delta=len(self.orders) * 0.01
        )

    def test_sql_lines_match_orm_computation(self):
        """The fields written in SQL equal what the ORM computes for the same line."""
        lines = self.orders[:20].order_line
        derived = ["price_subtotal", "price_tax", "price_total", "price_reduce_taxexcl", "price_reduce_taxinc",
                   "qty_delivered_method", "customer_lead"]
        stored = {line.id: {name: line[name] for name in derived} for line in lines}
        amounts = {order.id: order.amount_untaxed for order in self.orders[:20]}
        for name in derived:
            self.env.add_to_compute(lines._fields[name], lines)
        for name in ("amount_untaxed", "amount_tax", "amount_total"):
            self.env.add_to_compute(self.orders._fields[name], self.orders[:20])
        self.env.flush_all()
        for line in lines:
            for name in derived:
                value = stored[line.id][name]
                if isinstance(value, float):
                    self.assertAlmostEqual(line[name], value, places=6, msg="%s of %s" % (name, line.name))
                else:
                    self.assertEqual(line[name], value, "%s of %s" % (name, line.name))
        for order in self.orders[:20]:
            self.assertAlmostEqual(order.amount_untaxed, amounts[order.id], places=2)
            self.assertEqual(order.amount_tax, 0.0)

    def test_customers_get_journey_stage(self):
        partners = self._imported_partners()
        self.assertTrue(all(partners.mapped("is_company")))
        self.assertFalse(partners.filtered(lambda p: not p.journey_stage_id), "every customer has a stage")
        self.assertEqual(self.stats["customers_moved"], len(partners))

    def test_stage_history_dated_by_orders(self):
        partners = self._imported_partners()
        history = self.env["customer.journey.history"].search([("partner_id", "in", partners.ids)])
        self.assertTrue(history)
        latest_order = max(self.orders.mapped("date_order"))
        self.assertFalse(history.filtered(lambda row: row.date_start > latest_order))

    def _touchpoints(self):
        return self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "sale.order"), ("res_id", "in", self.orders.ids)]
        )

    def test_touchpoint_per_order(self):
        touchpoints = self._touchpoints()
        self.assertEqual(len(touchpoints), len(self.orders))
        self.assertEqual(self.stats["touchpoints_created"], len(self.orders))
        self.assertEqual(set(touchpoints.mapped("res_id")), set(self.orders.ids))
        self.assertEqual(
            set(touchpoints.mapped("source_key")),
            {"sale.order,%s,imported" % order.id for order in self.orders},
        )
        self.assertEqual(set(touchpoints.mapped("origin")), {"order"})
        self.assertEqual(set(touchpoints.mapped("channel")), {"other"})
        self.assertEqual(set(touchpoints.mapped("direction")), {"inbound"})
        self.assertEqual(set(touchpoints.mapped("kind")), {"direct"})
        self.assertEqual(touchpoints.company_id, self.env.company)
        self.assertFalse(touchpoints.contact_id, "the customers are companies without contacts")
        self.assertFalse(touchpoints.user_id, "imported orders have no salesperson")
        orders = {order.id: order for order in self.orders}
        self.assertEqual(
            {touchpoint.res_id: touchpoint.partner_id for touchpoint in touchpoints},
            {order.id: order.partner_id for order in self.orders},
        )
        self.assertEqual(
            {touchpoint.res_id: touchpoint.name for touchpoint in touchpoints},
            {order_id: f"Order {order.name} imported from the sales history" for order_id, order in orders.items()},
        )

    def test_touchpoints_dated_at_invoice_dates(self):
        london = pytz.timezone(TZ)
        first_dates = {}
        for row in self.expected["rows"].values():
            date = datetime.fromisoformat(row["invoice_date"])
            first_dates[row["invoice"]] = min(first_dates.get(row["invoice"], date), date)
        expected = {
            invoice: london.localize(date).astimezone(pytz.utc).replace(tzinfo=None)
            for invoice, date in first_dates.items()
        }
        invoices = {order.id: order.journey_import_ref for order in self.orders}
        self.assertEqual(
            {invoices[touchpoint.res_id]: touchpoint.date for touchpoint in self._touchpoints()},
            expected,
        )

    def test_touchpoint_stage_of_order_date(self):
        touchpoints = self._touchpoints()
        self.assertFalse(touchpoints.filtered(lambda touchpoint: not touchpoint.stage_id), "every touchpoint has a stage")
        for partner in self._imported_partners():
            latest = touchpoints.filtered(lambda touchpoint: touchpoint.partner_id == partner).sorted("date")[-1]
            self.assertEqual(latest.stage_id, partner.journey_stage_id, partner.ref)

    def test_customers_last_touchpoint_at_last_order(self):
        for partner in self._imported_partners():
            orders = self.orders.filtered(lambda order: order.partner_id == partner)
            self.assertEqual(partner.journey_last_touchpoint_date, max(orders.mapped("date_order")), partner.ref)

    def test_reimport_creates_nothing(self):
        order_count = self.env["sale.order"].search_count([])
        line_count = self.env["sale.order.line"].search_count([])
        touchpoint_count = self.env["customer.journey.touchpoint"].search_count([])
        partner_count = self.env["res.partner"].with_context(active_test=False).search_count([])
        product_count = self.env["product.product"].with_context(active_test=False).search_count([])
        stats = self.env["customer.journey.sales.import"]._import_sales_history(str(SAMPLE_FILE), tz=TZ)
        self.assertEqual(stats["orders_created"], 0)
        self.assertEqual(stats["orders_existing"], len(self.expected["invoices"]))
        self.assertEqual(stats["customers_created"], 0)
        self.assertEqual(stats["products_created"], 0)
        self.assertEqual(stats["touchpoints_created"], 0)
        self.assertEqual(self.env["sale.order"].search_count([]), order_count)
        self.assertEqual(self.env["customer.journey.touchpoint"].search_count([]), touchpoint_count)
        self.assertEqual(self.env["sale.order.line"].search_count([]), line_count)
        self.assertEqual(self.env["res.partner"].with_context(active_test=False).search_count([]), partner_count)
        self.assertEqual(
            self.env["product.product"].with_context(active_test=False).search_count([]), product_count
        )


@tagged("post_install", "-at_install")
class TestSalesHistoryImportWizard(TransactionCase):
    """Wizard imports of small files, reuse of existing records and invalid files."""

    HEADER = "invoice,stock_code,description,quantity,invoice_date,unit_price,customer_id,country"

    def _wizard(self, *rows, header=HEADER, **values):
        content = ("\n".join([header, *rows]) + "\n").encode("utf-8")
        return self.env["customer.journey.sales.import.wizard"].create(
            dict({"data_file": base64.b64encode(content), "filename": "history.csv", "tz": "UTC"}, **values)
        )

    def test_import_and_report(self):
        customer = self.env["res.partner"].create({"name": "Existing Shop", "ref": "HIST-90001", "is_company": True})
        product = self.env["product.product"].create({"name": "Heart", "default_code": "900a"})
        wizard = self._wizard(
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900001,POST,POSTAGE,1,2011-01-02 08:26:00,18,90001,EIRE",
            "900002,900B,RED HEART,3,2011-01-03 09:00:00,1.25,90002,RSA",
            "900003,900B,RED HEART,3,2011-01-03 09:00:00,1.25,,United Kingdom",
        )
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        orders = self.env["sale.order"].search([("journey_import_ref", "in", ["900001", "900002"])], order="name")
        self.assertEqual(orders.mapped("name"), ["900001", "900002"])
        self.assertEqual(orders[0].partner_id, customer, "an existing customer is found by its reference")
        self.assertEqual(orders[0].order_line.product_id, product, "products are found regardless of case")
        self.assertEqual(orders[0].order_line.product_uom_qty, 6)
        new_customer = orders[1].partner_id
        self.assertEqual(new_customer.ref, "HIST-90002")
        self.assertEqual(new_customer.country_id.code, "ZA")
        self.assertEqual(orders[1].order_line.product_id.default_code, "900B")
        self.assertEqual(orders[1].order_line.product_id.list_price, 1.25)
        self.assertEqual(orders[0].date_order, datetime(2011, 1, 2, 8, 26))
        self.assertIn("Non-product code", wizard.result_html)
        self.assertIn("Touchpoints created", wizard.result_html)
        self.assertIn("No customer", wizard.result_html)
        report = base64.b64decode(wizard.skip_report).decode("utf-8").splitlines()
        self.assertEqual(len(report), 3, "header and two skipped lines")
        self.assertTrue(report[1].startswith("3,non_product,"))
        self.assertTrue(report[2].startswith("5,no_customer,"))
        self.assertEqual(wizard.skip_report_name, "history_skipped_lines.csv")

    def test_salesperson_of_new_customers(self):
        seller = self.env["res.users"].create({"name": "Els Verkoop", "login": "els_import"})
        keeper = self.env["res.users"].create({"name": "Koen Klant", "login": "koen_import"})
        existing = self.env["res.partner"].create(
            {"name": "Existing Shop", "ref": "HIST-90001", "is_company": True, "user_id": keeper.id}
        )
        wizard = self._wizard(
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900002,900B,RED HEART,3,2011-01-03 09:00:00,1.25,90002,RSA",
            user_id=seller.id,
        )

        wizard.action_import()

        new_customer = self.env["res.partner"].search([("ref", "=", "HIST-90002")])
        self.assertEqual(new_customer.user_id, seller)
        self.assertEqual(existing.user_id, keeper, "a customer found by its reference keeps its salesperson")

    def test_wizard_defaults(self):
        wizard = self._wizard("900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE")
        self.assertEqual(wizard.decimal_separator, ".")
        self.assertEqual(wizard.date_format, "iso")
        self.assertFalse(wizard.user_id, "no salesperson unless chosen")

    def test_decimal_comma_and_day_first_dates(self):
        wizard = self._wizard(
            "900001;900A;WHITE HEART;1.200;2/1/2011 8:26;2,55;90001;Belgium",
            "900001;900B;RED HEART;3;2/1/2011 8:26;1.234,5;90001;Belgium",
            header=self.HEADER.replace(",", ";"),
            delimiter=";",
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_import()
        self.assertIn(
            'Line 2, column "unit_price": "2,55" is not a number with the decimal separator ".". '
            'Set the decimal separator of the file to ",", fix the value, or remove the line.',
            str(caught.exception),
        )
        wizard.decimal_separator = ","
        with self.assertRaises(UserError) as caught:
            wizard.action_import()
        self.assertIn(
            'Line 2, column "invoice_date": "2/1/2011 8:26" is not a date in the format YYYY-MM-DD HH:MM:SS.',
            str(caught.exception),
        )
        wizard.date_format = "day_first"
        wizard.action_import()
        order = self.env["sale.order"].search([("journey_import_ref", "=", "900001")])
        self.assertEqual(order.order_line.mapped("product_uom_qty"), [1200, 3])
        self.assertEqual(order.order_line.mapped("price_unit"), [2.55, 1234.5])
        self.assertEqual(order.date_order, datetime(2011, 1, 2, 8, 26))

    def test_month_first_dates(self):
        wizard = self._wizard(
            "900001,900A,WHITE HEART,6,12/1/2010 8:26,2.55,90001,United Kingdom",
            "900002,900A,WHITE HEART,6,1/12/2011 14:05:30,2.55,90001,United Kingdom",
            date_format="month_first",
        )
        wizard.action_import()
        orders = self.env["sale.order"].search([("journey_import_ref", "in", ["900001", "900002"])], order="name")
        self.assertEqual(orders.mapped("date_order"), [datetime(2010, 12, 1, 8, 26), datetime(2011, 1, 12, 14, 5, 30)])

    def test_touchpoints_of_wizard_import(self):
        wizard = self._wizard(
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900002,900B,RED HEART,3,2011-02-03 09:00:00,1.25,90001,EIRE",
            "900003,900B,RED HEART,3,2011-03-04 10:00:00,1.25,90002,EIRE",
        )
        wizard.action_import()
        orders = self.env["sale.order"].search([("journey_import_ref", "in", ["900001", "900002", "900003"])])
        touchpoints = self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "sale.order"), ("res_id", "in", orders.ids)], order="date"
        )
        self.assertEqual(len(touchpoints), 3)
        self.assertEqual(
            touchpoints.mapped("date"),
            [datetime(2011, 1, 2, 8, 26), datetime(2011, 2, 3, 9, 0), datetime(2011, 3, 4, 10, 0)],
        )
        self.assertEqual(touchpoints[0].name, "Order 900001 imported from the sales history")
        customer = self.env["res.partner"].search([("ref", "=", "HIST-90001")])
        self.assertEqual(customer.journey_touchpoint_count, 2)

        rerun = self._wizard(
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900002,900B,RED HEART,3,2011-02-03 09:00:00,1.25,90001,EIRE",
            "900003,900B,RED HEART,3,2011-03-04 10:00:00,1.25,90002,EIRE",
        )
        rerun.action_import()
        self.assertEqual(
            self.env["customer.journey.touchpoint"].search_count(
                [("res_model", "=", "sale.order"), ("res_id", "in", orders.ids)]
            ),
            3,
            "a second import creates no touchpoint",
        )

    def test_reimport_adds_missing_touchpoints(self):
        rows = (
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900002,900B,RED HEART,3,2011-02-03 09:00:00,1.25,90001,EIRE",
        )
        content = ("\n".join([self.HEADER, *rows]) + "\n").encode("utf-8")
        importer = self.env["customer.journey.sales.import"]
        importer._import_sales_history(content, tz="UTC")
        orders = self.env["sale.order"].search([("journey_import_ref", "in", ["900001", "900002"])])
        domain = [("res_model", "=", "sale.order"), ("res_id", "in", orders.ids)]
        self.env["customer.journey.touchpoint"].search(domain).unlink()

        stats = importer._import_sales_history(content, tz="UTC")
        self.assertEqual(stats["orders_created"], 0)
        self.assertEqual(stats["touchpoints_created"], 2)
        touchpoints = self.env["customer.journey.touchpoint"].search(domain)
        self.assertEqual(len(touchpoints), 2)
        self.assertTrue(all(touchpoints.mapped("stage_id")), "the stage is set on added touchpoints too")
        self.assertEqual(importer._import_sales_history(content, tz="UTC")["touchpoints_created"], 0)

    def test_touchpoint_summary_in_every_language(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self._wizard("900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE").action_import()
        order = self.env["sale.order"].search([("journey_import_ref", "=", "900001")])
        touchpoint = self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )
        self.assertEqual(touchpoint.with_context(lang="en_US").name, "Order 900001 imported from the sales history")
        self.assertEqual(touchpoint.with_context(lang="nl_NL").name, "Order 900001 geïmporteerd uit de verkoophistoriek")

    def test_no_touchpoint_for_own_company(self):
        self.env.company.partner_id.ref = "HIST-90001"
        self._wizard("900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE").action_import()
        order = self.env["sale.order"].search([("journey_import_ref", "=", "900001")])
        self.assertEqual(order.partner_id, self.env.company.partner_id)
        touchpoints = self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )
        self.assertFalse(touchpoints, "an order of the own company is not a customer contact")

    def test_touchpoint_of_existing_contact(self):
        company = self.env["res.partner"].create({"name": "Tuinhuis Brugge", "is_company": True})
        contact = self.env["res.partner"].create(
            {"name": "Els Claes", "parent_id": company.id, "ref": "HIST-90001"}
        )
        self._wizard("900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,Belgium").action_import()
        order = self.env["sale.order"].search([("journey_import_ref", "=", "900001")])
        self.assertEqual(order.partner_id, contact)
        touchpoint = self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )
        self.assertEqual(touchpoint.partner_id, company)
        self.assertEqual(touchpoint.contact_id, contact)

    def test_stage_history_dated_by_orders_across_commits(self):
        """Stage changes are dated at the orders when each batch is committed.

        The command line commits after each batch, which runs the pre-commit
        hooks before the journey replay at the end. The test runs them there.
        """
        content = ("\n".join([
            self.HEADER,
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900002,900B,RED HEART,3,2011-02-03 09:00:00,1.25,90001,EIRE",
        ]) + "\n").encode("utf-8")
        self.env["customer.journey.sales.import"]._import_sales_history(
            content, batch_size=1, tz="UTC", progress=lambda stats: self.env.cr.precommit.run()
        )
        self.env.cr.precommit.run()
        customer = self.env["res.partner"].search([("ref", "=", "HIST-90001")])
        self.assertTrue(customer.journey_stage_id)
        history = customer.journey_history_ids
        self.assertTrue(history)
        late = history.filtered(lambda row: row.date_start > datetime(2011, 2, 3, 9, 0))
        self.assertFalse(late, "stage changes dated after the orders: %s" % late.mapped("event_code"))

    def test_invalid_file_changes_nothing(self):
        order_count = self.env["sale.order"].search_count([])
        partner_count = self.env["res.partner"].search_count([])
        wizard = self._wizard(
            "900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE",
            "900002,900B,RED HEART,12x,2011-01-03 09:00:00,1.25,90002,RSA",
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_import()
        message = str(caught.exception)
        self.assertIn("nothing was changed", message)
        self.assertIn('Line 3, column "quantity": "12x" is not a number. Fix the value or remove the line.', message)
        self.assertEqual(self.env["sale.order"].search_count([]), order_count)
        self.assertEqual(self.env["res.partner"].search_count([]), partner_count)

    def test_wrong_encoding_suggests_option(self):
        content = (self.HEADER + "\n900001,900A,CAFÉ HEART,6,2011-01-02 08:26:00,2.55,90001,France\n").encode("latin-1")
        wizard = self.env["customer.journey.sales.import.wizard"].create(
            {"data_file": base64.b64encode(content), "filename": "history.csv"}
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_import()
        self.assertIn('Line 2, column "description": the text is not valid utf-8', str(caught.exception))
        wizard.encoding = "latin-1"
        wizard.action_import()
        order = self.env["sale.order"].search([("journey_import_ref", "=", "900001")])
        self.assertEqual(order.order_line.name, "[900A] CAFÉ HEART")

    def test_wizard_for_managers_only(self):
        user = self.env["res.users"].create(
            {
                "name": "Sales Clerk",
                "login": "history_clerk",
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        wizard = self._wizard("900001,900A,WHITE HEART,6,2011-01-02 08:26:00,2.55,90001,EIRE")
        with self.assertRaises(AccessError):
            wizard.with_user(user).action_import()
