# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Edge cases of suggestions and the hand-off: states, cancelled orders, duplicates, languages."""
from datetime import timedelta

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .test_suggestions import TODAY, TestSuggestions
from .test_service_handoff import TestServiceHandoff


@tagged("post_install", "-at_install")
class TestSuggestionEdgeCases(TestSuggestions):
    # Run only the tests below, not the inherited ones.
    locals().update(dict.fromkeys([name for name in dir(TestSuggestions) if name.startswith("test_")]))

    def _cross_sell_suggestion(self, partner=None):
        self._order_on(partner or self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        return self._suggestions(partner)

    def test_manual_rule_lift_order(self):
        """README: when several rules suggest the same product, the one with the highest lift wins."""
        manual = self.Rule.create(
            {"antecedent_product_id": self.soil.id, "consequent_product_id": self.saucer.id, "window_days": 30}
        )
        self.env.flush_all()
        self.env.cr.execute("SELECT lift FROM customer_journey_cross_sell_rule WHERE id = %s", [manual.id])
        stored_lift = self.env.cr.fetchone()[0]
        self._order_on(self.contact, 5, [(self.pot, 1), (self.soil, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        suggestion = self._suggestions()
        self.assertEqual(
            suggestion.rule_id, self.rule,
            f"the rule with lift 4.2 should win over a manual rule with lift {stored_lift!r} (NULL sorts first in DESC)",
        )

    def test_plan_activity_keeps_accepted_state(self):
        """Plan Activity on an accepted suggestion (the form shows the button) keeps it accepted."""
        suggestion = self._cross_sell_suggestion()
        suggestion.action_accept()

        suggestion.with_user(self.user_salesman).action_plan_activity()

        self.assertEqual(suggestion.state, "accepted")

    def test_plan_activity_reopens_suggestion_in_order_tab(self):
        """After Add, Plan Activity keeps the suggestion out of Suggested Products of another quotation."""
        suggestion = self._cross_sell_suggestion()
        order = self._create_order(qty=2)
        suggestion.with_context(journey_order_id=order.id).action_add_to_order()
        self.assertEqual(suggestion.state, "accepted")

        suggestion.action_plan_activity()
        second = self._create_order(qty=1)

        self.assertNotIn(suggestion, second.journey_suggestion_ids, "an accepted suggestion should not be offered again")

    def test_add_to_order_twice(self):
        """A second Add (stale tab, double click, RPC) is rejected instead of adding the product twice."""
        suggestion = self._cross_sell_suggestion()
        order = self._create_order(qty=2)
        suggestion.with_context(journey_order_id=order.id).action_add_to_order()
        with self.assertRaises(UserError):
            suggestion.with_context(journey_order_id=order.id).action_add_to_order()

    def test_quotation_follow_up_skips_missing_salesperson(self):
        """README: a suggestion without salesperson is skipped and logged, also in quotation mode."""
        suggestion = self._cross_sell_suggestion(self.other_customer)
        self.assertFalse(suggestion.user_id)
        self._set_params(follow_up="quotation")

        self.Suggestion._follow_up_new()

        self.assertEqual(suggestion.state, "new", f"quotation {suggestion.order_id.name} of {suggestion.order_id.user_id.name}")

    def test_zero_quantity_line_does_not_convert(self):
        """A line of quantity 0 is no purchase (generation ignores it), so it does not convert."""
        suggestion = self._cross_sell_suggestion()
        order = self._create_order(qty=1)
        order.order_line = [Command.create({"product_id": self.saucer.id, "product_uom_qty": 0})]
        order.action_confirm()

        self.assertEqual(suggestion.state, "new")

    def test_returned_in_order_does_not_convert(self):
        """1 dozen sold and 12 units returned in one order net to nothing, so they do not convert."""
        suggestion = self._cross_sell_suggestion()
        order = self._create_order(qty=1)
        order.order_line = [
            Command.create(
                {"product_id": self.saucer.id, "product_uom_qty": 1, "product_uom": self.env.ref("uom.product_uom_dozen").id}
            ),
            Command.create({"product_id": self.saucer.id, "product_uom_qty": -12}),
        ]
        order.action_confirm()

        self.assertEqual(suggestion.state, "new")

    def test_cancelled_order_undoes_conversion(self):
        """Cancelling the converting order reopens the suggestion, so the rule's rate no longer counts it."""
        suggestion = self._cross_sell_suggestion()
        order = self._create_order(qty=1)
        order.order_line = [Command.create({"product_id": self.saucer.id, "product_uom_qty": 6})]
        order.action_confirm()
        self.assertEqual(suggestion.state, "converted")

        order._action_cancel()

        self.assertNotEqual(suggestion.state, "converted", "converted by a cancelled order")

    def test_dismiss_closes_activity(self):
        """Dismissing a planned suggestion removes the salesperson's activity."""
        self._set_params(follow_up="activity")
        suggestion = self._cross_sell_suggestion()
        self.Suggestion._follow_up_new()
        activity = suggestion.activity_id
        self.assertTrue(activity)

        suggestion.action_dismiss()

        self.assertFalse(activity.exists(), "the activity of a dismissed suggestion should go")

    def test_conversion_closes_activity(self):
        self._set_params(follow_up="activity")
        suggestion = self._cross_sell_suggestion()
        self.Suggestion._follow_up_new()
        activity = suggestion.activity_id
        order = self._create_order(qty=1)
        order.order_line = [Command.create({"product_id": self.saucer.id, "product_uom_qty": 6})]
        order.action_confirm()
        self.assertEqual(suggestion.state, "converted")

        self.assertFalse(activity.exists(), "the activity of a converted suggestion should be done")

    def test_write_duplicate_gives_readable_error(self):
        """Editing a suggestion into a second open one for the same product: readable message, not a SQL error."""
        first = self._cross_sell_suggestion()
        second = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.soil.id, "reason": "reorder", "quantity": 1}
        )
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                second.write({"product_id": first.product_id.id})
                self.env.flush_all()

    def test_create_batch_duplicate_gives_readable_error(self):
        vals = {"partner_id": self.customer.id, "product_id": self.soil.id, "reason": "reorder", "quantity": 1}
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                self.Suggestion.create([vals, dict(vals)])
                self.env.flush_all()

    def test_expired_accepted_on_quotation(self):
        """An accepted suggestion on a draft quotation does not expire, and confirming the quotation converts it."""
        suggestion = self._cross_sell_suggestion()
        order = self._create_order(qty=1)
        suggestion.with_context(journey_order_id=order.id).action_add_to_order()
        self.Suggestion._generate_suggestions(today=TODAY + timedelta(days=60))
        order.action_confirm()

        self.assertEqual(suggestion.state, "converted", "the quotation it was added to was confirmed")


@tagged("post_install", "-at_install")
class TestHandoffEdgeCases(TestServiceHandoff):
    # Run only the tests below, not the inherited ones.
    locals().update(dict.fromkeys([name for name in dir(TestServiceHandoff) if name.startswith("test_")]))

    def test_stage_wizard_single_todo(self):
        self._create_order().action_confirm()
        self.assertEqual(len(self._service_todos(self.customer)), 1)
        wizard_model = self.env["customer.journey.stage.set"]
        for stage in (self.stage_intent, self.stage_aftersales):
            wizard_model.create({"partner_ids": [Command.set(self.customer.ids)], "stage_id": stage.id, "reason": "review"}).action_apply()
        self.assertEqual(len(self._service_todos(self.customer)), 1)

    def test_handoff_todo_in_service_person_language(self):
        """The to-do is in the service person's language, not in that of the user who confirmed the order."""
        self.env["res.lang"]._activate_lang("nl_NL")
        self.service_user.lang = "nl_NL"
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env.user.lang = "fr_FR"
        self.env["ir.module.module"]._load_module_terms(["wholesale_customer_journey"], ["nl_NL"], overwrite=True)
        self._create_order().with_context(lang="fr_FR").action_confirm()

        todo = self._service_todos(self.customer)
        self.assertNotIn("Welcome", todo.summary)
