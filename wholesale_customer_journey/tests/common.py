# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time

from odoo import Command
from odoo.addons.mail.tests.common import MailCase, mail_new_test_user
from odoo.tests import TransactionCase


class JourneyCase(TransactionCase, MailCase):
    """Customers, users and helpers shared by the journey tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        ref = cls.env.ref
        cls.stage_awareness = ref("wholesale_customer_journey.stage_awareness")
        cls.stage_favorability = ref("wholesale_customer_journey.stage_favorability")
        cls.stage_consideration = ref("wholesale_customer_journey.stage_consideration")
        cls.stage_intent = ref("wholesale_customer_journey.stage_intent")
        cls.stage_conversion = ref("wholesale_customer_journey.stage_conversion")
        cls.stage_aftersales = ref("wholesale_customer_journey.stage_aftersales")
        cls.company = cls.env.company
        cls.company.journey_aftersales_trigger = "delivery"

        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="journey_salesman",
            name="Sofie Salesman",
            email="sofie@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.user_manager = mail_new_test_user(
            cls.env,
            login="journey_manager",
            name="Marc Manager",
            email="marc@example.com",
            groups="sales_team.group_sale_manager",
        )
        cls.user_employee = mail_new_test_user(
            cls.env,
            login="journey_service",
            name="Sam Service",
            email="sam@example.com",
            groups="base.group_user",
        )
        cls.user_portal = mail_new_test_user(
            cls.env,
            login="journey_portal",
            name="Pieter Portal",
            email="pieter@customer.example",
            groups="base.group_portal",
        )

        Partner = cls.env["res.partner"]
        cls.customer = Partner.create(
            {"name": "Tuincentrum De Linde", "is_company": True, "email": "info@delinde.example"}
        )
        cls.contact = Partner.create(
            {"name": "An Peeters", "parent_id": cls.customer.id, "email": "an@delinde.example"}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Terracotta pot 30 cm", "type": "consu", "list_price": 12.5, "default_code": "TP30"}
        )
        cls.campaign = cls.env["utm.campaign"].create({"name": "Voorjaarsbeurs"})

    def _create_order(self, partner=None, qty=10):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.contact).id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": qty}),
                ],
            }
        )

    def _confirm_order_on(self, partner, date, lines, company=None):
        """Create and confirm an order of ``lines`` [(product, quantity)] of ``partner``, dated ``date`` at 10:00."""
        company = company or self.env.company
        order = (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": quantity})
                        for product, quantity in lines
                    ],
                }
            )
        )
        order.action_confirm()
        # Confirming stamps the order with now: date it back in SQL.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE sale_order SET date_order = %s WHERE id = %s", (datetime.combine(date, time(10)), order.id)
        )
        order.invalidate_recordset()
        return order

    def _deliver(self, order):
        for line in order.order_line:
            line.qty_delivered = line.product_uom_qty
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _history(self, partner=None):
        return self.env["customer.journey.history"].search(
            [("partner_id", "=", (partner or self.customer).id)], order="date_start, id"
        )
