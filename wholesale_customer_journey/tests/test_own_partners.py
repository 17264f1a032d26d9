# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestOwnPartners(JourneyCase):
    """The own company and internal users are not customers."""

    def _touchpoints(self, partner):
        return self.env["customer.journey.touchpoint"].search([("partner_id", "=", partner.id)])

    def test_own_company_order_moves_no_stage(self):
        own = self.company.partner_id
        self._create_order(partner=own).action_confirm()

        self.assertFalse(own.journey_stage_id)
        self.assertFalse(self._history(own))
        self.assertFalse(self._touchpoints(own))

    def test_own_company_contact_lead_moves_no_stage(self):
        colleague = self.env["res.partner"].create({"name": "Jan Magazijn", "parent_id": self.company.partner_id.id})
        self.env["crm.lead"].create({"name": "Interne bestelling", "partner_id": colleague.id})

        self.assertFalse(self.company.partner_id.journey_stage_id)
        self.assertFalse(colleague.journey_stage_id)

    def test_internal_user_lead_moves_no_stage(self):
        employee = self.user_employee.partner_id
        self.assertEqual(employee.commercial_partner_id, employee, "the test needs a user without company")
        self.env["crm.lead"].create({"name": "Proefbestelling", "partner_id": employee.id})

        self.assertFalse(employee.journey_stage_id)
        self.assertFalse(self._touchpoints(employee))

    def test_mail_to_internal_user_no_touchpoint(self):
        employee = self.user_employee.partner_id
        employee.message_post(body="Planning volgende week", message_type="comment", subtype_xmlid="mail.mt_comment")

        self.assertFalse(self._touchpoints(employee))

    def test_portal_user_stays_customer(self):
        customer = self.user_portal.partner_id
        self.env["crm.lead"].create({"name": "Vraag via portaal", "partner_id": customer.id})

        self.assertEqual(customer.journey_stage_id, self.stage_awareness)

    def test_recompute_skips_own_company(self):
        own = self.company.partner_id
        order = self._create_order(partner=own)
        order.with_context(journey_no_capture=True).action_confirm()
        self.env["customer.journey.replay"]._recompute_stages(full=True)

        self.assertFalse(own.journey_stage_id)
        self.assertFalse(self._history(own))

    def test_set_stage_on_own_company_rejected(self):
        wizard = (
            self.env["customer.journey.stage.set"]
            .with_user(self.user_manager)
            .create(
                {
                    "partner_ids": (self.customer | self.company.partner_id).ids,
                    "stage_id": self.stage_consideration.id,
                    "reason": "Test",
                }
            )
        )

        with self.assertRaisesRegex(UserError, self.company.partner_id.name):
            wizard.action_apply()
        self.assertFalse(self.customer.journey_stage_id, "nothing moves when one customer is rejected")

    def test_touchpoint_on_own_company_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Invalid Customer"):
            self.env["customer.journey.touchpoint"].create(
                {"name": "Eigen review", "partner_id": self.company.partner_id.id, "channel": "review"}
            )
