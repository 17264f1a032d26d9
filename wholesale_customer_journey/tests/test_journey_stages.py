# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestJourneyStages(JourneyCase):
    def test_lead_created_moves_to_awareness(self):
        lead = self.env["crm.lead"].create({"name": "Potten voor de lente", "partner_id": self.contact.id})

        self.assertEqual(self.customer.journey_stage_id, self.stage_awareness)
        self.assertEqual(self.contact.journey_stage_id, self.stage_awareness, "contacts show the company's stage")
        history = self._history()
        self.assertEqual(len(history), 1)
        self.assertEqual(history.stage_id, self.stage_awareness)
        self.assertFalse(history.previous_stage_id)
        self.assertEqual(history.event_code, "lead_created")
        self.assertEqual(history.source_ref, lead)
        self.assertFalse(history.date_end)
        self.assertEqual(lead.journey_stage_snapshot_id, self.stage_awareness)

    def test_lead_from_campaign_moves_to_favorability(self):
        self.env["crm.lead"].create(
            {"name": "Reactie op beurs", "partner_id": self.customer.id, "campaign_id": self.campaign.id}
        )

        self.assertEqual(self.customer.journey_stage_id, self.stage_favorability)
        self.assertEqual(self._history().event_code, "lead_created_campaign")

    def test_crm_stage_mapping(self):
        lead = self.env["crm.lead"].create(
            {"name": "Potten", "partner_id": self.customer.id, "type": "opportunity"}
        )
        lead.stage_id = self.env.ref("crm.stage_lead2")

        self.assertEqual(self.customer.journey_stage_id, self.stage_consideration)
        history = self._history()
        self.assertEqual(history.stage_id, self.stage_awareness | self.stage_consideration)
        self.assertEqual(history[0].date_end, history[1].date_start, "the old row closes when the new one opens")
        self.assertGreaterEqual(history[0].stay_days, 0.0)
        self.assertEqual(history[1].stay_days, 0.0, "an open stay has no days spent yet")
        self.assertEqual(history[1].previous_stage_id, self.stage_awareness)
        self.assertEqual(history[1].event_code, "crm_stage")
        self.assertTrue(history[0].moved_on)
        self.assertFalse(history[1].moved_on, "the current stay has not moved on")

        lead.stage_id = self.env.ref("crm.stage_lead3")
        self.assertEqual(self.customer.journey_stage_id, self.stage_intent)
        self.assertEqual(lead.journey_stage_snapshot_id, self.stage_intent)

    def test_crm_stage_without_rule_keeps_stage(self):
        lead = self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        lead.stage_id = self.env.ref("crm.stage_lead4")

        self.assertEqual(self.customer.journey_stage_id, self.stage_awareness)

    def test_quotation_sent_moves_to_intent(self):
        order = self._create_order()
        self.assertFalse(self.customer.journey_stage_id, "a draft quotation is no event")

        order.action_quotation_sent()

        self.assertEqual(self.customer.journey_stage_id, self.stage_intent)
        self.assertEqual(self._history().source_ref, order)
        self.assertEqual(order.journey_stage_snapshot_id, self.stage_intent)

    def test_order_confirmed_moves_to_conversion(self):
        order = self._create_order()
        order.action_confirm()

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        self.assertEqual(self._history().event_code, "order_confirmed")

    def test_order_delivered_moves_to_aftersales(self):
        order = self._create_order()
        order.action_confirm()
        order.order_line.qty_delivered = 4
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion, "partly delivered")

        self._deliver(order)

        self.assertEqual(self.customer.journey_stage_id, self.stage_aftersales)
        history = self._history()
        self.assertEqual(history.mapped("event_code"), ["order_confirmed", "order_delivered"])
        self.assertEqual(history[-1].source_ref, order)

    def test_delivery_ignored_when_company_uses_payment(self):
        self.company.journey_aftersales_trigger = "payment"
        order = self._create_order()
        order.action_confirm()
        self._deliver(order)

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)

    def test_invoice_paid_moves_to_aftersales(self):
        self.company.journey_aftersales_trigger = "payment"
        order = self._create_order()
        order.action_confirm()
        self._deliver(order)
        invoice = order._create_invoices()
        invoice.action_post()
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion, "posted but unpaid")

        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.env.flush_all()
        self.env.cr.precommit.run()

        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.customer.journey_stage_id, self.stage_aftersales)
        self.assertEqual(self._history()[-1].event_code, "order_paid")

    def test_no_backward_move(self):
        self._create_order().action_confirm()
        history_count = len(self._history())

        self.env["crm.lead"].create({"name": "Nieuwe vraag", "partner_id": self.contact.id})
        self._create_order().action_quotation_sent()

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        self.assertEqual(len(self._history()), history_count)

    def test_manual_override_needs_manager(self):
        self._create_order().action_confirm()
        partner_as_salesman = self.customer.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            partner_as_salesman.action_journey_set_stage()
        with self.assertRaises(AccessError):
            self.env["customer.journey.stage.set"].with_user(self.user_salesman).create(
                {"partner_ids": self.customer.ids, "stage_id": self.stage_awareness.id, "reason": "Test"}
            )

    def test_manual_override_by_manager(self):
        self._create_order().action_confirm()
        action = self.customer.with_user(self.user_manager).action_journey_set_stage()
        wizard = (
            self.env["customer.journey.stage.set"]
            .with_user(self.user_manager)
            .with_context(action["context"])
            .create({"stage_id": self.stage_consideration.id, "reason": "Overgenomen door een keten"})
        )
        wizard.action_apply()

        self.assertEqual(self.customer.journey_stage_id, self.stage_consideration, "a manager may move backwards")
        last = self._history()[-1]
        self.assertEqual(last.event_code, "manual")
        self.assertEqual(last.reason, "Overgenomen door een keten")
        self.assertEqual(last.previous_stage_id, self.stage_conversion)
        self.assertEqual(last.user_id, self.user_manager)
        self.assertFalse(self._history()[-2].moved_on, "set back by hand is not moving on")

    def test_manual_override_needs_reason(self):
        wizard = self.env["customer.journey.stage.set"].create(
            {"partner_ids": self.customer.ids, "stage_id": self.stage_intent.id, "reason": "  "}
        )
        with self.assertRaises(UserError):
            wizard.action_apply()

    def test_stage_change_is_tracked(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        self.flush_tracking()

        tracking = self.customer.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "journey_stage_id"
        )
        self.assertEqual(len(tracking), 1)
        contact_tracking = self.contact.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "journey_stage_id"
        )
        self.assertFalse(contact_tracking, "contacts follow their company without a message each")

    def test_stage_change_log_shows_old_and_new_stage(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        self._create_order().action_confirm()

        messages = self.customer.message_ids.filtered("tracking_value_ids").sorted("id")
        self.assertEqual(len(messages), 2)
        moves = [
            (value.old_value_char, value.new_value_char)
            for value in messages.tracking_value_ids.sorted("mail_message_id")
        ]
        self.assertEqual(moves, [("", "Awareness"), ("Awareness", "Conversion")])
        self.assertEqual(messages.author_id, self.env.user.partner_id)
        self.assertTrue(all(message.is_internal for message in messages), "stage changes are internal notes")

    def test_stage_change_log_shows_reason(self):
        self._create_order().action_confirm()
        self.env["customer.journey.stage.set"].with_user(self.user_manager).create(
            {"partner_ids": self.customer.ids, "stage_id": self.stage_consideration.id, "reason": "Nieuwe aankoper"}
        ).action_apply()

        message = self.customer.message_ids.filtered("tracking_value_ids")[:1]
        self.assertIn("Nieuwe aankoper", message.body)
        self.assertEqual(message.author_id, self.user_manager.partner_id)

    def test_archived_contact_gets_stage(self):
        self.contact.action_archive()
        self._create_order(partner=self.customer).action_confirm()

        self.assertEqual(self.contact.journey_stage_id, self.stage_conversion)
        self.assertEqual(self.contact.journey_stage_date, self.customer.journey_stage_date)

    def test_direct_stage_write_rejected(self):
        with self.assertRaises(UserError):
            self.customer.write({"journey_stage_id": self.stage_conversion.id})

    def test_create_in_stage_rejected(self):
        with self.assertRaisesRegex(UserError, "Journey Stage"):
            self.env["res.partner"].create(
                {"name": "Snelle klant", "is_company": True, "journey_stage_id": self.stage_aftersales.id}
            )

    def test_kanban_column_default_ignored(self):
        partner = (
            self.env["res.partner"]
            .with_context(default_journey_stage_id=self.stage_aftersales.id)
            .create({"name": "Kolomklant", "is_company": True})
        )
        self.assertFalse(partner.journey_stage_id)
        self.assertFalse(self._history(partner))

    def test_lost_opportunity_records_dropoff(self):
        lead = self.env["crm.lead"].create(
            {"name": "Potten", "partner_id": self.customer.id, "type": "opportunity"}
        )
        lead.stage_id = self.env.ref("crm.stage_lead2")
        reason = self.env["crm.lost.reason"].create({"name": "Te duur"})

        lead.action_set_lost(lost_reason_id=reason.id)

        self.assertFalse(lead.active)
        self.assertEqual(lead.journey_dropoff_stage_id, self.stage_consideration)
        self.assertEqual(lead.lost_reason_id, reason)

    def test_days_in_stage_and_stuck_search(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        old = fields.Datetime.now() - timedelta(days=100)
        self.customer.with_context(journey_stage_door=True).journey_stage_date = old
        self.env["ir.config_parameter"].set_param("wholesale_customer_journey.stuck_days", 60)

        self.assertEqual(self.customer.journey_days_in_stage, 100)
        self.assertTrue(self.customer.journey_is_stuck)
        Partner = self.env["res.partner"]
        self.assertIn(self.customer, Partner.search([("journey_is_stuck", "=", True)]))
        self.assertIn(self.customer, Partner.search([("journey_days_in_stage", ">", 90)]))
        self.assertNotIn(self.customer, Partner.search([("journey_days_in_stage", ">", 110)]))
        self.assertNotIn(self.customer, Partner.search([("journey_is_stuck", "=", False)]))

    def test_days_in_stage_search_matches_field(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        half_day_past_60 = fields.Datetime.now() - timedelta(days=60, hours=12)
        self.customer.with_context(journey_stage_door=True).journey_stage_date = half_day_past_60
        self.env["ir.config_parameter"].set_param("wholesale_customer_journey.stuck_days", 60)

        Partner = self.env["res.partner"]
        self.assertEqual(self.customer.journey_days_in_stage, 60)
        self.assertTrue(self.customer.journey_is_stuck, "more than 60 days, counted in hours")
        self.assertIn(self.customer, Partner.search([("journey_is_stuck", "=", True)]))
        for operator, days, found in (
            (">", 59, True),
            (">", 60, False),
            (">=", 60, True),
            (">=", 61, False),
            ("<", 61, True),
            ("<", 60, False),
            ("<=", 60, True),
            ("<=", 59, False),
        ):
            partners = Partner.search([("journey_days_in_stage", operator, days), ("id", "=", self.customer.id)])
            self.assertEqual(bool(partners), found, f"days in stage {operator} {days}")

    def test_history_duration_search(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        row = self._history()
        row.date_start = fields.Datetime.now() - timedelta(days=40)

        History = self.env["customer.journey.history"]
        self.assertIn(row, History.search([("duration_days", ">", 30)]))
        self.assertNotIn(row, History.search([("duration_days", ">", 50)]))
        self.assertIn(row, History.search([("is_current", "=", True)]))


@tagged("post_install", "-at_install")
class TestJourneyConfiguration(JourneyCase):
    def test_duplicate_stage_sequence_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Sequence"):
            self.env["customer.journey.stage"].create({"name": "Twijfel", "sequence": 30})

    def test_archived_stage_may_share_sequence(self):
        stage = self.env["customer.journey.stage"].create({"name": "Oud", "sequence": 30, "active": False})
        self.assertFalse(stage.active)

    def test_delete_stage_in_use_rejected(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        with self.assertRaisesRegex(UserError, "Awareness"):
            self.stage_awareness.unlink()

    def test_delete_stage_used_by_rule_rejected(self):
        stage = self.env["customer.journey.stage"].create({"name": "Extra", "sequence": 99})
        self.env["customer.journey.rule"].create({"event_code": "quotation_sent", "stage_id": stage.id, "company_id": self.company.id})
        with self.assertRaisesRegex(UserError, "journey rules: 1"):
            stage.unlink()

    def test_delete_unused_stage(self):
        stage = self.env["customer.journey.stage"].create({"name": "Extra", "sequence": 99})
        stage.unlink()
        self.assertFalse(stage.exists())

    def test_crm_stage_rule_needs_crm_stage(self):
        with self.assertRaisesRegex(ValidationError, "CRM Stage"):
            self.env["customer.journey.rule"].create(
                {"event_code": "crm_stage", "stage_id": self.stage_intent.id}
            )

    def test_rule_drives_stage_not_code(self):
        rule = self.env.ref("wholesale_customer_journey.rule_lead_created")
        rule.stage_id = self.stage_consideration
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})

        self.assertEqual(self.customer.journey_stage_id, self.stage_consideration)

    def test_company_rule_wins_over_shared_rule(self):
        self.env["customer.journey.rule"].create(
            {"event_code": "lead_created", "stage_id": self.stage_intent.id, "company_id": self.company.id}
        )
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})

        self.assertEqual(self.customer.journey_stage_id, self.stage_intent)

    def test_stuck_days_setting_rejects_zero(self):
        with self.assertRaisesRegex(ValidationError, "Stuck"):
            self.env["res.config.settings"].create({"journey_stuck_days": 0})
