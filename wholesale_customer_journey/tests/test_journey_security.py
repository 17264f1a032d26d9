# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestJourneySecurity(JourneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.lead"].create({"name": "Potten", "partner_id": cls.contact.id})
        cls.review = cls.env["customer.journey.touchpoint"].create(
            {"name": "Goede review", "partner_id": cls.customer.id, "channel": "review", "rating": "5"}
        )

    def test_employee_without_sales_rights_reads(self):
        env = self.env(user=self.user_employee)
        self.assertEqual(env["customer.journey.touchpoint"].search([("id", "=", self.review.id)]), self.review)
        self.assertTrue(env["customer.journey.history"].search([("partner_id", "=", self.customer.id)]))
        self.assertEqual(self.customer.with_env(env).journey_stage_id, self.stage_awareness)
        self.assertTrue(env["customer.journey.stage"].search([]))

    def test_employee_without_journey_group_cannot_write(self):
        env = self.env(user=self.user_employee)
        with self.assertRaises(AccessError):
            env["customer.journey.touchpoint"].create({"name": "Poging", "partner_id": self.customer.id})
        with self.assertRaises(AccessError):
            self.stage_awareness.with_env(env).name = "Bekendheid"

    def test_salesman_logs_but_does_not_configure(self):
        env = self.env(user=self.user_salesman)
        touchpoint = env["customer.journey.touchpoint"].create(
            {"name": "Telefoon", "partner_id": self.customer.id, "channel": "phone"}
        )
        self.assertEqual(touchpoint.user_id, self.user_salesman)
        with self.assertRaises(AccessError):
            env["customer.journey.stage"].create({"name": "Nieuw", "sequence": 77})
        with self.assertRaises(AccessError):
            env.ref("wholesale_customer_journey.rule_lead_created").stage_id = self.stage_intent
        with self.assertRaises(AccessError):
            touchpoint.unlink()

    def test_manager_configures(self):
        env = self.env(user=self.user_manager)
        stage = env["customer.journey.stage"].create({"name": "Nieuw", "sequence": 77})
        env.ref("wholesale_customer_journey.rule_lead_created").stage_id = self.stage_intent
        self.assertTrue(stage.exists())

    def test_portal_user_reads_nothing(self):
        env = self.env(user=self.user_portal)
        for model in (
            "customer.journey.touchpoint",
            "customer.journey.history",
            "customer.journey.stage",
            "customer.journey.rule",
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                env[model].search([])
        with self.assertRaises(AccessError):
            self.user_portal.partner_id.with_env(env).read(["journey_stage_id"])

    def test_other_company_touchpoints_hidden(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Noord BV"})
        customer_b = self.env["res.partner"].create(
            {"name": "Bloemen Bakker", "is_company": True, "company_id": company_b.id}
        )
        touchpoint_b = self.env["customer.journey.touchpoint"].create(
            {"name": "Beurs Utrecht", "partner_id": customer_b.id, "channel": "trade_fair"}
        )
        self.assertEqual(touchpoint_b.company_id, company_b)
        user_b = mail_new_test_user(
            self.env,
            login="journey_salesman_b",
            groups="sales_team.group_sale_salesman",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
        )

        Touchpoint_a = self.env["customer.journey.touchpoint"].with_user(self.user_salesman)
        self.assertNotIn(touchpoint_b, Touchpoint_a.search([]))
        with self.assertRaises(AccessError):
            touchpoint_b.with_user(self.user_salesman).read(["name"])
        Touchpoint_b = self.env["customer.journey.touchpoint"].with_user(user_b)
        self.assertIn(touchpoint_b, Touchpoint_b.search([]))
        self.assertNotIn(self.review, Touchpoint_b.search([]))

    def test_history_of_shared_customer_follows_order_company(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Zuid BV"})
        self.assertFalse(self.customer.company_id, "the test needs a customer shared by all companies")
        self._create_order().action_confirm()
        user_b = self.env["res.users"].create(
            {
                "name": "Bart Zuid",
                "login": "journey_company_b",
                "company_id": company_b.id,
                "company_ids": [(6, 0, company_b.ids)],
                "groups_id": [(6, 0, self.env.ref("base.group_user").ids)],
            }
        )
        self.env.flush_all()

        history = self._history()
        self.assertEqual(history.company_id, self.company)
        rows_b = self.env["customer.journey.history"].with_user(user_b).search([("partner_id", "=", self.customer.id)])
        self.assertFalse(rows_b, "a company that sold nothing does not see the stage history")
