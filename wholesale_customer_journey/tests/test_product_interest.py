# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestProductInterest(JourneyCase):
    """Products and categories of interest, on leads and on the customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Product = cls.env["product.template"]
        cls.pot = Product.create({"name": "Terracotta pot 40 cm"})
        cls.planter = Product.create({"name": "Zinken plantenbak"})
        cls.category = cls.env["product.category"].create({"name": "Buitenpotten"})

    def _interests(self, customer=None):
        return self.env["customer.journey.interest"].search([("partner_id", "=", (customer or self.customer).id)])

    def test_lead_products_recorded_on_customer(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Potten voor de lente",
                "partner_id": self.contact.id,
                "journey_interest_product_ids": [Command.set(self.pot.ids)],
                "journey_interest_categ_ids": [Command.set(self.category.ids)],
            }
        )

        interests = self._interests()
        self.assertEqual(interests.product_tmpl_id, self.pot)
        self.assertEqual(interests.categ_id, self.category)
        self.assertEqual(interests.lead_id, lead)
        self.assertEqual(interests.partner_id, self.customer, "the interest belongs to the company")

    def test_added_product_recorded_once(self):
        lead = self.env["crm.lead"].create(
            {"name": "Potten", "partner_id": self.customer.id, "journey_interest_product_ids": [Command.set(self.pot.ids)]}
        )
        pot_interest = self._interests()
        pot_interest.date = datetime(2026, 1, 1)

        lead.journey_interest_product_ids = [Command.link(self.planter.id)]

        self.assertEqual(len(self._interests()), 2)
        self.assertEqual(pot_interest.date, datetime(2026, 1, 1), "the pot was not asked about again")

    def test_interest_again_moves_date(self):
        Interest = self.env["customer.journey.interest"]
        first = Interest._record_interest(self.customer, products=self.pot, date=datetime(2026, 1, 1))

        again = Interest._record_interest(self.contact, products=self.pot, date=datetime(2026, 5, 1))

        self.assertEqual(again, first)
        self.assertEqual(first.date, datetime(2026, 5, 1))
        self.assertEqual(len(self._interests()), 1)

    def test_lead_without_customer_records_when_linked(self):
        lead = self.env["crm.lead"].create({"name": "Beursbezoeker", "journey_interest_product_ids": [Command.set(self.pot.ids)]})
        self.assertFalse(self._interests())

        lead.partner_id = self.customer

        self.assertEqual(self._interests().product_tmpl_id, self.pot)

    def test_product_or_category_required(self):
        with self.assertRaises(ValidationError), mute_logger("odoo.sql_db"):
            self.env["customer.journey.interest"].create({"partner_id": self.customer.id})

    def test_own_company_gets_no_interest(self):
        own = self.env.company.partner_id

        created = self.env["customer.journey.interest"]._record_interest(own, products=self.pot)

        self.assertFalse(created)
        with self.assertRaises(ValidationError):
            self.env["customer.journey.interest"].create({"partner_id": own.id, "product_tmpl_id": self.pot.id})

    def test_duplicate_by_hand_rejected(self):
        Interest = self.env["customer.journey.interest"]
        Interest.create({"partner_id": self.customer.id, "product_tmpl_id": self.pot.id})

        with self.assertRaises(ValidationError):
            Interest.create({"partner_id": self.customer.id, "product_tmpl_id": self.pot.id})
        with self.assertRaises(ValidationError):
            Interest.create(
                {"partner_id": self.customer.id, "product_tmpl_id": self.planter.id, "categ_id": self.category.id}
            )

    def test_each_company_keeps_its_own_interest(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        Lead = self.env["crm.lead"]
        Lead.create(
            {"name": "Potten", "partner_id": self.customer.id, "company_id": self.company.id,
             "journey_interest_product_ids": [Command.set(self.pot.ids)]}
        )
        own_interest = self._interests()

        other_lead = Lead.create(
            {"name": "Potten Noord", "partner_id": self.customer.id, "company_id": other_company.id,
             "journey_interest_product_ids": [Command.set(self.pot.ids)]}
        )

        self.assertEqual(len(self._interests()), 2)
        self.assertNotEqual(own_interest.lead_id, other_lead, "the other company's lead stays out of this row")
        self.assertEqual((self._interests() - own_interest).company_id, other_company)

    def test_lead_moved_to_other_customer_records_there(self):
        other_customer = self.env["res.partner"].create({"name": "Tuincentrum Noord", "is_company": True})
        lead = self.env["crm.lead"].create(
            {"name": "Potten", "partner_id": self.customer.id, "journey_interest_product_ids": [Command.set(self.pot.ids)]}
        )

        lead.partner_id = other_customer

        self.assertEqual(self._interests(other_customer).product_tmpl_id, self.pot)

    def test_access(self):
        interest = self.env["customer.journey.interest"]._record_interest(self.customer, products=self.pot)

        self.assertEqual(interest.with_user(self.user_employee).product_tmpl_id, self.pot)
        with self.assertRaises(AccessError):
            interest.with_user(self.user_employee).note = "Wil stalen"
        interest.with_user(self.user_salesman).note = "Wil stalen"
        with self.assertRaises(AccessError):
            self.env["customer.journey.interest"].with_user(self.user_portal).search([])
