# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestServiceHandoff(JourneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service_user = cls.user_employee
        cls.service_team = cls.env["crm.team"].create({"name": "Klantendienst"})
        cls.company.write(
            {
                "journey_handoff_stage_id": cls.stage_conversion.id,
                "journey_service_user_id": cls.service_user.id,
                "journey_service_team_id": cls.service_team.id,
            }
        )

    def _service_todos(self, partner):
        return self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id), ("user_id", "=", self.service_user.id)]
        )

    def test_conversion_hands_off(self):
        self._create_order().action_confirm()

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        self.assertEqual(self.customer.journey_service_user_id, self.service_user)
        self.assertEqual(self.customer.journey_service_team_id, self.service_team)
        self.assertEqual(self.contact.journey_service_user_id, self.service_user, "a contact follows its company")
        todo = self._service_todos(self.customer)
        self.assertEqual(len(todo), 1)
        self.assertIn(self.customer.name, todo.summary)

    def test_earlier_stage_no_hand_off(self):
        self.customer._journey_set_stage(self.stage_consideration, "manual")

        self.assertFalse(self.customer.journey_service_user_id)
        self.assertFalse(self._service_todos(self.customer))

    def test_later_stage_hands_off(self):
        self.customer._journey_set_stage(self.stage_aftersales, "manual")

        self.assertEqual(self.customer.journey_service_user_id, self.service_user)

    def test_own_service_person_kept(self):
        other = mail_new_test_user(self.env, login="journey_service_other", name="Olga Other", groups="base.group_user")
        self.customer.journey_service_user_id = other

        self._create_order().action_confirm()

        self.assertEqual(self.customer.journey_service_user_id, other)
        self.assertEqual(self.customer.journey_service_team_id, self.service_team, "the empty team is filled")
        self.assertFalse(self._service_todos(self.customer))

    def test_no_settings_no_hand_off(self):
        self.company.write({"journey_service_user_id": False, "journey_service_team_id": False})

        self._create_order().action_confirm()

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        self.assertFalse(self.customer.journey_service_user_id)
        self.assertFalse(self.customer.journey_service_team_id)

    def test_settings_fields(self):
        settings = self.env["res.config.settings"].create({})

        self.assertEqual(settings.journey_handoff_stage_id, self.stage_conversion)
        self.assertEqual(settings.journey_service_user_id, self.service_user)
        self.assertEqual(settings.journey_service_team_id, self.service_team)
