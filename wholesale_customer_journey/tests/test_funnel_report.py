# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import JourneyCase

AGGREGATES = [
    "customer_count:sum",
    "moved_on_count:sum",
    "conversion_rate:ratio",
    "days_avg:avg",
    "days_median:median",
    "dropoff_count:sum",
    "lead_count:sum",
]


@tagged("post_install", "-at_install")
class TestFunnelReport(JourneyCase):
    """Funnel numbers on a small history whose figures are counted by hand.

    Customer A: Awareness day 0, Consideration day 10, Conversion day 40.
    Customer B: Awareness day 0, Consideration day 20.
    Customer C: Awareness day 5.
    Customer D: Awareness day 0, Intent to Purchase day 4, opportunity lost there.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.customer_a, cls.customer_b, cls.customer_c, cls.customer_d = Partner.create(
            [{"name": f"Funnel customer {letter}", "is_company": True} for letter in "ABCD"]
        )
        cls.customers = cls.customer_a | cls.customer_b | cls.customer_c | cls.customer_d
        cls.lost_reason = cls.env["crm.lost.reason"].create({"name": "Te duur"})
        Lead = cls.env["crm.lead"].with_context(journey_no_capture=True)
        Lead.create({"name": "Beurscontact", "partner_id": cls.customer_a.id, "campaign_id": cls.campaign.id})
        cls.lead_d = Lead.create({"name": "Offerte steekschuim", "partner_id": cls.customer_d.id, "type": "opportunity"})

        def move(customer, stage, day):
            customer._journey_set_stage(stage, "manual", date=datetime(2026, 1, 1) + timedelta(days=day))

        move(cls.customer_a, cls.stage_awareness, 0)
        move(cls.customer_a, cls.stage_consideration, 10)
        move(cls.customer_a, cls.stage_conversion, 40)
        move(cls.customer_b, cls.stage_awareness, 0)
        move(cls.customer_b, cls.stage_consideration, 20)
        move(cls.customer_c, cls.stage_awareness, 5)
        move(cls.customer_d, cls.stage_awareness, 0)
        move(cls.customer_d, cls.stage_intent, 4)
        cls.lead_d.action_set_lost(lost_reason_id=cls.lost_reason.id)
        cls.env.flush_all()

    def _funnel(self, groupby="stage_id", env=None):
        Report = (env or self.env)["customer.journey.funnel.report"]
        rows = Report._read_group([("partner_id", "in", self.customers.ids)], [groupby], AGGREGATES)
        return {group: dict(zip(AGGREGATES, values)) for group, *values in rows}

    def test_customers_per_stage(self):
        funnel = self._funnel()

        self.assertEqual(funnel[self.stage_awareness]["customer_count:sum"], 4)
        self.assertEqual(funnel[self.stage_consideration]["customer_count:sum"], 2)
        self.assertEqual(funnel[self.stage_intent]["customer_count:sum"], 1)
        self.assertEqual(funnel[self.stage_conversion]["customer_count:sum"], 1)
        self.assertNotIn(self.stage_aftersales, funnel)

    def test_conversion_rate_per_stage(self):
        funnel = self._funnel()

        self.assertEqual(funnel[self.stage_awareness]["moved_on_count:sum"], 3)
        self.assertAlmostEqual(funnel[self.stage_awareness]["conversion_rate:ratio"], 75.0)
        self.assertAlmostEqual(funnel[self.stage_consideration]["conversion_rate:ratio"], 50.0)
        self.assertAlmostEqual(funnel[self.stage_intent]["conversion_rate:ratio"], 0.0)
        self.assertAlmostEqual(funnel[self.stage_conversion]["conversion_rate:ratio"], 0.0)

    def test_days_in_stage_median_and_average(self):
        funnel = self._funnel()

        awareness = funnel[self.stage_awareness]
        self.assertAlmostEqual(awareness["days_median:median"], 10.0, "stays of 4, 10 and 20 days")
        self.assertAlmostEqual(awareness["days_avg:avg"], 34 / 3, places=2)
        self.assertAlmostEqual(funnel[self.stage_consideration]["days_median:median"], 30.0)
        self.assertFalse(funnel[self.stage_conversion]["days_median:median"], "an open stay has no days yet")

    def test_dropoff_with_lost_reason(self):
        funnel = self._funnel()
        by_reason = self._funnel(groupby="lost_reason_id")

        self.assertEqual(funnel[self.stage_intent]["dropoff_count:sum"], 1)
        self.assertEqual(funnel[self.stage_awareness]["dropoff_count:sum"], 0)
        self.assertEqual(by_reason[self.lost_reason]["dropoff_count:sum"], 1)

    def test_leads_per_stage(self):
        Lead = self.env["crm.lead"].with_context(journey_no_capture=True)
        Lead.create(
            [
                {"name": "Herbestelling kerstballen", "partner_id": self.customer_b.id,
                 "journey_stage_snapshot_id": self.stage_consideration.id},
                {"name": "Stalen linten", "partner_id": self.customer_b.id,
                 "journey_stage_snapshot_id": self.stage_consideration.id},
                {"name": "Eerste contact", "partner_id": self.customer_c.id,
                 "journey_stage_snapshot_id": self.stage_awareness.id},
                {"name": "Beursbezoeker zonder klant", "journey_stage_snapshot_id": self.stage_awareness.id},
            ]
        )
        self.env.flush_all()

        funnel = self._funnel()

        self.assertEqual(funnel[self.stage_consideration]["lead_count:sum"], 2)
        self.assertEqual(funnel[self.stage_awareness]["lead_count:sum"], 1, "a lead without customer is not counted")
        self.assertEqual(funnel[self.stage_intent]["lead_count:sum"], 0, "lead D has no snapshot")

    def test_leads_of_other_company_or_lost_not_counted(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        Lead = self.env["crm.lead"].with_context(journey_no_capture=True)
        Lead.create(
            [
                {"name": "Eigen lead", "partner_id": self.customer_b.id, "company_id": self.company.id,
                 "journey_stage_snapshot_id": self.stage_consideration.id},
                {"name": "Lead van Noord", "partner_id": self.customer_b.id, "company_id": other_company.id,
                 "journey_stage_snapshot_id": self.stage_consideration.id},
                {"name": "Verloren lead", "partner_id": self.customer_b.id, "company_id": self.company.id,
                 "journey_stage_snapshot_id": self.stage_consideration.id, "active": False},
            ]
        )
        self.env.flush_all()

        funnel = self._funnel()

        self.assertEqual(funnel[self.stage_consideration]["lead_count:sum"], 1)

    def test_customer_entering_stage_again_counted_once(self):
        self.customer_c._journey_set_stage(self.stage_consideration, "manual", date=datetime(2026, 2, 1))
        self.customer_c._journey_set_stage(self.stage_awareness, "manual", date=datetime(2026, 3, 1), force=True)
        self.env.flush_all()

        funnel = self._funnel()

        awareness = funnel[self.stage_awareness]
        self.assertEqual(awareness["customer_count:sum"], 4, "customer C entered Awareness twice")
        self.assertEqual(awareness["moved_on_count:sum"], 3, "C's latest stay in Awareness is open")
        self.assertAlmostEqual(awareness["conversion_rate:ratio"], 75.0)
        self.assertEqual(funnel[self.stage_consideration]["customer_count:sum"], 3)

    def test_mixed_group_conversion_ratio(self):
        by_customer = self._funnel(groupby="partner_id")

        customer_a = by_customer[self.customer_a]
        self.assertEqual(customer_a["customer_count:sum"], 3)
        self.assertEqual(customer_a["moved_on_count:sum"], 2)
        self.assertAlmostEqual(customer_a["conversion_rate:ratio"], 200 / 3)

    def test_leads_counted_in_latest_stay(self):
        self.customer_c._journey_set_stage(self.stage_consideration, "manual", date=datetime(2026, 2, 1))
        self.customer_c._journey_set_stage(self.stage_awareness, "manual", date=datetime(2026, 3, 1), force=True)
        self.env["crm.lead"].with_context(journey_no_capture=True).create(
            {"name": "Terug naar af", "partner_id": self.customer_c.id,
             "journey_stage_snapshot_id": self.stage_awareness.id}
        )
        self.env.flush_all()
        Report = self.env["customer.journey.funnel.report"]

        rows = Report.search([("partner_id", "=", self.customer_c.id), ("stage_id", "=", self.stage_awareness.id)])

        self.assertEqual(sorted(rows.mapped("lead_count")), [0, 1])
        self.assertEqual(rows.filtered("lead_count").date, datetime(2026, 3, 1))

    def test_grouped_by_segment(self):
        segment = self.env["customer.journey.segment"].create(
            {"name": "Verder dan bewustwording", "target": "company",
             "stage_ids": [(6, 0, (self.stage_consideration | self.stage_conversion | self.stage_intent).ids)]}
        )
        segment._refresh_members()
        self.env.flush_all()

        by_segment = self._funnel(groupby="segment_ids")
        rows = self.env["customer.journey.funnel.report"].search(
            [("partner_id", "in", self.customers.ids), ("segment_ids", "=", segment.id)]
        )

        self.assertEqual(by_segment[segment]["customer_count:sum"], 7, "the rows of customers A, B and D")
        self.assertEqual(set(rows.partner_id), {self.customer_a, self.customer_b, self.customer_d})
        self.assertEqual(by_segment[self.env["customer.journey.segment"]]["customer_count:sum"], 1, "customer C")

    def test_rows_written_by_replay_count(self):
        customer = self.env["res.partner"].create({"name": "Teruggehaald uit SQL", "is_company": True})
        self.env["crm.lead"].with_context(journey_no_capture=True).create(
            {"name": "Oude lead", "partner_id": customer.id, "type": "opportunity"}
        )
        self.env["customer.journey.replay"]._recompute_stages(full=True)
        self.env.flush_all()
        Report = self.env["customer.journey.funnel.report"]

        rows = Report.search([("partner_id", "=", customer.id)])

        self.assertEqual(rows.stage_id, self.stage_awareness)
        self.assertEqual(rows.customer_count, 1, "a row inserted in SQL counts too")
        self.assertEqual(rows.lead_count, 1, "the replay gave the lead its customer's stage")

    def test_first_touch_campaign(self):
        by_campaign = self._funnel(groupby="campaign_id")

        self.assertEqual(by_campaign[self.campaign]["customer_count:sum"], 3, "the rows of customer A")

    def test_internal_user_reads_portal_user_not(self):
        funnel = self._funnel(env=self.env(user=self.user_employee))
        self.assertEqual(funnel[self.stage_awareness]["customer_count:sum"], 4)

        with self.assertRaises(AccessError):
            self.env["customer.journey.funnel.report"].with_user(self.user_portal).search([])

    def test_other_company_rows_hidden(self):
        other_company = self.env["res.company"].create({"name": "Tweede Groothandel"})
        self.env["customer.journey.history"].search([("partner_id", "=", self.customer_c.id)]).company_id = other_company
        self.user_employee.company_ids = self.company
        self.env.flush_all()

        funnel = self._funnel(env=self.env(user=self.user_employee, context={"allowed_company_ids": self.company.ids}))

        self.assertEqual(funnel[self.stage_awareness]["customer_count:sum"], 3)
