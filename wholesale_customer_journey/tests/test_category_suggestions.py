# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import JourneyCase

TODAY = fields.Date.to_date("2026-11-30")


@tagged("post_install", "-at_install")
class TestCategorySuggestions(JourneyCase):
    """Category cross-sell rules suggest the best seller of the Then Category."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Suggestion = cls.env["customer.journey.suggestion"]

        Category = cls.env["product.category"]
        Product = cls.env["product.product"]
        cls.garden = Category.create({"name": "Garden"})
        cls.pots = Category.create({"name": "Pots", "parent_id": cls.garden.id})
        cls.tools = Category.create({"name": "Tools"})
        cls.pot = Product.create({"name": "Glazed pot 40 cm", "type": "consu", "categ_id": cls.pots.id})
        cls.spade = Product.create({"name": "Border spade", "type": "consu", "categ_id": cls.tools.id})
        cls.rake = Product.create({"name": "Leaf rake", "type": "consu", "categ_id": cls.tools.id})

        cls.rule = cls.env["customer.journey.cross.sell.rule"].create(
            {
                "level": "category",
                "antecedent_categ_id": cls.pots.id,
                "consequent_categ_id": cls.tools.id,
                "window_days": 30,
                "confidence": 0.3,
                "lift": 3.0,
                "median_quantity": 3,
                "median_delay": 7,
            }
        )

        Partner = cls.env["res.partner"]
        cls.other_customer = Partner.create({"name": "Hoveniersbedrijf Groen", "is_company": True})
        # Two customers bought the spade, one the rake: the spade is the best seller of Tools.
        for name, products in (("Tuinier Jansen", [cls.spade]), ("Tuinier Peeters", [cls.spade, cls.rake])):
            buyer = Partner.create({"name": name, "is_company": True})
            cls._confirm_order_on(cls, buyer, TODAY - timedelta(days=100), [(p, 1) for p in products])

        params = cls.env["ir.config_parameter"].sudo()
        for key in ("reorder_days", "expiry_days", "block_days", "follow_up"):
            params.set_param(f"wholesale_customer_journey.suggestion_{key}", False)

    def _order_on(self, partner, days_ago, lines):
        return self._confirm_order_on(partner, TODAY - timedelta(days=days_ago), lines)

    def _suggestions(self, partner=None):
        return self.Suggestion.search([("partner_id", "=", (partner or self.customer).id)])

    def test_best_seller_suggested(self):
        self._order_on(self.contact, 5, [(self.pot, 4)])

        self.Suggestion._generate_suggestions(today=TODAY)

        suggestion = self._suggestions()
        self.assertEqual(len(suggestion), 1)
        self.assertEqual(suggestion.product_id, self.spade)
        self.assertEqual(suggestion.rule_id, self.rule)
        self.assertEqual(suggestion.reason, "cross_sell")
        self.assertEqual(suggestion.quantity, 3)
        self.assertEqual(suggestion.source_product_id, self.pot)
        self.assertEqual(suggestion.source_date, TODAY - timedelta(days=5))
        self.assertEqual(suggestion.due_date, TODAY + timedelta(days=2), "first purchase plus the 7-day delay")
        self.assertIn("customers who buy Garden / Pots buy Tools within 30 days", suggestion.explanation)
        self.assertIn("Border spade is its best seller", suggestion.explanation)

    def test_generation_twice_adds_nothing(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)
        counts = self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(counts["cross_sell"], 0)
        self.assertEqual(len(self._suggestions()), 1)

    def test_window_day_n_inside(self):
        self._order_on(self.contact, 30, [(self.pot, 1)])
        self._order_on(self.other_customer, 31, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(len(self._suggestions()), 1, "day 30 of a 30-day window is still open")
        self.assertFalse(self._suggestions(self.other_customer), "the window closed yesterday")

    def test_customer_bought_category_b(self):
        self._order_on(self.contact, 60, [(self.rake, 1)])
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(self._suggestions(), "a customer who bought any product of Tools gets no tool")

    def test_parent_category_counts_subcategories(self):
        self.rule.antecedent_categ_id = self.garden
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().product_id, self.spade, "a pot is a Garden product")

    def test_archived_best_seller_skipped(self):
        self.spade.active = False
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().product_id, self.rake, "the best seller still on sale")

    def test_product_rule_explains_shared_product(self):
        product_rule = self.env["customer.journey.cross.sell.rule"].create(
            {
                "level": "product",
                "antecedent_product_id": self.pot.id,
                "consequent_product_id": self.spade.id,
                "window_days": 30,
                "median_quantity": 1,
            }
        )
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().rule_id, product_rule)

    def test_archived_category_rule_ignored(self):
        self.rule.active = False
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertFalse(self._suggestions())

    def test_one_open_suggestion_per_rule(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        # The rake becomes the best seller: three more customers buy it.
        for name in ("Tuinier A", "Tuinier B", "Tuinier C"):
            buyer = self.env["res.partner"].create({"name": name, "is_company": True})
            self._order_on(buyer, 50, [(self.rake, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().product_id, self.spade, "the open suggestion stays the only one")

    def test_archived_suggested_product_replaced(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        spade_suggestion = self._suggestions()
        self.spade.active = False

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(spade_suggestion.state, "expired", "a product no longer on sale is not offered")
        self.assertEqual(self._suggestions().filtered(lambda s: s.state == "new").product_id, self.rake)

    def test_purchase_from_category_b_closes_suggestion(self):
        self._order_on(self.contact, 5, [(self.pot, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)
        suggestion = self._suggestions()

        self._order_on(self.contact, 1, [(self.rake, 1)])
        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(suggestion.state, "expired", "the customer bought a tool, just not the spade")
        self.assertEqual(len(self._suggestions()), 1)

    def test_service_in_category_b_ignored(self):
        consulting = self.env["product.product"].create(
            {"name": "Tool advice", "type": "service", "categ_id": self.tools.id}
        )
        self._order_on(self.contact, 20, [(consulting, 1)])
        self._order_on(self.contact, 5, [(self.pot, 1)])

        self.Suggestion._generate_suggestions(today=TODAY)

        self.assertEqual(self._suggestions().product_id, self.spade, "a service bought is no tool bought")
