# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from ..analysis.reorder import reorder_cycle
from .common import JourneyCase

TODAY = fields.Date.to_date("2026-11-30")


@tagged("post_install", "-at_install")
class TestReorderCycles(JourneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Cycle = cls.env["customer.journey.reorder.cycle"]
        cls.soil = cls.env["product.product"].create({"name": "Potting soil 40 l", "type": "consu", "list_price": 6.0})
        cls.delivery = cls.env["product.product"].create({"name": "Delivery fee", "type": "service", "list_price": 25.0})

    def _order_on(self, partner, days_ago, lines):
        """Create and confirm an order of ``lines`` [(product, quantity)], dated ``days_ago`` before TODAY."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": quantity})
                    for product, quantity in lines
                ],
            }
        )
        order.action_confirm()
        # Confirming stamps the order with now: date it back in SQL.
        date = datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time()) + timedelta(hours=10)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sale_order SET date_order = %s WHERE id = %s", (date, order.id))
        order.invalidate_recordset()
        return order

    def _cycle(self, partner, product):
        return self.Cycle.search([("partner_id", "=", partner.id), ("product_id", "=", product.id)])

    def test_regular_customer_matches_reference(self):
        for days_ago, quantity in ((90, 10), (60, 12), (29, 10), (0, 8)):
            self._order_on(self.contact, days_ago, [(self.soil, quantity), (self.delivery, 1)])

        self.Cycle._refresh_cycles(today=TODAY)

        cycle = self._cycle(self.customer, self.soil)
        reference = reorder_cycle(
            [(TODAY - timedelta(days=days_ago), quantity) for days_ago, quantity in ((90, 10), (60, 12), (29, 10), (0, 8))]
        )
        self.assertEqual(len(cycle), 1, "the cycle belongs to the customer company, not the contact")
        self.assertEqual(cycle.purchase_days, reference.purchase_days)
        self.assertEqual(cycle.median_interval, reference.median_interval)
        self.assertAlmostEqual(cycle.spread, reference.spread, places=6)
        self.assertEqual(cycle.typical_quantity, reference.typical_quantity)
        self.assertEqual(cycle.last_date, reference.last_date)
        self.assertTrue(cycle.regular)
        self.assertEqual(cycle.next_date, reference.next_date)
        self.assertFalse(self._cycle(self.customer, self.delivery), "services have no re-order cycle")

    def test_irregular_customer_not_guessed(self):
        for days_ago in (62, 57, 2, 0):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])

        self.Cycle._refresh_cycles(today=TODAY)

        cycle = self._cycle(self.customer, self.soil)
        self.assertEqual(cycle.median_interval, 5)
        self.assertAlmostEqual(cycle.spread, 0.6)
        self.assertFalse(cycle.regular)
        self.assertFalse(cycle.next_date)

    def test_two_purchase_days_no_cycle(self):
        self._order_on(self.contact, 40, [(self.soil, 5)])
        self._order_on(self.contact, 40, [(self.soil, 5)])
        self._order_on(self.contact, 10, [(self.soil, 5)])

        self.Cycle._refresh_cycles(today=TODAY)

        self.assertFalse(self._cycle(self.customer, self.soil))

    def test_returned_day_no_purchase_day(self):
        self._order_on(self.contact, 70, [(self.soil, 5)])
        self._order_on(self.contact, 40, [(self.soil, 5)])
        self._order_on(self.contact, 40, [(self.soil, -5)])
        self._order_on(self.contact, 10, [(self.soil, 5)])

        self.Cycle._refresh_cycles(today=TODAY)

        self.assertFalse(self._cycle(self.customer, self.soil), "the day of 40 days ago nets to nothing")

    def test_orders_before_horizon_ignored(self):
        for days_ago in (900, 870, 840, 30, 0):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])

        self.Cycle._refresh_cycles(today=TODAY)

        self.assertFalse(self._cycle(self.customer, self.soil), "two purchase days within 730 days")

    def test_refresh_replaces_cycles(self):
        for days_ago in (60, 30, 0):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])
        self.Cycle._refresh_cycles(today=TODAY)
        first = self._cycle(self.customer, self.soil)

        self.Cycle._refresh_cycles(today=TODAY)

        second = self._cycle(self.customer, self.soil)
        self.assertEqual(len(second), 1)
        self.assertNotEqual(first.id, second.id)
        self.assertEqual(second.next_date, TODAY + timedelta(days=30))

    def test_overdue_search(self):
        for days_ago in (100, 70, 40):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])
        self.Cycle._refresh_cycles(today=TODAY)

        cycle = self._cycle(self.customer, self.soil)

        self.assertEqual(cycle.next_date, TODAY - timedelta(days=10))
        self.assertIn(cycle, self.Cycle.search([("overdue", "=", True)]))
        self.assertNotIn(cycle, self.Cycle.search([("overdue", "=", False)]))

    def test_access_and_company(self):
        for days_ago in (60, 30, 0):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])
        self.Cycle._refresh_cycles(today=TODAY)
        cycle = self._cycle(self.customer, self.soil)
        company_b = self.env["res.company"].create({"name": "Groothandel Noord"})
        user_b = mail_new_test_user(
            self.env,
            login="journey_cycle_noord",
            name="Noor Noord",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
            groups="base.group_user",
        )

        self.assertEqual(cycle.with_user(self.user_employee).purchase_days, 3)
        self.assertFalse(self.Cycle.with_user(user_b).search([("id", "=", cycle.id)]))
        with self.assertRaises(AccessError):
            cycle.with_user(self.user_employee).write({"purchase_days": 1})
        with self.assertRaises(AccessError):
            self.Cycle.with_user(self.user_employee).action_refresh_cycles()
        with self.assertRaises(AccessError):
            cycle.with_user(self.user_portal).read(["purchase_days"])

    def test_customer_smart_button(self):
        for days_ago in (60, 30, 0):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])
        self.Cycle._refresh_cycles(today=TODAY)

        self.customer.invalidate_recordset(["journey_reorder_cycle_count"])
        self.contact.invalidate_recordset(["journey_reorder_cycle_count"])
        action = self.contact.action_journey_open_reorder_cycles()

        self.assertEqual(self.customer.journey_reorder_cycle_count, 1)
        self.assertEqual(self.contact.journey_reorder_cycle_count, 1, "a contact shows its company's cycles")
        self.assertEqual(self.Cycle.search(action["domain"]), self._cycle(self.customer, self.soil))

    def test_settings_change_cycles(self):
        for days_ago in (100, 70, 40, 10):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])
        settings = self.env["res.config.settings"].create({"journey_reorder_horizon_days": 50})
        settings.execute()

        self.Cycle._refresh_cycles(today=TODAY)

        # Two purchase days in the last 50 days are too few for a cycle.
        self.assertFalse(self._cycle(self.customer, self.soil))

    def test_invalid_settings_rejected(self):
        for values, field in (
            ({"journey_reorder_horizon_days": 0}, "Re-order History (Days)"),
            ({"journey_reorder_max_spread": -0.5}, "Maximum Spread"),
            ({"journey_reorder_max_spread": float("nan")}, "Maximum Spread"),
            ({"journey_reorder_max_spread": float("inf")}, "Maximum Spread"),
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError) as error:
                self.env["res.config.settings"].create(values)
            self.assertIn(field, str(error.exception))

    def test_invalid_parameter_logged_with_defaults(self):
        self.env["ir.config_parameter"].sudo().set_param("wholesale_customer_journey.reorder_max_spread", "abc")

        with patch("odoo.addons.wholesale_customer_journey.models.customer_journey_reorder_cycle._logger") as logger:
            settings = self.Cycle._get_settings()

        self.assertEqual(settings, (730, 0.5))
        message = logger.warning.call_args.args[0] % logger.warning.call_args.args[1:]
        self.assertIn("wholesale_customer_journey.reorder_max_spread 'abc'", message)
        self.assertIn("Fix them in the Settings", message)

    def test_quantities_in_product_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        for days_ago in (60, 30, 0):
            order = self._order_on(self.contact, days_ago, [(self.soil, 6)])
            order.order_line.write({"product_uom": dozen.id, "product_uom_qty": 1})

        self.Cycle._refresh_cycles(today=TODAY)

        self.assertEqual(self._cycle(self.customer, self.soil).typical_quantity, 12, "one dozen a time")
