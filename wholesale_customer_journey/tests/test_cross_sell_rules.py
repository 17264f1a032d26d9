# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from ..analysis.cross_sell import mine_pairs
from ..models.customer_journey_cross_sell_rule import MINING_LOCK, CustomerJourneyCrossSellRule
from .common import JourneyCase

TODAY = fields.Date.to_date("2026-11-30")
START = 100  # days before TODAY of day 0 of the history

# (customer, product, day, quantity): the history of test_analysis, with C bought by every customer.
HISTORY = [
    ("c1", "A", 0, 10), ("c1", "B", 30, 5),  # B on the last day of a 30-day window
    ("c2", "A", 0, 4), ("c2", "B", 31, 2),  # B one day after a 30-day window
    ("c3", "A", 0, 2), ("c3", "B", 0, 3),  # B on the same day as A
    ("c4", "B", 5, 1),  # B without A
    ("c5", "A", 10, 1),  # A without B
    ("c1", "C", 2, 1), ("c2", "C", 2, 1), ("c3", "C", 2, 1), ("c4", "C", 2, 1), ("c5", "C", 2, 1),
]


@tagged("post_install", "-at_install")
class TestCrossSellRules(JourneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["customer.journey.cross.sell.rule"]
        # A company of its own: its customers and orders are the whole history that mining reads there.
        cls.mining_company = cls.env["res.company"].create({"name": "Groothandel Mijnbouw"})
        cls.env.user.company_ids |= cls.mining_company
        cls.categ_garden = cls.env["product.category"].create({"name": "Garden"})
        cls.categ_pots = cls.env["product.category"].create({"name": "Pots"})
        cls.categ_tools = cls.env["product.category"].create({"name": "Tools"})
        cls.products = {
            code: cls.env["product.product"].create({"name": f"Product {code}", "type": "consu", "categ_id": categ.id})
            for code, categ in (("A", cls.categ_garden), ("B", cls.categ_pots), ("C", cls.categ_tools))
        }
        cls.delivery = cls.env["product.product"].create({"name": "Delivery fee", "type": "service"})
        cls.customers = {
            code: cls.env["res.partner"].create({"name": f"Mining customer {code}", "is_company": True})
            for code in ("c1", "c2", "c3", "c4", "c5")
        }
        cls._set_thresholds(min_support=1, min_confidence=0, min_lift=0, windows="30, 31", levels="product")

    @classmethod
    def _set_thresholds(cls, **values):
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in values.items():
            params.set_param(f"wholesale_customer_journey.cross_sell_{key}", str(value))

    def _order(self, customer, day, lines, company=None):
        """Confirm an order of ``lines`` [(product, quantity)] of ``customer`` on day ``day`` of the history."""
        company = company or self.mining_company
        order = (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": customer.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": quantity})
                        for product, quantity in lines
                    ],
                }
            )
        )
        order.action_confirm()
        date = datetime.combine(TODAY - timedelta(days=START - day), datetime.min.time()) + timedelta(hours=9)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sale_order SET date_order = %s WHERE id = %s", (date, order.id))
        order.invalidate_recordset()
        return order

    def _add_line(self, order, day, product, quantity, uom):
        """Add a line of ``quantity`` in ``uom`` to the confirmed ``order`` of day ``day`` of the history."""
        order.write({"state": "draft"})
        order.order_line = [Command.create({"product_id": product.id, "product_uom_qty": quantity, "product_uom": uom.id})]
        order.action_confirm()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE sale_order SET date_order = %s WHERE id = %s",
            (datetime.combine(TODAY - timedelta(days=START - day), datetime.min.time()), order.id),
        )

    def _load_history(self, history=HISTORY):
        for customer, product, day, quantity in history:
            self._order(self.customers[customer], day, [(self.products[product], quantity)])

    def _rule(self, antecedent, consequent, window, **domain):
        return self.Rule.with_context(active_test=False).search(
            [
                ("company_id", "=", self.mining_company.id),
                ("antecedent_product_id", "=", self.products[antecedent].id),
                ("consequent_product_id", "=", self.products[consequent].id),
                ("window_days", "=", window),
            ]
        )

    def test_rules_match_reference(self):
        self._load_history()

        self.Rule._mine_rules(today=TODAY)

        reference_history = [
            (customer, product, TODAY - timedelta(days=START - day), quantity)
            for customer, product, day, quantity in HISTORY
        ]
        for window in (30, 31):
            expected = mine_pairs(reference_history, window)
            mined = self.Rule.search([("company_id", "=", self.mining_company.id), ("window_days", "=", window)])
            self.assertEqual(len(mined), len(expected))
            for pair in expected:
                with self.subTest(pair=(pair.antecedent, pair.consequent, window)):
                    rule = self._rule(pair.antecedent, pair.consequent, window)
                    self.assertEqual(rule.support, pair.support)
                    self.assertAlmostEqual(rule.confidence, pair.confidence, places=4)
                    self.assertAlmostEqual(rule.lift, pair.lift, places=2)
                    self.assertEqual(rule.median_quantity, pair.median_quantity)
                    self.assertAlmostEqual(rule.median_quantity_ratio, pair.median_quantity_ratio, places=2)
                    self.assertEqual(rule.median_delay, pair.median_delay)
                    self.assertEqual(rule.origin, "mined")
        # Day 30 is inside a 30-day window, day 31 outside.
        self.assertEqual(self._rule("A", "B", 30).support, 2)
        self.assertEqual(self._rule("A", "B", 31).support, 3)
        self.assertEqual(self._rule("A", "B", 30).median_delay, 15)
        self.assertEqual(self._rule("A", "B", 30).median_quantity, 4)

    def test_thresholds_filter_rules(self):
        self._load_history()
        self._set_thresholds(min_support=3, windows="30, 31")

        self.Rule._mine_rules(today=TODAY)

        mined = self.Rule.search([("company_id", "=", self.mining_company.id)])
        # A then B has 3 customers within 31 days and 2 within 30.
        self.assertIn(self._rule("A", "B", 31), mined)
        self.assertFalse(self._rule("A", "B", 30))
        self.assertTrue(all(rule.support >= 3 for rule in mined))

    def test_category_rules(self):
        self._load_history()
        self._set_thresholds(levels="category")

        self.Rule._mine_rules(today=TODAY)

        rule = self.Rule.search(
            [
                ("company_id", "=", self.mining_company.id),
                ("antecedent_categ_id", "=", self.categ_garden.id),
                ("consequent_categ_id", "=", self.categ_pots.id),
                ("window_days", "=", 30),
            ]
        )
        self.assertEqual(rule.level, "category")
        self.assertEqual(rule.support, 2)
        self.assertFalse(self.Rule.search([("company_id", "=", self.mining_company.id), ("level", "=", "product")]))

    def test_services_notes_and_same_product_left_out(self):
        for customer in ("c1", "c2"):
            order = self._order(self.customers[customer], 0, [(self.products["A"], 1), (self.delivery, 1)])
            order.order_line = [Command.create({"display_type": "line_note", "name": "Leave at the back door"})]
            self._order(self.customers[customer], 5, [(self.products["A"], 2)])

        self.Rule._mine_rules(today=TODAY)

        self.assertFalse(self.Rule.search([("company_id", "=", self.mining_company.id)]))

    def test_orders_before_horizon_left_out(self):
        self._load_history()
        self._set_thresholds(horizon_days=START - 5)

        self.Rule._mine_rules(today=TODAY)

        # Only c1 and c2 bought B after day 5, and no customer bought A in the horizon.
        self.assertFalse(self._rule("A", "B", 30))

    def test_mining_again_updates_the_same_rules(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        rule = self._rule("A", "B", 31)
        reverse = self._rule("B", "A", 30)
        self.assertTrue(reverse)

        self._order(self.customers["c5"], 20, [(self.products["B"], 6)])
        self._set_thresholds(min_support=2)
        self.Rule._mine_rules(today=TODAY)

        self.assertEqual(self._rule("A", "B", 31), rule, "the rule keeps its id, and so its suggestions")
        self.assertEqual(rule.support, 4)
        self.assertFalse(reverse.exists(), "only c3 bought B, then A: below the new minimum support")

    def test_locked_rules_kept(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        edited = self._rule("A", "B", 31)
        archived = self._rule("A", "B", 30)
        edited.median_quantity = 12
        archived.action_archive()
        self.assertTrue(edited.locked)
        self.assertTrue(archived.locked)

        self._set_thresholds(min_support=4)
        self.Rule._mine_rules(today=TODAY)

        self.assertEqual(edited.median_quantity, 12)
        self.assertEqual(edited.support, 3, "a locked rule keeps its measures too")
        self.assertFalse(archived.active)
        self.assertEqual(len(self._rule("A", "B", 30)), 1, "no second rule beside the archived one")

        edited.action_unlock()
        self.Rule._mine_rules(today=TODAY)
        self.assertFalse(edited.exists(), "unlocked, it goes when it no longer passes the thresholds")

    def test_manual_rules_kept(self):
        self._load_history()
        manual = self.Rule.create(
            {
                "company_id": self.mining_company.id,
                "antecedent_product_id": self.products["A"].id,
                "consequent_product_id": self.products["B"].id,
                "window_days": 30,
                "median_quantity": 24,
            }
        )

        counts = self.Rule._mine_rules(today=TODAY)

        self.assertEqual(self._rule("A", "B", 30), manual)
        self.assertEqual(manual.origin, "manual")
        self.assertEqual(manual.median_quantity, 24)
        self.assertEqual(self._rule("A", "B", 31).origin, "mined")
        mined = self.Rule.search_count([("origin", "=", "mined")])
        self.assertEqual(counts["rules"], mined, "the pair of the manual rule is no mined rule")

    def test_failed_run_keeps_previous_rules(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        rule = self._rule("A", "B", 31)
        count = self.Rule.search_count([("company_id", "=", self.mining_company.id)])
        self._order(self.customers["c5"], 20, [(self.products["B"], 6)])
        replace = CustomerJourneyCrossSellRule._mining_replace_rules

        def replace_then_fail(rules, company_ids, measures):
            replace(rules, company_ids, measures)
            raise RuntimeError("disk full")

        with patch.object(CustomerJourneyCrossSellRule, "_mining_replace_rules", replace_then_fail):
            with self.assertRaises(RuntimeError):
                self.Rule._mine_rules(today=TODAY)

        rule.invalidate_recordset()
        self.assertEqual(rule.support, 3)
        self.assertEqual(self.Rule.search_count([("company_id", "=", self.mining_company.id)]), count)

    def test_invalid_thresholds_rejected(self):
        for values, setting in (
            ({"journey_cross_sell_min_support": 0}, "Minimum Support"),
            ({"journey_cross_sell_min_confidence": 1.5}, "Minimum Confidence"),
            ({"journey_cross_sell_min_lift": -1}, "Minimum Lift"),
            ({"journey_cross_sell_windows": "30, a month"}, "Windows (Days)"),
            ({"journey_cross_sell_windows": "4000"}, "Windows (Days)"),
            ({"journey_cross_sell_windows": " "}, "Windows (Days)"),
            ({"journey_cross_sell_horizon_days": 0}, "Cross-sell History (Days)"),
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError) as error:
                self.env["res.config.settings"].create(values)
            self.assertIn(setting, str(error.exception))

    def test_invalid_parameter_stops_mining(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        self._set_thresholds(min_lift="two")

        with self.assertRaises(UserError) as error:
            self.Rule._mine_rules(today=TODAY)
        self.assertIn("Minimum Lift", str(error.exception))
        with self.assertLogs("odoo.addons.wholesale_customer_journey.models.customer_journey_cross_sell_rule", "ERROR"):
            self.assertIsNone(self.Rule._cron_mine_rules())
        self.assertTrue(self._rule("A", "B", 31), "the previous rules stay")

    def test_prospects(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)

        action = self._rule("A", "B", 31).action_view_prospects()

        self.assertEqual(self.env["res.partner"].search(action["domain"]), self.customers["c5"])

    def test_manual_rule_needs_two_products(self):
        product_a = self.products["A"]
        for values in (
            {"antecedent_product_id": product_a.id},
            {"antecedent_product_id": product_a.id, "consequent_product_id": product_a.id},
            {"level": "category", "antecedent_categ_id": self.categ_garden.id},
            {"antecedent_product_id": product_a.id, "consequent_product_id": self.products["B"].id, "window_days": -1},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.Rule.create(values)

    def test_access_and_company(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        rule = self._rule("A", "B", 31)
        user_mining = mail_new_test_user(
            self.env,
            login="journey_mining_reader",
            name="Mira Mijnbouw",
            company_id=self.mining_company.id,
            company_ids=[Command.set(self.mining_company.ids)],
            groups="base.group_user",
        )

        self.assertEqual(rule.with_user(user_mining).support, 3)
        self.assertFalse(self.Rule.with_user(self.user_employee).search([("id", "=", rule.id)]), "other company")
        with self.assertRaises(AccessError):
            rule.with_user(user_mining).write({"median_quantity": 1})
        with self.assertRaises(AccessError):
            self.Rule.with_user(user_mining).action_mine_rules()
        with self.assertRaises(AccessError):
            rule.with_user(self.user_portal).read(["support"])
        self.Rule.with_user(self.user_manager).action_mine_rules()

    def test_settings_keep_zero(self):
        settings = self.env["res.config.settings"].create(
            {"journey_cross_sell_min_confidence": 0, "journey_cross_sell_min_lift": 0, "journey_reorder_max_spread": 0}
        )
        settings.execute()

        thresholds = self.Rule._get_thresholds()
        self.assertEqual(thresholds.min_confidence, 0)
        self.assertEqual(thresholds.min_lift, 0)
        self.assertEqual(self.env["customer.journey.reorder.cycle"]._get_settings()[1], 0)

    def test_mining_skips_category_within_category(self):
        # Every customer buys a product of a subcategory of Garden, then one filed in Garden itself.
        self.products["A"].categ_id = self.env["product.category"].create(
            {"name": "Glazed", "parent_id": self.categ_garden.id}
        )
        self.products["B"].categ_id = self.categ_garden
        self._load_history()
        self._set_thresholds(levels="category")

        self.Rule._mine_rules(today=TODAY)

        within = self.Rule.search(
            [("level", "=", "category"), ("antecedent_categ_id", "=", self.products["A"].categ_id.id),
             ("consequent_categ_id", "=", self.categ_garden.id)]
        )
        self.assertFalse(within, "Glazed lies within Garden: a rule that could never suggest anything")

    def test_category_rule_items_checked(self):
        sub_pots = self.env["product.category"].create({"name": "Glazed", "parent_id": self.categ_pots.id})
        category_rule = {"level": "category", "antecedent_categ_id": self.categ_pots.id,
                         "consequent_categ_id": self.categ_tools.id, "window_days": 30}
        for values, message in (
            (dict(category_rule, antecedent_product_id=self.products["A"].id), "names no product"),
            ({"level": "product", "antecedent_product_id": self.products["A"].id,
              "consequent_product_id": self.products["B"].id, "consequent_categ_id": self.categ_tools.id,
              "window_days": 30}, "names no category"),
            (dict(category_rule, antecedent_categ_id=sub_pots.id, consequent_categ_id=self.categ_pots.id),
             "lies within Then Category"),
        ):
            with self.subTest(message=message), self.assertRaises(ValidationError) as error:
                self.Rule.create(values)
            self.assertIn(message, str(error.exception))

    def test_same_rule_rejected(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        mined = self._rule("A", "B", 31)
        values = {
            "company_id": self.mining_company.id,
            "antecedent_product_id": self.products["A"].id,
            "consequent_product_id": self.products["B"].id,
            "window_days": 31,
        }

        with self.assertRaises(ValidationError) as error:
            self.Rule.create(values)
        self.assertIn("exists already", str(error.exception))
        self.assertEqual(mined.copy().window_days, 32, "a copy takes the next free window")
        copy = mined.copy({"window_days": 45})
        self.assertEqual(copy.origin, "manual")
        self.assertFalse(copy.locked)

    def test_unlock_and_unarchive(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        rule = self._rule("A", "B", 31)

        rule.action_archive()
        rule.action_unlock()
        self.assertTrue(rule.active, "unlocking hands an archived rule back to mining, active")
        self.assertFalse(rule.locked)
        rule.action_archive()
        rule.locked = False
        rule.action_unarchive()
        self.assertFalse(rule.locked, "unarchiving is no edit")

    def test_prospects_need_sales_access(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        reader = mail_new_test_user(
            self.env,
            login="journey_mining_no_sales",
            name="Nina Nosales",
            company_id=self.mining_company.id,
            company_ids=[Command.set(self.mining_company.ids)],
            groups="base.group_user",
        )

        with self.assertRaises(AccessError):
            self._rule("A", "B", 31).with_user(reader).action_view_prospects()

    def test_category_prospects_include_subcategories(self):
        sub = self.env["product.category"].create({"name": "Garden tools", "parent_id": self.categ_garden.id})
        spade = self.env["product.product"].create({"name": "Spade", "type": "consu", "categ_id": sub.id})
        self._order(self.customers["c1"], 0, [(spade, 2)])
        self._order(self.customers["c2"], 0, [(spade, 0)])
        rule = self.Rule.create(
            {
                "company_id": self.mining_company.id,
                "level": "category",
                "antecedent_categ_id": self.categ_garden.id,
                "consequent_categ_id": self.categ_pots.id,
            }
        )

        prospects = self.env["res.partner"].search(rule.action_view_prospects()["domain"])

        self.assertEqual(prospects, self.customers["c1"], "c2's line of no quantity is no purchase")

    def test_window_texts_rejected(self):
        for text in ("²", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"):
            with self.subTest(text=text), self.assertRaises(ValidationError) as error:
                self.env["res.config.settings"].create({"journey_cross_sell_windows": text})
            self.assertIn("Windows (Days)", str(error.exception))

    def test_window_texts_saved_as_mined(self):
        for text, saved in (("7;30", "7, 30"), ("7,,30", "7, 30"), ("30, 7, 7", "7, 30")):
            with self.subTest(text=text):
                self.env["res.config.settings"].create({"journey_cross_sell_windows": text}).execute()

                self.assertEqual(
                    self.env["ir.config_parameter"].sudo().get_param("wholesale_customer_journey.cross_sell_windows"),
                    saved,
                )

    def test_nan_lift_parameter_rejected(self):
        self._set_thresholds(min_lift="nan")

        with self.assertRaises(UserError) as error:
            self.Rule._get_thresholds()
        self.assertIn("Minimum Lift", str(error.exception))

    def test_second_run_waits_for_first(self):
        self._load_history()
        with self.env.registry.cursor() as other_cr:
            other_cr.execute("SELECT pg_advisory_xact_lock(%s)", [MINING_LOCK])

            with self.assertRaises(UserError) as error:
                self.Rule._mine_rules(today=TODAY)
            self.assertIn("being mined already", str(error.exception))
            other_cr.rollback()

    def test_purchase_before_horizon_not_new(self):
        self._set_thresholds(horizon_days=START - 10)
        self._order(self.customers["c1"], 0, [(self.products["B"], 1)])
        self._order(self.customers["c1"], 20, [(self.products["A"], 1)])
        self._order(self.customers["c1"], 25, [(self.products["B"], 1)])

        self.Rule._mine_rules(today=TODAY)

        self.assertFalse(self._rule("A", "B", 30), "c1 knew B before the horizon")

    def test_quantities_in_product_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        self._order(self.customers["c1"], 0, [(self.products["A"], 1)])
        order = self._order(self.customers["c1"], 2, [(self.products["B"], 5)])
        self._add_line(order, 2, self.products["B"], 4, dozen)

        self.Rule._mine_rules(today=TODAY)

        self.assertEqual(self._rule("A", "B", 30).median_quantity, 53, "5 units and 4 dozen")

    def test_returns_of_the_day_net(self):
        self._order(self.customers["c1"], 0, [(self.products["A"], 1)])
        self._order(self.customers["c1"], 3, [(self.products["B"], 10), (self.products["B"], -4)])

        self.Rule._mine_rules(today=TODAY)

        self.assertEqual(self._rule("A", "B", 30).median_quantity, 6)

    def test_returned_day_with_remainder_not_bought(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        # c1 buys 0.1 and 0.2 units and returns 0.3 on the same day: float arithmetic leaves 5.55e-17.
        self._order(self.customers["c1"], 0, [(self.products["A"], 1)])
        self._order(self.customers["c1"], 3, [(self.products["B"], 0.1), (self.products["B"], 0.2)])
        self._order(self.customers["c1"], 3, [(self.products["B"], -0.3)])
        self._order(self.customers["c1"], 10, [(self.products["B"], 2)])
        # c2 buys 1 dozen and returns 12 units on the same day: the unit conversion leaves a remainder.
        self._order(self.customers["c2"], 0, [(self.products["A"], 1)])
        order = self._order(self.customers["c2"], 3, [(self.products["B"], -12)])
        self._add_line(order, 3, self.products["B"], 1, dozen)
        self._order(self.customers["c2"], 10, [(self.products["B"], 3)])

        self.Rule._mine_rules(today=TODAY)

        rule = self._rule("A", "B", 30)
        self.assertEqual(rule.support, 2)
        self.assertEqual(rule.median_delay, 10, "the first B is that of day 10")
        self.assertEqual(rule.median_quantity, 2.5)

    def test_archived_products_left_out(self):
        self._load_history()
        self.products["B"].action_archive()

        self.Rule._mine_rules(today=TODAY)

        self.assertFalse(self._rule("A", "B", 31))
        self.assertTrue(self._rule("A", "C", 30))

    def test_mine_now_only_own_companies(self):
        self._load_history()
        other_rule = self.Rule.create(
            {
                "antecedent_product_id": self.products["A"].id,
                "consequent_product_id": self.products["C"].id,
                "window_days": 7,
            }
        )
        self.env.cr.execute(
            "UPDATE customer_journey_cross_sell_rule SET origin = 'mined' WHERE id = %s", [other_rule.id]
        )
        other_rule.invalidate_recordset()
        manager = mail_new_test_user(
            self.env,
            login="journey_mining_manager",
            name="Mats Mijnbouw",
            company_id=self.mining_company.id,
            company_ids=[Command.set(self.mining_company.ids)],
            groups="base.group_user,wholesale_customer_journey.group_journey_manager",
        )

        self.Rule.with_user(manager).with_company(self.mining_company).action_mine_rules()

        self.assertTrue(self._rule("A", "B", 31))
        self.assertTrue(other_rule.exists(), "the other company's mined rule stays")

    def test_removed_rule_expires_its_suggestions(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        rule = self._rule("B", "A", 30)
        suggestion = self.env["customer.journey.suggestion"].create(
            {
                "company_id": self.mining_company.id,
                "partner_id": self.customers["c4"].id,
                "product_id": self.products["A"].id,
                "quantity": 1,
                "reason": "cross_sell",
                "rule_id": rule.id,
                "due_date": TODAY,
            }
        )
        self._set_thresholds(min_support=2)

        self.Rule._mine_rules(today=TODAY)

        self.assertFalse(rule.exists())
        suggestion.invalidate_recordset()
        self.assertEqual(suggestion.state, "expired")

    def test_run_without_pairs_removes_mined_rules(self):
        self._load_history()
        self.Rule._mine_rules(today=TODAY)
        mined = self.Rule.search([("company_id", "=", self.mining_company.id), ("origin", "=", "mined")])
        self.assertTrue(mined)
        # No pair has 6 customers in a history of 5.
        self._set_thresholds(min_support=6)

        counts = self.Rule._mine_rules(today=TODAY)

        self.assertEqual(counts["rules"], 0)
        self.assertEqual(counts["created"], 0)
        self.assertFalse(mined.exists())
