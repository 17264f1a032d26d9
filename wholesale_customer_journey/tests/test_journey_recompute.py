# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime

from odoo.tests import tagged

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestJourneyRecompute(JourneyCase):
    """Stages of customers whose records changed outside the ORM."""

    def _sql_confirm(self, order, date, write_date=None):
        """Confirm ``order`` as an import or a script would: in SQL, no events."""
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE sale_order
                  SET state = 'sale', date_order = %s,
                      write_date = COALESCE(%s, NOW() AT TIME ZONE 'UTC')
                WHERE id = %s""",
            (date, write_date, order.id),
        )
        self.env.invalidate_all()

    def test_recompute_moves_changed_customer(self):
        Replay = self.env["customer.journey.replay"]
        Replay._recompute_stages(full=True)
        self.env["ir.config_parameter"].set_param(
            "wholesale_customer_journey.recompute_since", "2026-01-01 00:00:00"
        )
        order = self._create_order()
        self._sql_confirm(order, datetime(2026, 3, 1, 9, 0))
        self.assertFalse(self.customer.journey_stage_id)

        moved = Replay._cron_recompute_stages()

        self.assertEqual(moved, 1)
        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        self.assertEqual(self.contact.journey_stage_id, self.stage_conversion)
        history = self._history()
        self.assertEqual(len(history), 1)
        self.assertEqual(history.date_start, datetime(2026, 3, 1, 9, 0))
        self.assertEqual(history.event_code, "order_confirmed")
        self.assertEqual(history.source_ref, order)

    def test_recompute_twice_changes_nothing(self):
        self._sql_confirm(self._create_order(), datetime(2026, 3, 1))
        Replay = self.env["customer.journey.replay"]
        Replay._recompute_stages(full=True)
        history = self._history()

        moved, remaining = Replay._recompute_stages(full=True)

        self.assertEqual((moved, remaining), (0, 0))
        self.assertEqual(self._history(), history)

    def test_replay_path_in_journey_order(self):
        """An event older than a stage already reached adds no history row."""
        lead = self.env["crm.lead"].with_context(journey_no_capture=True).create(
            {"name": "Oud", "partner_id": self.customer.id}
        )
        first_order = self._create_order()
        second_order = self._create_order()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id = %s",
            (datetime(2025, 6, 1), datetime(2025, 6, 1), lead.id),
        )
        self._sql_confirm(first_order, datetime(2025, 1, 10))
        self._sql_confirm(second_order, datetime(2025, 9, 1))

        self.env["res.partner"]._journey_replay_history(self.customer.ids)

        history = self._history()
        self.assertEqual(history.stage_id, self.stage_conversion, "the later lead does not add Awareness")
        self.assertEqual(history.date_start, datetime(2025, 1, 10))
        self.assertEqual(history.source_ref, first_order)

    def test_replay_full_path_with_dates(self):
        lead = self.env["crm.lead"].with_context(journey_no_capture=True).create(
            {"name": "Beurs", "partner_id": self.customer.id, "campaign_id": self.campaign.id}
        )
        order = self._create_order()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id = %s",
            (datetime(2025, 2, 1), datetime(2025, 2, 1), lead.id),
        )
        self._sql_confirm(order, datetime(2025, 4, 1))
        self.env.cr.execute(
            "UPDATE sale_order SET journey_delivered = TRUE, journey_delivered_date = %s WHERE id = %s",
            (datetime(2025, 4, 10), order.id),
        )

        self.env["res.partner"]._journey_replay_history(self.customer.ids)

        history = self._history()
        self.assertEqual(
            history.stage_id.ids,
            [self.stage_favorability.id, self.stage_conversion.id, self.stage_aftersales.id],
        )
        self.assertEqual(history.mapped("date_start"), [datetime(2025, 2, 1), datetime(2025, 4, 1), datetime(2025, 4, 10)])
        self.assertEqual(history.mapped("date_end"), [datetime(2025, 4, 1), datetime(2025, 4, 10), False])
        self.assertEqual(history[1].previous_stage_id, self.stage_favorability)
        self.assertEqual(self.customer.journey_stage_date, datetime(2025, 4, 10))
        self.assertEqual(history.mapped("moved_on"), [True, True, False])
        self.assertEqual(history.company_id, self.company, "each row has the company of its lead or order")

    def test_replay_continues_from_current_stage(self):
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        awareness = self._history()
        order = self._create_order()
        self._sql_confirm(order, datetime(2020, 1, 1))

        self.env["res.partner"]._journey_replay_history(self.customer.ids)

        history = self._history()
        self.assertEqual(len(history), 2)
        self.assertEqual(history[0], awareness)
        self.assertEqual(history[1].stage_id, self.stage_conversion)
        self.assertEqual(history[1].previous_stage_id, self.stage_awareness)
        self.assertEqual(
            history[1].date_start, awareness.date_start, "never dated before the stage it leaves"
        )
        self.assertEqual(awareness.date_end, history[1].date_start)
        self.assertTrue(awareness.moved_on, "the open row closed by the replay moved on")

    def test_incremental_recompute_skips_unchanged(self):
        Replay = self.env["customer.journey.replay"]
        Replay._recompute_stages(full=True)
        self.env["ir.config_parameter"].set_param(
            "wholesale_customer_journey.recompute_since", "2026-06-01 00:00:00"
        )
        old_order = self._create_order()
        self._sql_confirm(old_order, datetime(2026, 1, 1), write_date=datetime(2026, 1, 1))

        Replay._recompute_stages()
        self.assertFalse(self.customer.journey_stage_id, "written before the last run")

        Replay._recompute_stages(full=True)
        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)

    def test_recompute_keeps_manual_stage(self):
        order = self._create_order()
        order.action_confirm()
        wizard = self.env["customer.journey.stage.set"].create(
            {"partner_ids": self.customer.ids, "stage_id": self.stage_consideration.id, "reason": "Overname"}
        )
        wizard.action_apply()

        self.env["customer.journey.replay"]._recompute_stages(full=True)

        self.assertEqual(self.customer.journey_stage_id, self.stage_consideration)

    def test_recompute_after_manual_stage_uses_newer_orders(self):
        self._create_order().action_confirm()
        self.env["customer.journey.stage.set"].create(
            {"partner_ids": self.customer.ids, "stage_id": self.stage_awareness.id, "reason": "Nieuwe eigenaar"}
        ).action_apply()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE customer_journey_history SET date_start = %s WHERE partner_id = %s AND event_code = 'manual'",
            (datetime(2026, 1, 1), self.customer.id),
        )
        # The first confirmation came before the manual change.
        self.env.cr.execute(
            """UPDATE customer_journey_history SET date_start = %s, date_end = %s
                WHERE partner_id = %s AND event_code != 'manual'""",
            (datetime(2025, 12, 1), datetime(2026, 1, 1), self.customer.id),
        )
        self.env.cr.execute(
            "UPDATE res_partner SET journey_stage_date = %s WHERE commercial_partner_id = %s",
            (datetime(2026, 1, 1), self.customer.id),
        )
        self.env.invalidate_all()
        self._sql_confirm(self._create_order(), datetime(2026, 2, 1))

        self.env["customer.journey.replay"]._recompute_stages(full=True)

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        current = self._history().filtered(lambda row: not row.date_end)
        self.assertEqual(current.stage_id, self.stage_conversion)
        self.assertEqual(current.date_start, datetime(2026, 2, 1))
        conversion_rows = self._history().filtered(lambda row: row.stage_id == self.stage_conversion)
        self.assertEqual(len(conversion_rows), 2, "the customer entered Conversion again")
        self.assertEqual((conversion_rows - current).mapped("reentered"), [True])
        self.assertFalse(current.reentered)

    def test_replay_gives_leads_their_stage(self):
        lead = self.env["crm.lead"].with_context(journey_no_capture=True).create(
            {"name": "Van voor de installatie", "partner_id": self.contact.id}
        )
        self._sql_confirm(self._create_order(), datetime(2026, 3, 1))

        self.env["customer.journey.replay"]._recompute_stages(full=True)

        self.assertEqual(lead.journey_stage_snapshot_id, self.stage_conversion)

    def test_replay_uses_company_rule(self):
        self.env["customer.journey.rule"].create(
            {"event_code": "order_confirmed", "stage_id": self.stage_aftersales.id, "company_id": self.company.id}
        )
        self._sql_confirm(self._create_order(), datetime(2025, 5, 1))

        self.env["res.partner"]._journey_replay_history(self.customer.ids)

        self.assertEqual(self.customer.journey_stage_id, self.stage_aftersales)

    def test_replay_stores_days_spent(self):
        lead = self.env["crm.lead"].with_context(journey_no_capture=True).create(
            {"name": "Beurs", "partner_id": self.customer.id}
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id = %s",
            (datetime(2025, 3, 1), datetime(2025, 3, 1), lead.id),
        )
        self._sql_confirm(self._create_order(), datetime(2025, 3, 11))

        self.env["res.partner"]._journey_replay_history(self.customer.ids)

        history = self._history()
        self.assertEqual(history.mapped("stay_days"), [10.0, 0.0])
