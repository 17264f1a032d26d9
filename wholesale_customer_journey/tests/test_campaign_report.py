# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command, fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import JourneyCase

AGGREGATES = [
    "recipient_count:sum",
    "open_count:sum",
    "response_count:sum",
    "bounce_count:sum",
    "lead_count:sum",
    "opportunity_count:sum",
    "won_count:sum",
    "revenue:sum",
    "response_rate:ratio",
    "open_rate:ratio",
    "lead_rate:ratio",
    "win_rate:ratio",
]


class CampaignCase(JourneyCase):
    """Mailings with traces and campaign leads, built from counts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_marketing = mail_new_test_user(
            cls.env,
            login="journey_marketing",
            name="Mira Marketing",
            email="mira@example.com",
            groups="base.group_user,mass_mailing.group_mass_mailing_user",
        )
        cls.Lead = cls.env["crm.lead"].with_context(journey_no_capture=True)

    @classmethod
    def _create_mailing(cls, campaign, sent_date, statuses, clicked=(), medium=None):
        """Create a sent mailing of ``campaign`` with one trace per status.

        :param statuses: {trace_status: count}
        :param clicked: {trace_status: count} of those traces whose link was clicked
        """
        mailing = cls.env["mailing.mailing"].create(
            {
                "subject": f"{campaign.title} {sent_date}",
                "campaign_id": campaign.id,
                "mailing_model_id": cls.env.ref("base.model_res_partner").id,
                "user_id": cls.user_marketing.id,
                "state": "done",
                "sent_date": sent_date,
                **({"medium_id": medium.id} if medium else {}),
            }
        )
        clicked = dict(clicked)
        traces = []
        for status, count in statuses.items():
            for index in range(count):
                traces.append(
                    {
                        "mass_mailing_id": mailing.id,
                        "model": "res.partner",
                        "res_id": cls.customer.id,
                        "trace_status": status,
                        "sent_datetime": sent_date,
                        "links_click_datetime": sent_date if index < clicked.get(status, 0) else False,
                    }
                )
        cls.env["mailing.trace"].create(traces)
        return mailing

    @classmethod
    def _create_leads(cls, campaign, count, mailing=None, **values):
        return cls.Lead.create(
            [
                {
                    "name": f"{campaign.title} lead {index}",
                    "campaign_id": campaign.id,
                    "source_id": mailing.source_id.id if mailing else False,
                    "medium_id": mailing.medium_id.id if mailing else False,
                    **values,
                }
                for index in range(count)
            ]
        )


@tagged("post_install", "-at_install")
class TestCampaignReport(CampaignCase):
    """Campaign results on a small data set counted by hand.

    Campaign A (Voorjaarsbeurs), mailing A1: 2 canceled, 1 failed and 1
    queued mail (not sent), 2 delivered, 2 opened (one clicked), 1 replied
    and 1 bounced. That makes 6 recipients, 3 opened, 2 responses and 1
    bounced. Campaign A has 3 leads: a won opportunity from A1, a lead from
    the trade fair and a lost opportunity (2 opportunities, 1 won). The won
    opportunity has two confirmed orders and a draft quotation. The orders
    are 125.00 in a foreign currency at 2 per unit of the company currency
    and 250.00 in the company currency, so 312.50 of confirmed revenue.

    Campaign B, mailing B1: 3 delivered, 1 replied: 4 recipients, 1
    response, 1 opened. One lead from B1.

    Campaign C: no mailing, one trade fair lead.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign_a = cls.campaign
        cls.campaign_b = cls.env["utm.campaign"].create({"name": "Nieuwsbrief Najaar"})
        cls.campaign_c = cls.env["utm.campaign"].create({"name": "Horecabeurs"})
        cls.campaigns = cls.campaign_a | cls.campaign_b | cls.campaign_c
        sent = datetime(2026, 2, 2, 9, 0)
        cls.mailing_a = cls._create_mailing(
            cls.campaign_a,
            sent,
            {"cancel": 2, "error": 1, "outgoing": 1, "sent": 2, "open": 2, "reply": 1, "bounce": 1},
            clicked={"open": 1},
        )
        cls.mailing_b = cls._create_mailing(cls.campaign_b, sent, {"sent": 3, "reply": 1})

        cls.lead_won = cls._create_leads(
            cls.campaign_a, 1, mailing=cls.mailing_a, type="opportunity", partner_id=cls.customer.id
        )
        cls.lead_won.action_set_won()
        cls.lead_fair = cls._create_leads(cls.campaign_a, 1, type="lead")
        cls.lead_lost = cls._create_leads(cls.campaign_a, 1, type="opportunity")
        cls.lead_lost.action_set_lost()
        cls._create_leads(cls.campaign_b, 1, mailing=cls.mailing_b, type="lead")
        cls.lead_c = cls._create_leads(cls.campaign_c, 1, type="lead")

        # 125.00 in a foreign currency at 2 units per unit of the company
        # currency is 62.50 in the company currency.
        foreign = cls.env.ref("base.EUR" if cls.company.currency_id.name != "EUR" else "base.USD")
        foreign.active = True
        today = fields.Date.today()
        cls.env["res.currency.rate"].create(
            [
                {"currency_id": foreign.id, "name": today, "rate": 2.0, "company_id": cls.company.id},
                {"currency_id": cls.company.currency_id.id, "name": today, "rate": 1.0, "company_id": cls.company.id},
            ]
        )
        pricelist = cls.env["product.pricelist"].create({"name": "Foreign", "currency_id": foreign.id})
        order_foreign = cls._create_order_for(cls.lead_won, qty=10, pricelist=pricelist)
        order_usd = cls._create_order_for(cls.lead_won, qty=20)
        (order_foreign | order_usd).action_confirm()
        cls._create_order_for(cls.lead_won, qty=100)
        cls.order_foreign = order_foreign
        cls.env.flush_all()

    @classmethod
    def _create_order_for(cls, lead, qty, pricelist=None):
        return cls.env["sale.order"].create(
            {
                "partner_id": cls.contact.id,
                "opportunity_id": lead.id,
                "campaign_id": lead.campaign_id.id,
                **({"pricelist_id": pricelist.id} if pricelist else {}),
                "order_line": [
                    Command.create({"product_id": cls.product.id, "product_uom_qty": qty, "price_unit": 12.5}),
                ],
            }
        )

    def _results(self, groupby=("campaign_id",), domain=None, env=None):
        Report = (env or self.env)["customer.journey.campaign.report"]
        domain = domain or [("campaign_id", "in", self.campaigns.ids)]
        rows = Report._read_group(domain, list(groupby), AGGREGATES)
        size = len(groupby)
        return {tuple(row[:size]): dict(zip(AGGREGATES, row[size:])) for row in rows}

    def _campaign_results(self, env=None):
        return {key[0]: values for key, values in self._results(env=env).items()}

    def test_mailing_counts(self):
        results = self._campaign_results()[self.campaign_a]

        self.assertEqual(results["recipient_count:sum"], 6, "canceled, failed and queued mails are not sent")
        self.assertEqual(results["open_count:sum"], 3)
        self.assertEqual(results["response_count:sum"], 2, "one click and one reply")
        self.assertEqual(results["bounce_count:sum"], 1)

    def test_trace_never_sent_not_counted(self):
        # A click through the public redirect turns a canceled trace to "open"
        # without a sent date: it reached no one.
        mailing = self.campaign_a.mailing_mail_ids[:1]
        self.env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": "res.partner",
                "res_id": self.customer.id,
                "trace_status": "open",
                "links_click_datetime": fields.Datetime.now(),
            }
        )

        results = self._campaign_results()[self.campaign_a]

        self.assertEqual(results["recipient_count:sum"], 6)
        self.assertEqual(results["response_count:sum"], 2)

    def test_lead_counts(self):
        results = self._campaign_results()

        self.assertEqual(results[self.campaign_a]["lead_count:sum"], 3, "the lost opportunity counts")
        self.assertEqual(results[self.campaign_a]["opportunity_count:sum"], 2)
        self.assertEqual(results[self.campaign_a]["won_count:sum"], 1)
        self.assertEqual(results[self.campaign_b]["lead_count:sum"], 1)
        self.assertEqual(results[self.campaign_b]["won_count:sum"], 0)

    def test_campaign_without_mailing(self):
        results = self._campaign_results()[self.campaign_c]

        self.assertEqual(results["lead_count:sum"], 1)
        self.assertEqual(results["recipient_count:sum"], 0)
        self.assertFalse(results["response_rate:ratio"], "no recipients, no rate")

    def test_confirmed_revenue_in_company_currency(self):
        self.assertAlmostEqual(self.order_foreign.currency_rate, 2.0)

        results = self._campaign_results()

        self.assertAlmostEqual(results[self.campaign_a]["revenue:sum"], 62.5 + 250.0, msg="draft quotation left out")
        self.assertEqual(results[self.campaign_b]["revenue:sum"], 0)

    def test_rates_per_campaign(self):
        results = self._campaign_results()

        self.assertAlmostEqual(results[self.campaign_a]["response_rate:ratio"], 100 * 2 / 6)
        self.assertAlmostEqual(results[self.campaign_a]["open_rate:ratio"], 100 * 3 / 6)
        self.assertAlmostEqual(results[self.campaign_a]["lead_rate:ratio"], 100 * 3 / 2)
        self.assertAlmostEqual(results[self.campaign_a]["win_rate:ratio"], 100 * 1 / 3)
        self.assertAlmostEqual(results[self.campaign_b]["response_rate:ratio"], 25.0)
        self.assertAlmostEqual(results[self.campaign_b]["lead_rate:ratio"], 100.0)

    def test_rates_over_two_campaigns(self):
        results = self._results(groupby=(), domain=[("campaign_id", "in", (self.campaign_a | self.campaign_b).ids)])
        totals = results[()]

        self.assertEqual(totals["recipient_count:sum"], 10)
        # The ratio of the sums, 3 / 10, not the mean of 2 / 6 and 1 / 4 (29.2 %).
        self.assertAlmostEqual(totals["response_rate:ratio"], 30.0)
        self.assertAlmostEqual(totals["open_rate:ratio"], 40.0)
        self.assertAlmostEqual(totals["lead_rate:ratio"], 100 * 4 / 3)
        self.assertAlmostEqual(totals["win_rate:ratio"], 25.0)

    def test_public_read_group_uses_ratio(self):
        # The pivot view calls read_group with the field's own aggregator.
        Report = self.env["customer.journey.campaign.report"]
        groups = Report.read_group(
            [("campaign_id", "in", (self.campaign_a | self.campaign_b).ids)],
            ["response_rate", "recipient_count"],
            ["company_id"],
        )

        self.assertEqual(len(groups), 1)
        self.assertAlmostEqual(groups[0]["response_rate"], 30.0)

    def test_drill_down_rows(self):
        Report = self.env["customer.journey.campaign.report"]

        mailing_row = Report.search([("mailing_id", "=", self.mailing_a.id), ("row_type", "=", "mailing")])
        lead_row = Report.search([("lead_id", "=", self.lead_won.id), ("row_type", "=", "lead")])
        order_rows = Report.search([("lead_id", "=", self.lead_won.id), ("row_type", "=", "order")])
        fair_row = Report.search([("lead_id", "=", self.lead_fair.id)])

        self.assertEqual(mailing_row.recipient_count, 6)
        self.assertEqual(mailing_row.source_id, self.mailing_a.source_id)
        self.assertEqual(mailing_row.company_id, self.company, "the company of the mailing's responsible")
        self.assertEqual(lead_row.mailing_id, self.mailing_a, "linked by the mailing's UTM source")
        self.assertEqual(lead_row.date, self.mailing_a.sent_date, "a lead has the date of its mailing")
        self.assertEqual(len(order_rows), 2)
        self.assertFalse(fair_row.mailing_id)
        self.assertEqual(fair_row.date, self.lead_fair.create_date)

    def test_filter_by_source_and_period(self):
        by_source = self._results(groupby=("source_id",))
        by_month = self._results(groupby=("date:month",), domain=[("campaign_id", "=", self.campaign_b.id)])

        self.assertEqual(by_source[(self.mailing_a.source_id,)]["recipient_count:sum"], 6)
        self.assertEqual(by_source[(self.mailing_a.source_id,)]["lead_count:sum"], 1, "the won opportunity")
        self.assertEqual(len(by_month), 1)
        self.assertEqual(by_month.popitem()[0][0].month, 2, "the mailing and its lead, sent in February")

    def test_internal_user_reads_portal_user_not(self):
        results = self._campaign_results(env=self.env(user=self.user_employee))
        self.assertEqual(results[self.campaign_a]["lead_count:sum"], 3)

        with self.assertRaises(AccessError):
            self.env["customer.journey.campaign.report"].with_user(self.user_portal).search([])

    def test_other_company_rows_hidden(self):
        other_company = self.env["res.company"].create({"name": "Tweede Groothandel"})
        self._create_leads(self.campaign_c, 2, type="lead", company_id=other_company.id)
        self.user_employee.company_ids = self.company
        self.env.flush_all()

        everything = self._campaign_results()
        restricted = self._campaign_results(
            env=self.env(user=self.user_employee, context={"allowed_company_ids": self.company.ids})
        )

        self.assertEqual(everything[self.campaign_c]["lead_count:sum"], 3)
        self.assertEqual(restricted[self.campaign_c]["lead_count:sum"], 1)


