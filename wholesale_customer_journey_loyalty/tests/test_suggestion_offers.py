# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.wholesale_customer_journey.tests.common import JourneyCase

from ..models.customer_journey_suggestion import CustomerJourneySuggestion
from .common import TODAY, OfferCase

@tagged("post_install", "-at_install")
class TestSuggestionOffers(OfferCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["customer.journey.cross.sell.rule"]
        cls.gift_card = cls.Program.create({"name": "Gift card", "program_type": "gift_card"})

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


    def _generate(self, program=None):
        """Confirm a pot order five days before TODAY and generate: one saucer suggestion, due TODAY + 5."""
        if program is not None:
            self.rule.loyalty_program_id = program
        self._confirm_order_on(self.contact, TODAY - timedelta(days=5), [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self.Suggestion.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(suggestion), 1)
        return suggestion

    def _suggestion_mails(self):
        return self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id), ("subject", "like", "Suggested products")]
        )

    # ------------------------------------------------------------
    # Which offer a suggestion carries
    # ------------------------------------------------------------

    def test_rule_offer_before_company_offer(self):
        self.company.journey_suggestion_program_id = self.promo_code
        self.assertEqual(self._generate().loyalty_program_id, self.promo_code, "no offer on the rule: the company's")

        self.Suggestion.search([]).unlink()
        self.rule.loyalty_program_id = self.coupons
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self.Suggestion.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(suggestion.loyalty_program_id, self.coupons, "the rule's offer comes first")

    def test_existing_suggestions_keep_offer(self):
        suggestion = self._generate()
        self.assertFalse(suggestion.loyalty_program_id)

        self.company.journey_suggestion_program_id = self.coupons
        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(suggestion.loyalty_program_id, "only the suggestions a run adds get an offer")

    def test_manual_suggestion_default_offer(self):
        self.company.journey_suggestion_program_id = self.promotion
        suggestion = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.saucer.id, "reason": "reorder", "quantity": 2}
        )
        self.assertEqual(suggestion.loyalty_program_id, self.promotion)

    # ------------------------------------------------------------
    # Coupons
    # ------------------------------------------------------------

    def test_mail_issues_one_coupon(self):
        suggestion = self._generate(self.coupons)
        self.assertTrue(suggestion.offer_needs_coupon)
        self._set_follow_up("mail")

        self.Suggestion._follow_up_new()
        self.Suggestion._follow_up_new()
        suggestion._issue_coupons()

        coupon = suggestion.coupon_id
        self.assertEqual(suggestion.state, "sent")
        self.assertEqual(self.env["loyalty.card"].search_count([("program_id", "=", self.coupons.id)]), 1)
        self.assertEqual(coupon.partner_id, self.customer)
        self.assertEqual(coupon.points, 1)
        self.assertEqual(coupon.expiration_date, fields.Date.today() + timedelta(days=30))
        self.assertEqual(suggestion.offer_code, coupon.code)
        self.assertFalse(suggestion.offer_needs_coupon)
        message = self._suggestion_mails()
        self.assertEqual(len(message), 1)
        self.assertIn(coupon.code, str(message.body))
        self.assertIn("Your offer:", str(message.body))
        self.assertFalse(
            self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "=", coupon.id)]),
            "the program's own coupon mail is not sent: the suggestion mail carries the code",
        )

    def test_coupon_validity_capped_by_program(self):
        self.company.journey_coupon_validity_days = 10
        suggestion = self._generate(self.coupons)
        suggestion.due_date = fields.Date.today() + timedelta(days=20)

        suggestion.action_issue_coupon()

        self.assertEqual(suggestion.coupon_expiration_date, fields.Date.today() + timedelta(days=30))

        # Dismissed, the first suggestion no longer shares its coupon.
        suggestion.action_dismiss()
        other = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.pot.id, "reason": "reorder",
             "loyalty_program_id": self.coupons.id}
        )
        self.coupons.date_to = fields.Date.today() + timedelta(days=3)
        other.action_issue_coupon()
        self.assertEqual(other.coupon_expiration_date, fields.Date.today() + timedelta(days=3))

    def test_ended_program_issues_no_coupon(self):
        suggestion = self._generate(self.coupons)
        self.coupons.date_to = fields.Date.today() - timedelta(days=1)

        with patch(f"{CustomerJourneySuggestion.__module__}._logger") as logger:
            suggestion._issue_coupons()

        self.assertFalse(suggestion.coupon_id)
        self.assertIn("archived, not started, ended", logger.info.call_args_list[0].args[0])
        self.assertEqual(suggestion.with_context(lang="en_US")._get_offer_text(), "")

    def test_customer_shares_coupon_per_program(self):
        suggestion = self._generate(self.coupons)
        other = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.pot.id, "reason": "reorder",
             "loyalty_program_id": self.coupons.id}
        )
        self._set_follow_up("mail")

        self.Suggestion._follow_up_new()

        self.assertTrue(suggestion.coupon_id)
        self.assertEqual(other.coupon_id, suggestion.coupon_id, "one code for the customer's open suggestions")
        self.assertEqual(self.env["loyalty.card"].search_count([("program_id", "=", self.coupons.id)]), 1)

        suggestion.coupon_id.points = 0
        tray = self.env["product.product"].create({"name": "Saucer tray", "type": "consu"})
        later = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": tray.id, "reason": "reorder",
             "loyalty_program_id": self.coupons.id}
        )
        later.action_issue_coupon()
        self.assertNotEqual(later.coupon_id, suggestion.coupon_id, "a used coupon is not handed out again")

    def test_no_salesperson_no_coupon(self):
        self.customer.user_id = False
        suggestion = self._generate(self.coupons)
        self._set_follow_up("activity")

        self.Suggestion._follow_up_new()

        self.assertFalse(suggestion.activity_id)
        self.assertFalse(suggestion.coupon_id, "nobody follows it up, so no coupon waits unused")

    def test_activity_note_names_coupon(self):
        suggestion = self._generate(self.coupons)
        self._set_follow_up("activity")

        self.Suggestion._follow_up_new()

        self.assertTrue(suggestion.coupon_id)
        self.assertIn(suggestion.coupon_id.code, str(suggestion.activity_id.note))
        self.assertIn("10% on your order", str(suggestion.activity_id.note))

    def test_quotation_applies_coupon(self):
        suggestion = self._generate(self.coupons)
        self._set_follow_up("quotation")

        self.Suggestion._follow_up_new()

        order = suggestion.order_id
        reward_lines = order.order_line.filtered("is_reward_line")
        self.assertEqual(len(reward_lines), 1)
        self.assertEqual(reward_lines.coupon_id, suggestion.coupon_id)
        self.assertAlmostEqual(order.amount_untaxed, 6 * 4.0 * 0.9, places=2)

        order.action_confirm()

        self.assertEqual(suggestion.state, "converted")
        self.assertTrue(suggestion.coupon_used)

    def test_add_to_order_applies_offer(self):
        suggestion = self._generate(self.promo_code)
        order = self.env["sale.order"].create({"partner_id": self.contact.id})

        suggestion.with_user(self.user_salesman).with_context(journey_order_id=order.id).action_add_to_order()

        self.assertEqual(suggestion.offer_code, "LENTE5")
        self.assertFalse(suggestion.coupon_id, "a discount code program issues no coupon")
        self.assertEqual(len(order.order_line.filtered("is_reward_line")), 1)

    def test_unmet_offer_leaves_note(self):
        self.coupons.rule_ids.minimum_amount = 1000
        suggestion = self._generate(self.coupons)
        self._set_follow_up("quotation")

        self.Suggestion._follow_up_new()

        order = suggestion.order_id
        self.assertTrue(order, "the quotation is made without the offer")
        self.assertFalse(order.order_line.filtered("is_reward_line"))
        notes = order.message_ids.filtered(lambda m: "is not applied" in str(m.body))
        self.assertEqual(len(notes), 1)
        self.assertIn(self.coupons.name, str(notes.body))

    # ------------------------------------------------------------
    # Codes and promotions
    # ------------------------------------------------------------

    def test_mail_shows_code_and_promotion(self):
        self._set_follow_up("mail")
        suggestion = self._generate(self.promo_code)
        self.assertEqual(suggestion.with_context(lang="en_US")._get_offer_text(), "5% on your order with code LENTE5")
        self.Suggestion._follow_up_new()
        self.assertIn("LENTE5", str(self._suggestion_mails().body))

        suggestion.loyalty_program_id = self.promotion
        self.assertEqual(
            suggestion.with_context(lang="en_US")._get_offer_text(),
            "3% on your order, applied to your order by itself, until 01/29/2027",
        )

    def test_offer_in_dutch(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"]._load_module_terms(["wholesale_customer_journey_loyalty"], ["nl_NL"])
        suggestion = self._generate(self.promo_code)
        text = suggestion.with_context(lang="nl_NL")._get_offer_text()
        self.assertIn("met code LENTE5", text)

    # ------------------------------------------------------------
    # Validation and rights
    # ------------------------------------------------------------

    def test_program_type_and_company_checked(self):
        with self.assertRaisesRegex(ValidationError, "Suggestion Offer: program Gift card is of type Gift Card"):
            self.company.journey_suggestion_program_id = self.gift_card
        with self.assertRaisesRegex(ValidationError, "Offer: program Gift card"):
            self.rule.loyalty_program_id = self.gift_card
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        self.coupons.company_id = other_company
        with self.assertRaisesRegex(ValidationError, "belongs to company Groothandel Noord"):
            self.rule.loyalty_program_id = self.coupons
        for days in (0, 3651):
            with self.assertRaisesRegex(ValidationError, "Coupon Validity \\(Days\\).*enter 1 to 3650 days"):
                self.company.journey_coupon_validity_days = days

    def test_program_changed_later_not_offered(self):
        suggestion = self._generate(self.promo_code)
        self.assertTrue(suggestion.with_context(lang="en_US")._get_offer_text())
        # A program changed after the rule named it is checked again where it is used.
        self.promo_code.program_type = "loyalty"
        self.assertEqual(suggestion.with_context(lang="en_US")._get_offer_text(), "")

        other = self.Suggestion.create(
            {"partner_id": self.customer.id, "product_id": self.pot.id, "reason": "reorder",
             "loyalty_program_id": self.coupons.id}
        )
        self.coupons.company_id = self.env["res.company"].create({"name": "Groothandel Oost"})
        with self.assertRaisesRegex(UserError, "No coupon for .*of another company"):
            other.action_issue_coupon()
        self.assertFalse(other.coupon_id)

    def test_coupon_worth_one_reward(self):
        self.coupons.reward_ids = [
            Command.create(
                {"reward_type": "discount", "discount": 20, "discount_mode": "percent",
                 "discount_applicability": "order", "required_points": 3}
            )
        ]
        suggestion = self._generate(self.coupons)

        suggestion.action_issue_coupon()

        self.assertEqual(suggestion.coupon_id.points, 1, "the points of the cheapest reward, so one use")

    def test_only_managers_change_offer(self):
        suggestion = self._generate()
        with self.assertRaisesRegex(AccessError, "Only Sales and Customer Journey managers"):
            suggestion.with_user(self.user_salesman).loyalty_program_id = self.coupons

        suggestion.with_user(self.user_manager).loyalty_program_id = self.coupons
        suggestion.with_user(self.user_salesman).action_issue_coupon()

        self.assertTrue(suggestion.coupon_id, "a salesperson issues the configured coupon")
        with self.assertRaisesRegex(UserError, "already carries coupon"):
            suggestion.with_user(self.user_manager).loyalty_program_id = self.promo_code

    def test_service_user_cannot_issue(self):
        suggestion = self._generate(self.coupons)
        with self.assertRaises(AccessError):
            suggestion.with_user(self.user_employee).action_issue_coupon()
        self.assertFalse(suggestion.coupon_id)

    def test_service_user_reads_offer(self):
        suggestion = self._generate(self.coupons)
        suggestion.action_issue_coupon()

        data = suggestion.with_user(self.user_employee).web_read(
            {
                "loyalty_program_id": {"fields": {"display_name": {}}},
                "coupon_id": {"fields": {"display_name": {}}},
                "offer_code": {},
                "offer_needs_coupon": {},
                "coupon_expiration_date": {},
                "coupon_used": {},
            }
        )[0]

        self.assertEqual(data["offer_code"], suggestion.coupon_id.code)
        self.assertEqual(data["loyalty_program_id"]["display_name"], "Saucer coupon")
        self.assertEqual(data["coupon_id"]["id"], suggestion.coupon_id.id)
        self.assertFalse(data["coupon_used"])

    def test_closed_suggestion_issues_nothing(self):
        suggestion = self._generate(self.coupons)
        suggestion.action_dismiss()
        with self.assertRaisesRegex(UserError, "no longer open"):
            suggestion.action_issue_coupon()
        self.assertFalse(suggestion._issue_coupons())

    def test_offer_keeps_mined_rule_unlocked(self):
        mined = self.Rule.create(
            {
                "level": "product",
                "antecedent_product_id": self.saucer.id,
                "consequent_product_id": self.pot.id,
                "window_days": 30,
                "origin": "mined",
            }
        )
        mined.loyalty_program_id = self.promo_code
        self.assertFalse(mined.locked, "an offer configures the follow-up, not the rule")
        mined.window_days = 60
        self.assertTrue(mined.locked)

    def test_demo_rule_offers_coupon(self):
        rule = self.env.ref("wholesale_customer_journey.demo_cross_sell_rule_cups_trays")
        program = self.env.ref("wholesale_customer_journey_loyalty.demo_program_suggestion_coupon")
        self.assertEqual(rule.loyalty_program_id, program)
        self.assertEqual(program.program_type, "coupons")
        self.assertEqual(program.reward_ids.discount, 5)


@tagged("post_install", "-at_install")
class TestSuggestionOffersMultiCompany(JourneyCase):
    def test_shared_program_serves_each_company(self):
        program = self.env["loyalty.program"].create(
            {"name": "Shared code", "program_type": "promo_code", "company_id": False,
             "currency_id": self.env.company.currency_id.id,
             "rule_ids": [Command.clear(), Command.create({"mode": "with_code", "code": "SAMEN"})]}
        )
        other_company = self.env["res.company"].create({"name": "Groothandel Zuid"})
        other_company.journey_suggestion_program_id = program
        user = mail_new_test_user(
            self.env, login="zuid_manager", name="Zoë Zuid", groups="sales_team.group_sale_manager",
            company_id=other_company.id, company_ids=[Command.set(other_company.ids)],
        )
        product = self.env["product.product"].create({"name": "Rake", "type": "consu"})
        suggestion = (
            self.env["customer.journey.suggestion"].with_user(user).with_company(other_company)
            .create({"partner_id": self.customer.id, "product_id": product.id, "reason": "reorder",
                     "company_id": other_company.id})
        )
        self.assertEqual(suggestion.loyalty_program_id, program)
        self.assertEqual(suggestion.offer_code, "SAMEN")
