# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import Command, fields

from odoo.addons.wholesale_customer_journey.tests.common import JourneyCase

TODAY = fields.Date.to_date("2026-11-30")


class OfferCase(JourneyCase):
    """A customer with a salesperson and an email address, two products and three programs to offer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Suggestion = cls.env["customer.journey.suggestion"]
        cls.Program = cls.env["loyalty.program"]
        cls.customer.write({"user_id": cls.user_salesman.id, "email": "inkoop@delinde.example"})
        cls.pot = cls.env["product.product"].create({"name": "Glazed pot 40 cm", "type": "consu", "list_price": 30.0})
        cls.saucer = cls.env["product.product"].create({"name": "Saucer 40 cm", "type": "consu", "list_price": 4.0})

        cls.coupons = cls._make_coupons("Saucer coupon", 10)
        cls.promo_code = cls.Program.create(
            {
                "name": "Spring code",
                "program_type": "promo_code",
                "trigger": "with_code",
                "rule_ids": [Command.clear(), Command.create({"mode": "with_code", "code": "LENTE5"})],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {"reward_type": "discount", "discount": 5, "discount_mode": "percent",
                         "discount_applicability": "order"}
                    ),
                ],
            }
        )
        cls.promotion = cls.Program.create(
            {
                "name": "Autumn promotion",
                "program_type": "promotion",
                "trigger": "auto",
                "date_to": TODAY + timedelta(days=60),
                "rule_ids": [Command.clear(), Command.create({"reward_point_mode": "order", "reward_point_amount": 1})],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {"reward_type": "discount", "discount": 3, "discount_mode": "percent",
                         "discount_applicability": "order", "required_points": 1}
                    ),
                ],
            }
        )

        params = cls.env["ir.config_parameter"].sudo()
        for key in ("reorder_days", "expiry_days", "block_days", "follow_up"):
            params.set_param(f"wholesale_customer_journey.suggestion_{key}", False)

    @classmethod
    def _make_coupons(cls, name, percent, **reward):
        """Create a coupons program of ``percent`` off the order for one point, with ``reward`` values on top."""
        return cls.env["loyalty.program"].create(
            {
                "name": name,
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "rule_ids": [Command.clear(), Command.create({"reward_point_mode": "order", "reward_point_amount": 1})],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {"reward_type": "discount", "discount": percent, "discount_mode": "percent",
                         "discount_applicability": "order", "required_points": 1, **reward}
                    ),
                ],
            }
        )

    def _set_follow_up(self, mode):
        self.env["ir.config_parameter"].sudo().set_param("wholesale_customer_journey.suggestion_follow_up", mode)
