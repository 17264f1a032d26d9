# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.api import call_kw
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from ..models.customer_journey_suggestion import CustomerJourneySuggestion
from .common import JourneyCase

TODAY = fields.Date.to_date("2026-11-30")


@tagged("post_install", "-at_install")
class TestSuggestions(JourneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Suggestion = cls.env["customer.journey.suggestion"]
        cls.Cycle = cls.env["customer.journey.reorder.cycle"]
        cls.Rule = cls.env["customer.journey.cross.sell.rule"]
        cls.customer.user_id = cls.user_salesman
        cls.soil = cls.env["product.product"].create({"name": "Potting soil 40 l", "type": "consu", "list_price": 6.0})
        cls.pot = cls.env["product.product"].create({"name": "Glazed pot 40 cm", "type": "consu", "list_price": 30.0})
        cls.saucer = cls.env["product.product"].create({"name": "Saucer 40 cm", "type": "consu", "list_price": 4.0})
        cls.rule = cls.Rule.create(
            {
                "level": "product",
                "antecedent_product_id": cls.pot.id,
                "consequent_product_id": cls.saucer.id,
                "window_days": 30,
                "confidence": 0.35,
                "lift": 4.2,
                "median_quantity": 6,
                "median_delay": 10,
            }
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Hoveniersbedrijf Groen", "is_company": True})
        params = cls.env["ir.config_parameter"].sudo()
        for key in ("reorder_days", "expiry_days", "block_days", "follow_up"):
            params.set_param(f"wholesale_customer_journey.suggestion_{key}", False)

    def _order_on(self, partner, days_ago, lines, company=None):
        return self._confirm_order_on(partner, TODAY - timedelta(days=days_ago), lines, company=company)

    def _set_params(self, **values):
        params = self.env["ir.config_parameter"].sudo()
        for key, value in values.items():
            params.set_param(f"wholesale_customer_journey.suggestion_{key}", str(value))

    def _suggestions(self, partner=None, product=None):
        domain = [("partner_id", "=", (partner or self.customer).id)]
        if product:
            domain.append(("product_id", "=", product.id))
        return self.Suggestion.search(domain)

    def _regular_soil_cycle(self):
        """Order soil every 28 days, last 28 days before TODAY, so that the next order is due on TODAY."""
        for days_ago, quantity in ((84, 10), (56, 12), (28, 14)):
            self._order_on(self.contact, days_ago, [(self.soil, quantity)])
        self.Cycle._refresh_cycles(today=TODAY)

    # ------------------------------------------------------------
    # Generation
    # ------------------------------------------------------------

    def test_reorder_from_cycle(self):
        self._regular_soil_cycle()

        self.Suggestion._generate_suggestions(today=TODAY)

        suggestion = self._suggestions()
        self.assertEqual(len(suggestion), 1)
        self.assertEqual(suggestion.reason, "reorder")
        self.assertEqual(suggestion.product_id, self.soil)
        self.assertEqual(suggestion.quantity, 12, "the median quantity per purchase day")
        self.assertEqual(suggestion.due_date, TODAY)
        self.assertEqual(suggestion.source_date, TODAY - timedelta(days=28))
        self.assertEqual(suggestion.interval_days, 28)
        self.assertEqual(suggestion.user_id, self.user_salesman)
        self.assertEqual(suggestion.state, "new")
        self.assertIn("about every 28 days", suggestion.explanation)
        self.assertIn(self.soil.display_name, suggestion.explanation)

    def test_reorder_lead_time(self):
        # Last order 20 days ago: the next is due in 8 days, one day beyond the default lead time of 7.
        for days_ago in (76, 48, 20):
            self._order_on(self.contact, days_ago, [(self.soil, 5)])
        self.Cycle._refresh_cycles(today=TODAY)

        self.Suggestion._generate_suggestions(today=TODAY)
        self.assertFalse(self._suggestions())

        self._set_params(reorder_days=8)
        self.Suggestion._generate_suggestions(today=TODAY)
        self.assertEqual(self._suggestions().due_date, TODAY + timedelta(days=8))

    def test_reorder_already_ordered(self):
        self._regular_soil_cycle()
        # The cycle does not know yet about this order after its last order.
        self._order_on(self.contact, 2, [(self.soil, 3)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(self._suggestions())

    def test_cross_sell_from_rule(self):
        self._order_on(self.contact, 5, [(self.pot, 20)])

        self.Suggestion._generate_suggestions(today=TODAY)

        suggestion = self._suggestions()
        self.assertEqual(len(suggestion), 1)
        self.assertEqual(suggestion.reason, "cross_sell")
        self.assertEqual(suggestion.product_id, self.saucer)
        self.assertEqual(suggestion.rule_id, self.rule)
        self.assertEqual(suggestion.quantity, 6, "the rule's typical quantity, not a ratio of the 20 pots")
        self.assertEqual(suggestion.source_product_id, self.pot)
        self.assertEqual(suggestion.source_date, TODAY - timedelta(days=5))
        self.assertEqual(suggestion.due_date, TODAY + timedelta(days=5), "first purchase plus the 10-day delay")
        self.assertEqual(suggestion.window_days, 30)
        self.assertEqual(suggestion.confidence, 0.35)
        self.assertEqual(suggestion.lift, 4.2)
        self.assertIn("35% of such customers bought", suggestion.explanation)
        self.assertIn("within 30 days (lift 4.2)", suggestion.explanation)

    def test_cross_sell_manual_rule_explanation(self):
        # A rule entered by hand has no confidence or lift to quote.
        self.rule.write({"confidence": 0, "lift": 0})
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        explanation = self._suggestions().explanation
        self.assertIn("the cross-sell rule suggests", explanation)
        self.assertNotIn("%", explanation)

    def test_cross_sell_demo_rule(self):
        rule = self.env.ref("wholesale_customer_journey.demo_cross_sell_rule_cups_trays", raise_if_not_found=False)
        if not rule:
            self.skipTest("needs the demo data")
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT p.commercial_partner_id, MIN(so.date_order::date)
              FROM sale_order_line sol
              JOIN sale_order so ON so.id = sol.order_id
              JOIN res_partner p ON p.id = so.partner_id
             WHERE so.state = 'sale' AND sol.product_id = %s
          GROUP BY 1
            """,
            [rule.antecedent_product_id.id],
        )
        first_cups = dict(self.env.cr.fetchall())
        self.env.cr.execute(
            """
            SELECT DISTINCT p.commercial_partner_id
              FROM sale_order_line sol
              JOIN sale_order so ON so.id = sol.order_id
              JOIN res_partner p ON p.id = so.partner_id
             WHERE so.state = 'sale' AND sol.product_id = %s
            """,
            [rule.consequent_product_id.id],
        )
        tray_buyers = {row[0] for row in self.env.cr.fetchall()}
        prospects = {partner_id: day for partner_id, day in first_cups.items() if partner_id not in tray_buyers}
        self.assertTrue(prospects, "the demo has customers who bought cups and no trays")
        self.assertTrue(tray_buyers & set(first_cups), "the demo has a customer who bought both")
        today = max(prospects.values())

        self.Suggestion._generate_suggestions(today=today)

        suggested = self.Suggestion.search([("rule_id", "=", rule.id)]).partner_id
        self.assertIn(self.env["res.partner"].browse(max(prospects, key=prospects.get)), suggested)
        self.assertFalse(suggested.filtered(lambda partner: partner.id in tray_buyers))

    def test_cross_sell_due_not_before_today(self):
        self.rule.median_delay = 2
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().due_date, TODAY)

    def test_cross_sell_quantity_at_least_one(self):
        self.rule.median_quantity = 0
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().quantity, 1)

    def test_cross_sell_window_open_or_closed(self):
        self._order_on(self.contact, 30, [(self.pot, 1)])
        self._order_on(self.other_customer, 31, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(len(self._suggestions()), 1, "day 30 of a 30-day window is still open")
        self.assertFalse(self._suggestions(self.other_customer), "the window closed yesterday")

    def test_cross_sell_first_purchase_counts(self):
        # A second purchase of A does not open the window again.
        self._order_on(self.contact, 200, [(self.pot, 1)])
        self._order_on(self.contact, 3, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(self._suggestions())

    def test_cross_sell_customer_bought_b(self):
        self._order_on(self.contact, 100, [(self.saucer, 2)])
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(self._suggestions())

    def test_cross_sell_archived_rule_ignored(self):
        self.rule.active = False
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(self._suggestions())

    def test_cross_sell_highest_lift_wins(self):
        weaker = self.Rule.create(
            {
                "antecedent_product_id": self.soil.id,
                "consequent_product_id": self.saucer.id,
                "window_days": 30,
                "confidence": 0.5,
                "lift": 2.0,
                "median_quantity": 50,
            }
        )
        self._order_on(self.contact, 5, [(self.pot, 1), (self.soil, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        suggestion = self._suggestions()
        self.assertEqual(len(suggestion), 1)
        self.assertEqual(suggestion.rule_id, self.rule)
        self.assertNotEqual(suggestion.rule_id, weaker)

    def test_generation_idempotent(self):
        self._regular_soil_cycle()
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        first = self.Suggestion.search([])

        counts = self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self.Suggestion.search([]), first)
        self.assertEqual(len(self._suggestions()), 2)
        self.assertEqual((counts["reorder"], counts["cross_sell"], counts["expired"]), (0, 0, 0))

    def test_one_open_suggestion_per_product(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)

        with self.assertRaises(ValidationError):
            self.Suggestion.create(
                {"partner_id": self.contact.id, "product_id": self.saucer.id, "reason": "cross_sell", "quantity": 1}
            )

    def test_dismissed_blocks_suggestion(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        dismissed = self._suggestions()
        dismissed.action_dismiss()

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions(), dismissed, "no new suggestion within the 90 days")
        self.assertEqual(dismissed.state, "dismissed")

        dismissed.date_closed = TODAY - timedelta(days=91)
        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(len(self._suggestions()), 2, "suggested again after the 90 days")

    def test_expiry(self):
        stale = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.soil.id, "reason": "reorder",
             "quantity": 5, "due_date": TODAY - timedelta(days=31)}
        )
        recent = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.pot.id, "reason": "reorder",
             "quantity": 5, "due_date": TODAY - timedelta(days=30)}
        )
        self._set_params(expiry_days=30)
        stale._plan_activities(default_user=self.user_salesman)
        activity = stale.activity_id

        counts = self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(stale.state, "expired")
        self.assertEqual(stale.date_closed, TODAY)
        self.assertFalse(activity.exists(), "nothing is left to follow up")
        self.assertEqual(recent.state, "new")
        self.assertGreaterEqual(counts["expired"], 1)

    # ------------------------------------------------------------
    # Conversion
    # ------------------------------------------------------------

    def test_conversion_on_confirm(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._order_on(self.other_customer, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()
        other = self._suggestions(self.other_customer)

        order = self._create_order(qty=1)
        order.order_line = [Command.create({"product_id": self.saucer.id, "product_uom_qty": 6})]
        order.action_confirm()

        self.assertEqual(suggestion.state, "converted")
        self.assertEqual(suggestion.order_id, order)
        self.assertEqual(suggestion.date_closed, order.date_order.date())
        self.assertEqual(other.state, "new")
        self.rule.invalidate_recordset(["suggestion_count", "converted_count", "conversion_rate"])
        self.assertEqual(self.rule.suggestion_count, 2)
        self.assertEqual(self.rule.converted_count, 1)
        self.assertEqual(self.rule.conversion_rate, 0.5)

    def test_conversion_same_company_only(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Zuid"})
        self.env.user.company_ids |= company_b
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()

        order = self.env["sale.order"].with_company(company_b).create(
            {
                "partner_id": self.contact.id,
                "company_id": company_b.id,
                "order_line": [Command.create({"product_id": self.saucer.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()

        self.assertEqual(suggestion.state, "new")

    # ------------------------------------------------------------
    # Follow-up
    # ------------------------------------------------------------

    def test_follow_up_activity(self):
        self.customer.journey_preferred_channel = "phone"
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._order_on(self.other_customer, 5, [(self.pot, 1)])
        self._set_params(follow_up="activity")
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()
        without_salesperson = self._suggestions(self.other_customer)

        self.Suggestion._follow_up_new()

        self.assertEqual(suggestion.state, "planned")
        activity = suggestion.activity_id
        self.assertEqual(activity.res_model, "res.partner")
        self.assertEqual(activity.res_id, self.customer.id)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertEqual(activity.user_id, self.user_salesman)
        self.assertIn(self.saucer.display_name, activity.summary)
        self.assertIn("6", activity.summary)
        self.assertIn("35% of such customers", str(activity.note))
        self.assertEqual(
            activity.date_deadline, max(suggestion.due_date, fields.Date.context_today(self.user_salesman))
        )
        self.assertEqual(without_salesperson.state, "new", "no salesperson: skipped")
        self.assertFalse(without_salesperson.activity_id)

    def test_follow_up_quotation(self):
        self._regular_soil_cycle()
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._set_params(follow_up="quotation")

        with freeze_time("2026-11-30 12:00:00"):
            counts = self.Suggestion._cron_generate_suggestions()

        self.assertGreaterEqual(counts["followed_up"], 2)
        suggestions = self._suggestions()
        self.assertEqual(len(suggestions), 2)
        self.assertEqual(set(suggestions.mapped("state")), {"planned"})
        order = suggestions.order_id
        self.assertEqual(len(order), 1, "one quotation per customer")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.user_id, self.user_salesman)
        self.assertEqual(
            sorted((line.product_id, line.product_uom_qty) for line in order.order_line),
            sorted([(self.soil, 12.0), (self.saucer, 6.0)]),
        )

        order.action_quotation_sent()

        self.assertEqual(set(suggestions.mapped("state")), {"sent"})

    def test_follow_up_by_channel(self):
        self.customer.journey_preferred_channel = "email"
        self.other_customer.write({"journey_preferred_channel": "visit", "user_id": self.user_manager.id})
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._order_on(self.other_customer, 5, [(self.pot, 1)])
        self._set_params(follow_up="channel")
        self.Suggestion._generate_suggestions(today=TODAY)

        self.Suggestion._follow_up_new()

        by_mail = self._suggestions()
        by_visit = self._suggestions(self.other_customer)
        self.assertEqual(by_mail.state, "sent", "a suggestion mail for the customer who prefers email")
        self.assertFalse(by_mail.activity_id)
        self.assertEqual(by_visit.activity_id.activity_type_id, self.env.ref("mail.mail_activity_data_meeting"))
        self.assertEqual(by_visit.activity_id.user_id, self.user_manager)
        self.assertFalse(by_visit.order_id)

    def test_follow_up_mail(self):
        self.customer.email = "inkoop@tuincentrum-example.be"
        self.other_customer.write({"email": False, "user_id": self.user_manager.id})
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._order_on(self.other_customer, 5, [(self.pot, 1)])
        self._set_params(follow_up="mail")
        self.Suggestion._generate_suggestions(today=TODAY)

        self.Suggestion._follow_up_new()
        self.Suggestion._follow_up_new()

        suggestion = self._suggestions()
        self.assertEqual(suggestion.state, "sent")
        messages = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id), ("subject", "like", "Suggested products")]
        )
        self.assertEqual(len(messages), 1, "one mail, also when the follow-up runs twice")
        self.assertIn(self.customer, messages.notification_ids.res_partner_id, "the customer gets it by email")
        self.assertIn(self.saucer.name, str(messages.body))
        self.assertIn("Suggested quantity", str(messages.body))
        self.assertIn(self.user_salesman.email, messages.email_from)
        unreachable = self._suggestions(self.other_customer)
        self.assertEqual(unreachable.state, "planned", "no email address: the salesperson's activity instead")
        self.assertTrue(unreachable.activity_id)

    def test_follow_up_failure_keeps_new(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._set_params(follow_up="quotation")
        self.Suggestion._generate_suggestions(today=TODAY)

        with patch.object(
            CustomerJourneySuggestion, "_create_quotations", side_effect=UserError("Invalid fiscal position")
        ), self.assertLogs("odoo.addons.wholesale_customer_journey.models.customer_journey_suggestion", "ERROR"):
            planned = self.Suggestion._follow_up_new()

        self.assertEqual(planned, 0)
        self.assertEqual(self._suggestions().state, "new")
        self.assertFalse(self._suggestions().order_id)

    def test_own_documents_user_quotation_message(self):
        own_only = mail_new_test_user(
            self.env, login="journey_own_docs", name="Olga Own", groups="sales_team.group_sale_salesman"
        )
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()
        self.assertEqual(suggestion.user_id, self.user_salesman)

        with self.assertRaisesRegex(AccessError, "would belong to salesperson Sofie Salesman"):
            suggestion.with_user(own_only).action_create_quotation()
        self.assertFalse(suggestion.order_id)

    def test_list_buttons_as_web_client_calls_them(self):
        # A list header button sends the selected ids, here none, as the first argument.
        for model, method in (
            ("customer.journey.suggestion", "action_generate_suggestions"),
            ("customer.journey.reorder.cycle", "action_refresh_cycles"),
            ("customer.journey.cross.sell.rule", "action_mine_rules"),
        ):
            with self.subTest(method=method):
                action = call_kw(self.env[model].with_user(self.user_manager), method, [[]], {})
                self.assertEqual(action["tag"], "display_notification")

    def test_generate_now_follows_up(self):
        self.customer.journey_preferred_channel = "phone"
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._set_params(follow_up="activity")

        with freeze_time("2026-11-30 12:00:00"):
            action = self.Suggestion.with_user(self.user_manager).action_generate_suggestions()

        self.assertEqual(self._suggestions().state, "planned")
        self.assertIn("followed up", action["params"]["message"])

    def test_buttons(self):
        self._regular_soil_cycle()
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self._order_on(self.other_customer, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        soil, saucer = self._suggestions(product=self.soil), self._suggestions(product=self.saucer)
        unassigned = self._suggestions(self.other_customer)

        action = (soil | saucer).with_user(self.user_salesman).action_create_quotation()
        unassigned.with_user(self.user_salesman).action_plan_activity()

        self.assertEqual(action["res_id"], soil.order_id.id)
        self.assertEqual(soil.order_id, saucer.order_id)
        self.assertEqual(unassigned.activity_id.user_id, self.user_salesman, "the user who planned it")
        with self.assertRaises(UserError):
            unassigned.with_user(self.user_salesman).action_plan_activity()
        with self.assertRaises(UserError):
            soil.with_user(self.user_salesman).action_create_quotation()
        soil.with_user(self.user_salesman).action_dismiss()
        self.assertEqual(soil.state, "dismissed")
        with self.assertRaises(UserError):
            soil.with_user(self.user_salesman).action_accept()

    # ------------------------------------------------------------
    # Sale order panel
    # ------------------------------------------------------------

    def test_order_panel_add(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()
        order = self._create_order(qty=2).with_user(self.user_salesman)

        self.assertEqual(order.journey_suggestion_ids, suggestion)

        suggestion.with_user(self.user_salesman).with_context(journey_order_id=order.id).action_add_to_order()

        line = order.order_line.filtered(lambda line: line.product_id == self.saucer)
        self.assertEqual(line.product_uom_qty, 6)
        self.assertEqual(suggestion.state, "accepted")
        self.assertEqual(suggestion.order_id, order)
        order.invalidate_recordset(["journey_suggestion_ids"])
        self.assertFalse(order.journey_suggestion_ids, "the panel hides what the order already has")

        order.action_confirm()

        self.assertEqual(suggestion.state, "converted")

    def test_order_panel_rejects_other_customer(self):
        self._order_on(self.other_customer, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        order = self._create_order()

        with self.assertRaises(UserError):
            self._suggestions(self.other_customer).with_context(journey_order_id=order.id).action_add_to_order()

    # ------------------------------------------------------------
    # Access, settings and customer smart button
    # ------------------------------------------------------------

    def test_access_and_company(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()
        company_b = self.env["res.company"].create({"name": "Groothandel Noord"})
        user_b = mail_new_test_user(
            self.env,
            login="journey_suggestion_noord",
            name="Noor Noord",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
            groups="sales_team.group_sale_salesman",
        )

        self.assertEqual(suggestion.with_user(self.user_employee).quantity, 6)
        self.assertFalse(self.Suggestion.with_user(user_b).search([("id", "=", suggestion.id)]), "other company")
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_employee).action_dismiss()
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_employee).action_plan_activity()
        with self.assertRaises(AccessError):
            self.Suggestion.with_user(self.user_salesman).action_generate_suggestions()
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_portal).read(["quantity"])
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_salesman).unlink()
        suggestion.with_user(self.user_salesman).action_accept()
        self.assertEqual(suggestion.state, "accepted")
        self.Suggestion.with_user(self.user_manager).action_generate_suggestions()

    def test_customer_smart_button(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)

        self.contact.invalidate_recordset(["journey_suggestion_count"])
        action = self.contact.action_journey_open_suggestions()

        self.assertEqual(self.contact.journey_suggestion_count, 1, "a contact shows its company's suggestions")
        self.assertEqual(self.Suggestion.search(action["domain"]), self._suggestions())
        self._suggestions().action_dismiss()
        self.customer.invalidate_recordset(["journey_suggestion_count"])
        self.assertEqual(self.customer.journey_suggestion_count, 0, "only open suggestions count")

    def test_invalid_settings_rejected(self):
        for values, field in (
            ({"journey_suggestion_reorder_days": -1}, "Re-order Lead Time (Days)"),
            ({"journey_suggestion_expiry_days": 0}, "Expire After (Days)"),
            ({"journey_suggestion_block_days": -5}, "Do Not Repeat For (Days)"),
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError) as error:
                self.env["res.config.settings"].create(values)
            self.assertIn(field, str(error.exception))

    def test_zero_settings_kept(self):
        settings = self.env["res.config.settings"].create(
            {"journey_suggestion_reorder_days": 0, "journey_suggestion_block_days": 0}
        )

        settings.execute()

        values = self.Suggestion._get_settings()
        self.assertEqual(values["reorder_days"], 0, "0 is a valid lead time, not the default")
        self.assertEqual(values["block_days"], 0)

    def test_invalid_parameter_stops_generation(self):
        self._set_params(expiry_days="soon")

        with self.assertRaises(UserError) as error:
            self.Suggestion._generate_suggestions(today=TODAY)

        self.assertIn("Expire After (Days)", str(error.exception))
        self.assertIsNone(self.Suggestion._cron_generate_suggestions(), "the cron logs the error and stops")


@tagged("post_install", "-at_install")
class TestSuggestionTour(HttpCase):
    """Add a suggested product from the quotation form in the browser, as a salesperson."""

    def test_add_suggested_product_on_quotation(self):
        salesman = mail_new_test_user(
            self.env,
            login="journey_suggestion_tour",
            name="Tim Tour Salesman",
            email="tim.tour@example.com",
            groups="sales_team.group_sale_salesman",
        )
        customer = self.env["res.partner"].create(
            {"name": "Journey Tour Horeca", "is_company": True, "user_id": salesman.id}
        )
        # Same name as PRODUCT in static/tests/tours/customer_journey_suggestion_tour.js.
        saucer = self.env["product.product"].create({"name": "Journey Tour Saucer 40 cm", "type": "consu"})
        pot = self.env["product.product"].create({"name": "Journey Tour Pot 40 cm", "type": "consu"})
        suggestion = self.env["customer.journey.suggestion"].create(
            {"partner_id": customer.id, "product_id": saucer.id, "reason": "cross_sell", "quantity": 4}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": salesman.id,
                "order_line": [Command.create({"product_id": pot.id, "product_uom_qty": 2})],
            }
        )

        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "wholesale_customer_journey_suggestion_tour",
            login=salesman.login,
        )

        self.assertEqual(suggestion.state, "accepted")
        self.assertEqual(suggestion.order_id, order)
        self.assertEqual(order.order_line.filtered(lambda line: line.product_id == saucer).product_uom_qty, 4)
