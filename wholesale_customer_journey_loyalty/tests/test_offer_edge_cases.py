# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import OfferCase


@tagged("post_install", "-at_install")
class TestOfferEdgeCases(OfferCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_journey = mail_new_test_user(
            cls.env, login="journey_only", name="Jana Journey", email="jana@example.com",
            groups="wholesale_customer_journey.group_journey_user",
        )

    def _suggest(self, product, program, **vals):
        return self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": product.id, "reason": "reorder", "quantity": 6,
             "loyalty_program_id": program.id, **vals}
        )

    def _notes(self, order):
        return order.message_ids.filtered(lambda m: "is not applied" in str(m.body))

    # A suggestion created in the form gets the company's offer.
    def test_form_create_gets_company_offer(self):
        self.company.journey_suggestion_program_id = self.promo_code
        with Form(self.Suggestion.with_user(self.user_manager)) as form:
            form.partner_id = self.customer
            form.product_id = self.saucer
            form.reason = "reorder"
        suggestion = form.record
        self.assertEqual(
            suggestion.loyalty_program_id, self.promo_code,
            "a suggestion created from the form must get the company's Suggestion Offer",
        )

    # README: "A salesperson applies a configured offer, but cannot pick another one".
    def test_salesperson_cannot_pick_offer_on_create(self):
        big = self._make_coupons("Half price", 50)
        with self.assertRaises(AccessError, msg="a salesperson picked the 50% coupon by creating a suggestion"):
            suggestion = self.Suggestion.with_user(self.user_salesman).create(
                {"partner_id": self.customer.id, "product_id": self.saucer.id, "reason": "reorder",
                 "loyalty_program_id": big.id}
            )
            suggestion.action_issue_coupon()

    # The form shows the Offer read-only to users who may not change it.
    def test_salesperson_form_offer_field_readonly(self):
        suggestion = self._suggest(self.saucer, self.promo_code)
        with Form(suggestion.with_user(self.user_salesman)) as form:
            with self.assertRaises(AssertionError, msg="the Offer field is read-only for a salesperson"):
                form.loyalty_program_id = self.promotion
            form.quantity = 8
        self.assertEqual(suggestion.quantity, 8, "the salesperson's other changes are saved")
        self.assertEqual(suggestion.loyalty_program_id, self.promo_code)

    # A Customer Journey user (no Sales rights) follows up suggestions that carry an offer.
    def test_journey_user_plans_activity_with_offer(self):
        suggestion = self._suggest(self.saucer, self.promo_code)
        self.env.invalidate_all()  # a new request starts with an empty cache
        suggestion.with_user(self.user_journey).action_plan_activity()
        self.assertTrue(suggestion.activity_id)

    def test_journey_user_creates_suggestion_with_company_offer(self):
        self.company.journey_suggestion_program_id = self.promo_code
        self.env.invalidate_all()  # a new request starts with an empty cache
        suggestion = self.Suggestion.with_user(self.user_journey).create(
            {"partner_id": self.customer.id, "product_id": self.saucer.id, "reason": "reorder"}
        )
        self.assertEqual(suggestion.loyalty_program_id, self.promo_code)

    # "Coupon Used": an order of the customer used the coupon; a draft quotation is no use.
    def test_draft_quotation_does_not_use_coupon(self):
        suggestion = self._suggest(self.saucer, self.coupons)
        self._set_follow_up("quotation")
        self.Suggestion._follow_up_new()
        self.assertEqual(suggestion.order_id.state, "draft")
        self.assertTrue(suggestion.order_id.order_line.filtered("is_reward_line"))
        self.assertFalse(suggestion.coupon_used, "Coupon Used is set by the draft quotation the follow-up made")

    # A coupon applied on an open quotation is not handed out again: both orders confirm.
    def test_coupon_on_open_quotation_not_reused(self):
        first = self._suggest(self.saucer, self.coupons)
        self._set_follow_up("quotation")
        self.Suggestion._follow_up_new()
        first_order = first.order_id
        second = self._suggest(self.pot, self.coupons)
        self.Suggestion._follow_up_new()
        second_order = second.order_id
        self.assertNotEqual(first_order, second_order)
        first_order.action_confirm()
        second_order.action_confirm()  # ValidationError: One or more rewards on the sale order is invalid.
        self.assertEqual(second_order.state, "sale")

    # Adding a second suggestion with the same offer leaves no false "not applied" note.
    def test_second_add_same_promotion_no_false_note(self):
        first = self._suggest(self.saucer, self.promotion)
        second = self._suggest(self.pot, self.promotion)
        order = self.env["sale.order"].create({"partner_id": self.contact.id})
        first.with_context(journey_order_id=order.id).action_add_to_order()
        self.assertEqual(len(order.order_line.filtered("is_reward_line")), 1)
        second.with_context(journey_order_id=order.id).action_add_to_order()
        self.assertEqual(len(order.order_line.filtered("is_reward_line")), 1, "the promotion stays applied")
        self.assertFalse(self._notes(order).mapped("body"), "the applied promotion is noted as not applied")

    def test_second_add_same_code_no_false_note(self):
        first = self._suggest(self.saucer, self.promo_code)
        second = self._suggest(self.pot, self.promo_code)
        order = self.env["sale.order"].create({"partner_id": self.contact.id})
        first.with_context(journey_order_id=order.id).action_add_to_order()
        second.with_context(journey_order_id=order.id).action_add_to_order()
        self.assertEqual(len(order.order_line.filtered("is_reward_line")), 1)
        self.assertFalse(self._notes(order).mapped("body"), "the applied code is noted as not applied")

    # An offer whose reward discounts other products stops neither the follow-up nor the Add button.
    def test_specific_reward_does_not_block_follow_up(self):
        saucers_only = self._make_coupons(
            "10% on saucers", 10, discount_applicability="specific", discount_product_ids=[Command.set(self.saucer.ids)]
        )
        suggestion = self._suggest(self.pot, saucers_only)
        self._set_follow_up("quotation")
        self.Suggestion._follow_up_new()
        self.assertTrue(suggestion.order_id, "the quotation is made, with a note for the offer")
        self.assertEqual(suggestion.state, "planned")

    def test_specific_reward_does_not_block_add(self):
        saucers_only = self._make_coupons(
            "10% on saucers", 10, discount_applicability="specific", discount_product_ids=[Command.set(self.saucer.ids)]
        )
        suggestion = self._suggest(self.pot, saucers_only)
        order = self.env["sale.order"].create({"partner_id": self.contact.id})
        suggestion.with_user(self.user_salesman).with_context(journey_order_id=order.id).action_add_to_order()
        self.assertEqual(order.order_line.product_id, self.pot)

    # A coupon is issued only when the customer can use it on an order.
    def test_no_coupon_the_customer_cannot_use(self):
        retail = self.env["product.pricelist"].create({"name": "Retail", "sequence": 1})
        other_pricelist = self.env["product.pricelist"].create({"name": "Export", "sequence": 2})
        self.customer.property_product_pricelist = retail
        cases = {
            "pricelist": {"pricelist_ids": [Command.set(other_pricelist.ids)]},
            "not started": {"date_from": fields.Date.today() + timedelta(days=10)},
            "not for sales": {"sale_ok": False},
        }
        for name, vals in cases.items():
            with self.subTest(name):
                program = self._make_coupons(f"Coupon {name}", 10)
                program.write(vals)
                product = self.env["product.product"].create({"name": f"Tray {name}", "type": "consu"})
                suggestion = self._suggest(product, program)
                with self.assertRaisesRegex(UserError, "No coupon for"):
                    suggestion.action_issue_coupon()
                self.assertFalse(suggestion.coupon_id, "no coupon the customer could not use")
                self.assertEqual(suggestion.with_context(lang="en_US")._get_offer_text(), "")

    # On a quotation, the offer follows the quotation's pricelist, not the customer's.
    def test_offer_follows_quotation_pricelist(self):
        export = self.env["product.pricelist"].create({"name": "Export"})
        self.promo_code.pricelist_ids = export
        suggestion = self._suggest(self.saucer, self.promo_code)
        order = self.env["sale.order"].create({"partner_id": self.contact.id, "pricelist_id": export.id})

        suggestion.with_context(journey_order_id=order.id).action_add_to_order()

        self.assertEqual(len(order.order_line.filtered("is_reward_line")), 1)

    # An ended or archived discount code is not advertised, as an ended coupons program is not.
    def test_ended_code_not_advertised(self):
        suggestion = self._suggest(self.saucer, self.promo_code)
        self.promo_code.date_to = fields.Date.today() - timedelta(days=1)
        self.assertEqual(suggestion.with_context(lang="en_US")._get_offer_text(), "")

    def test_archived_code_not_advertised(self):
        suggestion = self._suggest(self.saucer, self.promo_code)
        self.promo_code.action_archive()
        self.assertEqual(suggestion.with_context(lang="en_US")._get_offer_text(), "")

    # A user without Sales rights reads no loyalty card code through a suggestion.
    def test_journey_user_cannot_read_gift_card_code(self):
        gift_program = self.Program.create({"name": "Gift card", "program_type": "gift_card"})
        gift_card = self.env["loyalty.card"].create({"program_id": gift_program.id, "points": 500})
        suggestion = self._suggest(self.saucer, self.coupons)
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_journey).write({"coupon_id": gift_card.id})
            code = suggestion.with_user(self.user_journey).offer_code
            self.fail(f"journey user read gift card code {code}")

    # A Next Order Coupons program's coupon applies on the quotation and confirms.
    def test_next_order_coupon_applies(self):
        program = self.Program.create(
            {
                "name": "Next order 7%",
                "program_type": "next_order_coupons",
                "applies_on": "future",
                "trigger": "auto",
                "rule_ids": [Command.clear(), Command.create({"minimum_amount": 10000, "reward_point_amount": 1,
                                                             "reward_point_mode": "order"})],
                "reward_ids": [
                    Command.clear(),
                    Command.create({"reward_type": "discount", "discount": 7, "discount_mode": "percent",
                                    "discount_applicability": "order", "required_points": 1}),
                ],
            }
        )
        self.assertEqual(program.applies_on, "future")
        suggestion = self._suggest(self.saucer, program)
        self._set_follow_up("quotation")
        self.Suggestion._follow_up_new()
        order = suggestion.order_id
        self.assertEqual(order.order_line.filtered("is_reward_line").coupon_id, suggestion.coupon_id)
        order.action_confirm()
        self.assertEqual(suggestion.coupon_id.points, 0)
        order._action_cancel()
        self.assertEqual(suggestion.coupon_id.points, 1, "cancelling gives the points back")
        self.assertEqual(suggestion.state, "new")