@tagged("post_install", "-at_install")
class TestCampaignTrends(CampaignCase):
    """Weekly trend digest on mailings dated around a fixed Wednesday.

    Run on Wednesday 17 March 2021: last week starts Monday 8 March, the
    baseline is 8 February to 7 March. Both campaigns use their own medium
    (channel), so the demo data cannot move the channel's rates.

    - "Moves": baseline 40 recipients, 8 responses (20 %) and no lead.
      Last week 40 recipients, 20 responses (50 %: +30 points) and 4 leads
      (lead rate 20 % against 0 %: +20 points).
    - "Steady": baseline 40 recipients, 8 responses (20 %); last week 40
      recipients, 9 responses (22.5 %: +2.5 points).
    - The channel, both campaigns: the response rate goes from 16 / 80
      (20 %) to 29 / 80 (36.25 %), +16.25 points. The lead rate goes from
      0 % to 4 / 29 (13.79 %), +13.79 points.
    """

    TODAY = date(2021, 3, 17)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"journey_trend_threshold": 10.0, "journey_trend_min_recipients": 20})
        cls.env["res.company"].search([]).journey_trend_week = False
        cls.medium = cls.env["utm.medium"].create({"name": "Nieuwsbrief Test"})
        cls.campaign_moves = cls.env["utm.campaign"].create({"name": "Moves"})
        cls.campaign_steady = cls.env["utm.campaign"].create({"name": "Steady"})
        baseline_day = datetime(2021, 2, 15, 9, 0)
        last_week_day = datetime(2021, 3, 9, 9, 0)
        for campaign, responses in ((cls.campaign_moves, 20), (cls.campaign_steady, 9)):
            cls._create_mailing(
                campaign, baseline_day, {"sent": 32, "reply": 8}, medium=cls.medium
            )
            mailing = cls._create_mailing(
                campaign, last_week_day, {"sent": 40 - responses, "reply": responses}, medium=cls.medium
            )
            if campaign == cls.campaign_moves:
                cls._create_leads(campaign, 4, mailing=mailing, type="lead", company_id=cls.company.id)
        # A mailing before the baseline does not count.
        cls._create_mailing(cls.campaign_steady, datetime(2021, 2, 1), {"sent": 100}, medium=cls.medium)
        cls.env.flush_all()

    def _digests(self):
        return self.env["mail.message"].search(
            [("model", "=", "res.company"), ("res_id", "=", self.company.id), ("message_type", "=", "user_notification")]
        )

    def _expected_recipients(self):
        users = self.env["res.users"].search([("share", "=", False), ("company_ids", "in", self.company.ids)])
        managers = users.filtered(
            lambda user: user.has_group("mass_mailing.group_mass_mailing_user")
            or user.has_group("wholesale_customer_journey.group_journey_manager")
        )
        return managers.partner_id

    def test_digest_lists_moves_only(self):
        with self.mock_mail_gateway():
            checked, notified = self.env["customer.journey.campaign.trend"]._notify_campaign_trends(today=self.TODAY)

        digest = self._digests()
        self.assertEqual(len(digest), 1)
        self.assertGreaterEqual(checked, 1)
        self.assertEqual(notified, 4, "two campaign rates and two channel rates moved")
        self.assertIn("week of 03/08/2021", digest.subject)
        body = str(digest.body)
        self.assertIn("Campaign: Moves", body)
        self.assertIn("Channel: Nieuwsbrief Test", body)
        self.assertNotIn("Steady", body)
        self.assertIn("50.0 %", body)
        self.assertIn("+30.0", body)
        self.assertIn("+20.0", body, "the lead rate of Moves")
        self.assertIn("36.2 %", body, "the response rate of the channel, 36.25 rounded half to even")
        self.assertIn("+13.8", body, "the lead rate of the channel")

    def test_digest_reaches_marketing_and_managers(self):
        with self.mock_mail_gateway():
            self.env["customer.journey.campaign.trend"]._notify_campaign_trends(today=self.TODAY)

        digest = self._digests()
        recipients = digest.notification_ids.res_partner_id
        self.assertEqual(recipients, self._expected_recipients())
        self.assertIn(self.user_marketing.partner_id, recipients)
        self.assertIn(self.user_manager.partner_id, recipients)
        self.assertNotIn(self.user_employee.partner_id, recipients)
        self.assertNotIn(self.user_salesman.partner_id, recipients)
        self.assertNotIn(self.user_portal.partner_id, recipients)

    def test_digest_in_each_recipients_language(self):
        self.env["res.lang"]._activate_lang("nl_BE")
        self.env["ir.module.module"]._load_module_terms(["wholesale_customer_journey"], ["nl_BE"])
        dutch_manager = mail_new_test_user(
            self.env,
            login="journey_manager_nl",
            name="Nele Manager",
            email="nele@example.com",
            groups="base.group_user,wholesale_customer_journey.group_journey_manager",
            lang="nl_BE",
        )
        self.user_manager.lang = "en_US"
        Trend = self.env["customer.journey.campaign.trend"]

        with self.mock_mail_gateway():
            __, notified = Trend._notify_campaign_trends(today=self.TODAY)

        digests = self._digests()
        self.assertEqual(len(digests), 2, "one digest per language")
        self.assertEqual(notified, 4, "the moves count once, whatever the number of languages")
        dutch = digests.filtered(lambda message: dutch_manager.partner_id in message.notification_ids.res_partner_id)
        english = digests - dutch
        self.assertEqual(dutch.notification_ids.res_partner_id, dutch_manager.partner_id)
        self.assertIn(self.user_manager.partner_id, english.notification_ids.res_partner_id)
        self.assertNotIn(dutch_manager.partner_id, english.notification_ids.res_partner_id)
        self.assertEqual(dutch.subject, "Campagnetrends: week van 08-03-2021")
        dutch_body = str(dutch.body)
        self.assertIn("Campagne: Moves", dutch_body)
        self.assertIn("Maatstaf", dutch_body)
        self.assertIn("50,0 %", dutch_body)
        self.assertIn("+30,0", dutch_body)
        self.assertEqual(english.subject, "Campaign trends: week of 03/08/2021")
        english_body = str(english.body)
        self.assertIn("Campaign: Moves", english_body)
        self.assertIn("Measure", english_body)
        self.assertIn("50.0 %", english_body)

        with self.mock_mail_gateway():
            checked, notified = Trend._notify_campaign_trends(today=date(2021, 3, 21))
        self.assertEqual((checked, notified), (0, 0))
        self.assertEqual(len(self._digests()), 2, "a second run sends nothing")

    def test_same_week_notified_once(self):
        Trend = self.env["customer.journey.campaign.trend"]
        with self.mock_mail_gateway():
            Trend._notify_campaign_trends(today=self.TODAY)
            checked, notified = Trend._notify_campaign_trends(today=date(2021, 3, 21))

        self.assertEqual(len(self._digests()), 1)
        self.assertEqual((checked, notified), (0, 0))
        self.assertEqual(self.company.journey_trend_week, date(2021, 3, 8))

    def test_threshold_setting_respected(self):
        self.company.journey_trend_threshold = 25.0

        with self.mock_mail_gateway():
            __, notified = self.env["customer.journey.campaign.trend"]._notify_campaign_trends(today=self.TODAY)

        self.assertEqual(notified, 1, "only the response rate of Moves (+30 points)")
        self.assertNotIn("Channel", str(self._digests().body))

    def test_minimum_recipients_respected(self):
        self.company.journey_trend_min_recipients = 41

        with self.mock_mail_gateway():
            __, notified = self.env["customer.journey.campaign.trend"]._notify_campaign_trends(today=self.TODAY)

        self.assertEqual(notified, 2, "only the channel, with 80 recipients a week")
        self.assertNotIn("Campaign:", str(self._digests().body))
        self.assertEqual(self.company.journey_trend_week, date(2021, 3, 8), "the week is checked all the same")

    def test_cron_runs_last_week(self):
        with freeze_time("2021-03-17 06:00:00"), self.mock_mail_gateway():
            notified = self.env["customer.journey.campaign.trend"]._cron_notify_campaign_trends()

        self.assertEqual(notified, 4)
        self.assertEqual(len(self._digests()), 1)

    def test_negative_threshold_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Invalid Campaign Trend Threshold: -5.0"):
            self.company.journey_trend_threshold = -5.0

    def test_zero_threshold_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Campaign Trend Threshold"):
            self.company.journey_trend_threshold = 0.0

    def test_negative_minimum_recipients_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Invalid Campaign Trend Minimum Recipients: -1"):
            self.company.journey_trend_min_recipients = -1

    def test_settings_form_writes_company(self):
        settings = self.env["res.config.settings"].create(
            {"journey_trend_threshold": 15.0, "journey_trend_min_recipients": 50}
        )
        settings.execute()

        self.assertEqual(self.company.journey_trend_threshold, 15.0)
        self.assertEqual(self.company.journey_trend_min_recipients, 50)
