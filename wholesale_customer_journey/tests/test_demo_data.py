# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.addons.mail.tests.common import MockEmail
from odoo.tests import TransactionCase, tagged

from ..models.res_partner import DEFAULT_STUCK_DAYS

MODULE = "wholesale_customer_journey"
# Origins of the touchpoints that the demo events recorded while the demo
# data loaded, and that the demo data then dated in the past.
EVENT_ORIGINS = ("lead", "lead_stage", "quotation", "order", "activity")


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The demo customers have a dated past, relative to the install day.

    The test database has the addon installed with its demo data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        demo_xmlids = cls.env["ir.model.data"].search([("module", "=", MODULE), ("model", "=", "res.partner")])
        # The xmlids are written while the demo data loads, and are not moved back in time.
        cls.install_time = min(demo_xmlids.mapped("create_date"))
        partners = cls.env["res.partner"].browse(demo_xmlids.mapped("res_id"))
        # The demo writes these journeys itself; those of the imported customers come from their
        # sales history (see TestDemoReorderCycles).
        cls.customers = partners.filtered(lambda p: p.journey_is_company and not (p.ref or "").startswith("HIST-"))
        cls.journey_customers = cls.customers.filtered("journey_stage_id")
        cls.env["ir.config_parameter"].set_param("wholesale_customer_journey.stuck_days", DEFAULT_STUCK_DAYS)

    def _history(self, customer):
        return self.env["customer.journey.history"].search(
            [("partner_id", "=", customer.id)], order="date_start, id"
        )

    def _touchpoints(self, customer):
        return self.env["customer.journey.touchpoint"].search([("partner_id", "=", customer.id)], order="id")

    def _demo_customers_found(self, domain):
        Partner = self.env["res.partner"]
        return Partner.search(domain + [("id", "in", self.customers.ids)])

    def _no_touchpoint_domain(self, days):
        # The domain of the "No Touchpoint in N Days" filter of the customer search view.
        limit = (fields.Date.context_today(self.env.user) - relativedelta(days=days)).strftime("%Y-%m-%d")
        return ["|", ("journey_last_touchpoint_date", "=", False), ("journey_last_touchpoint_date", "<", limit)]

    def test_demo_customers_loaded(self):
        self.assertGreaterEqual(len(self.customers), 40)
        stages = self.journey_customers.journey_stage_id
        self.assertEqual(stages, self.env["customer.journey.stage"].search([]), "every stage has customers")

    def test_stuck_filter_finds_demo_customers(self):
        stuck = self._demo_customers_found([("journey_is_stuck", "=", True)])

        self.assertGreaterEqual(len(stuck), 5)
        stuck_stages = stuck.journey_stage_id
        self.assertIn(self.env.ref(f"{MODULE}.stage_consideration"), stuck_stages)
        self.assertIn(self.env.ref(f"{MODULE}.stage_intent"), stuck_stages)
        for customer in stuck:
            # The search counts a stage entered more than 60 days ago, that is 60 whole days or more.
            self.assertGreaterEqual(customer.journey_days_in_stage, DEFAULT_STUCK_DAYS, customer.name)

    def test_no_touchpoint_filters_find_demo_customers(self):
        silent_90 = self._demo_customers_found(self._no_touchpoint_domain(90))
        silent_30 = self._demo_customers_found(self._no_touchpoint_domain(30))

        with_old_touchpoint = silent_90.filtered("journey_last_touchpoint_date")
        self.assertGreaterEqual(len(with_old_touchpoint), 5, "customers whose latest touchpoint is old")
        self.assertGreater(len(silent_30), len(silent_90))

    def test_some_customers_active_before_install(self):
        week_before_install = self.install_time - timedelta(days=7)

        active = self.journey_customers.filtered(
            lambda customer: customer.journey_last_touchpoint_date
            and customer.journey_last_touchpoint_date >= week_before_install
        )

        self.assertGreaterEqual(len(active), 3)

    def test_journeys_start_months_before_install(self):
        first_rows = [self._history(customer)[:1] for customer in self.journey_customers]
        ages = [(self.install_time - row.date_start).days for row in first_rows]

        self.assertLessEqual(max(ages), 365)
        started_months_ago = [age for age in ages if age >= 60]
        self.assertGreaterEqual(len(started_months_ago), 10, "journeys that started 2 months ago or more")

    def test_history_rows_contiguous(self):
        now = fields.Datetime.now()
        for customer in self.journey_customers:
            history = self._history(customer)
            with self.subTest(customer=customer.name):
                open_rows = history.filtered(lambda row: not row.date_end)
                self.assertEqual(open_rows, history[-1], "one open row, the last")
                for row, next_row in zip(history, history[1:]):
                    self.assertEqual(row.date_end, next_row.date_start)
                self.assertEqual(history[-1].stage_id, customer.journey_stage_id)
                self.assertLessEqual(history[-1].date_start, now)
                self.assertLess(history[0].date_start, self.install_time)

    def test_history_stay_days_stored(self):
        for customer in self.journey_customers:
            for row in self._history(customer):
                with self.subTest(customer=customer.name, stage=row.stage_id.name):
                    if row.date_end:
                        days = (row.date_end - row.date_start).total_seconds() / 86400
                        # The field keeps one decimal.
                        self.assertAlmostEqual(row.stay_days, days, delta=0.05)
                    else:
                        self.assertEqual(row.stay_days, 0.0)

    def test_stage_date_is_open_row_start(self):
        for customer in self.journey_customers:
            open_row = self._history(customer)[-1]
            with self.subTest(customer=customer.name):
                self.assertEqual(customer.journey_stage_date, open_row.date_start)
                for contact in customer.child_ids:
                    self.assertEqual(contact.journey_stage_date, open_row.date_start, contact.name)

    def test_touchpoints_keep_creation_order(self):
        """A touchpoint of a demo event is dated after the ones created before it, and before the later ones."""
        for customer in self.customers:
            touchpoints = self._touchpoints(customer)
            for event_touchpoint in touchpoints.filtered(lambda touchpoint: touchpoint.origin in EVENT_ORIGINS):
                for touchpoint in touchpoints:
                    with self.subTest(event=event_touchpoint.name, other=touchpoint.name):
                        if touchpoint.id < event_touchpoint.id:
                            self.assertLessEqual(touchpoint.date, event_touchpoint.date)
                        elif touchpoint.id > event_touchpoint.id:
                            self.assertGreaterEqual(touchpoint.date, event_touchpoint.date)

    def test_touchpoint_stage_matches_history(self):
        """Each touchpoint's stage is the stage of the history row current at its date."""
        for customer in self.customers:
            history = self._history(customer)
            for touchpoint in self._touchpoints(customer):
                current = history.filtered(
                    lambda row: row.date_start <= touchpoint.date
                    and (not row.date_end or touchpoint.date < row.date_end)
                )
                with self.subTest(customer=customer.name, touchpoint=touchpoint.name):
                    self.assertEqual(touchpoint.stage_id, current.stage_id)

    def test_history_rows_dated_by_their_source(self):
        for customer in self.journey_customers:
            for row in self._history(customer).filtered("res_model"):
                source = row.source_ref
                with self.subTest(customer=customer.name, event=row.event_code):
                    if row.event_code in ("lead_created", "lead_created_campaign"):
                        self.assertEqual(source.create_date, row.date_start)
                    elif row.event_code == "crm_stage":
                        self.assertLessEqual(source.create_date, row.date_start)
                        self.assertLessEqual(row.date_start, source.date_last_stage_update)
                    elif row.event_code == "quotation_sent":
                        self.assertEqual(source.create_date, row.date_start)
                    elif row.event_code == "order_confirmed":
                        self.assertEqual(source.date_order, row.date_start)
                    elif row.event_code == "order_delivered":
                        self.assertEqual(source.journey_delivered_date, row.date_start)

    def test_leads_dated_in_order(self):
        leads = self.env["crm.lead"].with_context(active_test=False).search(
            [("partner_id.commercial_partner_id", "in", self.journey_customers.ids)]
        )
        self.assertTrue(leads.filtered(lambda lead: not lead.active), "the demo has lost opportunities")
        for lead in leads:
            with self.subTest(lead=lead.name):
                self.assertLess(lead.create_date, self.install_time)
                self.assertEqual(lead.date_open, lead.create_date)
                self.assertLessEqual(lead.create_date, lead.date_last_stage_update)
                if lead.date_closed:
                    self.assertLessEqual(lead.date_last_stage_update, lead.date_closed)
                    self.assertLess(lead.date_closed, self.install_time)

    def test_orders_dated_before_delivery(self):
        orders = self.env["sale.order"].search(
            [("partner_id.commercial_partner_id", "in", self.journey_customers.ids), ("state", "!=", "draft")]
        )
        for order in orders:
            with self.subTest(order=order.name):
                self.assertLessEqual(order.create_date, order.date_order)
                self.assertLess(order.date_order, self.install_time)
                if order.journey_delivered:
                    self.assertLessEqual(order.date_order, order.journey_delivered_date)

    def test_chatter_stage_changes_dated_by_history(self):
        for customer in self.journey_customers:
            tracking = self.env["mail.tracking.value"].search(
                [
                    ("field_id.name", "=", "journey_stage_id"),
                    ("mail_message_id.model", "=", "res.partner"),
                    ("mail_message_id.res_id", "=", customer.id),
                ]
            )
            messages = tracking.mail_message_id.sorted("id")
            with self.subTest(customer=customer.name):
                self.assertEqual(messages.mapped("date"), self._history(customer).mapped("date_start"))

    def test_recompute_leaves_demo_customers(self):
        """The dated leads and orders imply the stages that the demo customers have."""
        History = self.env["customer.journey.history"]
        domain = [("partner_id", "in", self.journey_customers.ids)]
        stages = self.journey_customers.mapped("journey_stage_id.id")
        history = History.search(domain)

        self.env["customer.journey.replay"]._recompute_stages(full=True)

        self.assertEqual(self.journey_customers.mapped("journey_stage_id.id"), stages)
        self.assertEqual(History.search(domain), history)

    def test_date_past_rejected_after_install(self):
        customer = self.env.ref(f"{MODULE}.demo_partner_pauw")
        history = self._history(customer)
        dates = history.mapped("date_start")

        with self.assertRaises(RuntimeError):
            self.env["res.partner"]._journey_demo_date_past({"demo_partner_pauw": [300, 200, 100]})

        history.invalidate_recordset()
        self.assertEqual(history.mapped("date_start"), dates)

    def test_date_past_rejects_other_partners(self):
        xmlid = self.env["ir.model.data"].search(
            [("model", "=", "res.partner"), ("module", "!=", MODULE)], limit=1
        )

        with self.assertRaises(ValueError):
            self.env["res.partner"]._journey_demo_date_past({xmlid.name: [10]})


@tagged("post_install", "-at_install")
class TestDemoInfoRules(TransactionCase, MockEmail):
    """The demo product information rules are due for a few recent events of the demo past.

    The demo sets each rule's Events From a few weeks back and creates no
    send, so the first run of the scheduled action sends them.
    """

    # {rule xmlid: {customer xmlid: (outcome, skip reason)}} of the first run after the install.
    EXPECTED_FIRST_RUN = {
        "demo_info_rule_datasheets": {
            "campaign_demo_partner_bloesem": ("mail", False),
            "demo_partner_bladgoud": ("activity", False),
            "demo_partner_kwispel": ("skipped", "blacklist"),
        },
        "demo_info_rule_consideration_garden": {
            "demo_partner_zonnehof": ("activity", False),
            "demo_partner_hooiberg": ("skipped", "opt_out"),
        },
        "demo_info_rule_quotation_follow_up": {
            "demo_partner_korenbloem": ("mail", False),
            "demo_partner_peeters": ("activity", False),
        },
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rules = cls.env["customer.journey.info.rule"]
        for xmlid in cls.EXPECTED_FIRST_RUN:
            cls.rules |= cls.env.ref(f"{MODULE}.{xmlid}")
        cls.Send = cls.env["customer.journey.info.send"]
        cls.pot_45 = cls.env.ref(f"{MODULE}.demo_product_pot_45").product_tmpl_id

    def _expected_outcomes(self, rule_xmlid):
        return {
            self.env.ref(f"{MODULE}.{customer}"): outcome
            for customer, outcome in self.EXPECTED_FIRST_RUN[rule_xmlid].items()
        }

    def _run_demo_rules(self):
        with self.mock_mail_gateway():
            return self.Send._run_info_rules(rules=self.rules)

    def test_info_rules_valid(self):
        self.assertEqual(len(self.rules), 3)
        for rule in self.rules:
            with self.subTest(rule=rule.name):
                self.assertTrue(rule.active)
                self.assertFalse(rule.send_ids, "the demo creates no send")
                self.assertTrue(rule.mailing_id, "the tracking mailing exists")
                self.assertLess(rule.date_start, fields.Datetime.now() - timedelta(days=7))
                # Run the constraints again on the loaded values.
                rule._check_numbers()
                rule._check_stages()
                rule._check_mail_template()
                rule._check_products()
                rule._check_segment()
                rule._check_filter_domain()

    def test_info_preview_lists_first_run(self):
        for rule_xmlid in self.EXPECTED_FIRST_RUN:
            rule = self.env.ref(f"{MODULE}.{rule_xmlid}")
            action = rule.action_preview_recipients()
            preview = self.env[action["res_model"]].browse(action["res_id"])
            outcomes = {
                line.customer_id: (line.outcome, line.skip_reason) for line in preview.line_ids
            }
            with self.subTest(rule=rule.name):
                self.assertEqual(outcomes, self._expected_outcomes(rule_xmlid))
                self.assertEqual(preview.capped_count, 0)

    def test_info_first_run_sends_as_designed(self):
        totals = self._run_demo_rules()

        self.assertEqual(totals.get("mail"), 2)
        self.assertEqual(totals.get("activity"), 3)
        self.assertEqual(totals.get("skipped"), 2)
        self.assertFalse(totals.get("failed"))
        for rule_xmlid in self.EXPECTED_FIRST_RUN:
            rule = self.env.ref(f"{MODULE}.{rule_xmlid}")
            outcomes = {send.partner_id: (send.state, send.skip_reason) for send in rule.send_ids}
            with self.subTest(rule=rule.name):
                self.assertEqual(outcomes, self._expected_outcomes(rule_xmlid))

    def test_info_first_run_mails_stay_queued(self):
        self._run_demo_rules()

        traces = self.rules.send_ids.trace_id
        mails = self.env["mail.mail"].search([("mailing_trace_ids", "in", traces.ids)])
        self.assertEqual(len(mails), 2)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"})
        self.assertFalse(self._mails, "the run queues mails and sends none")

    def test_info_activities_for_salesperson(self):
        self._run_demo_rules()

        activity_sends = self.rules.send_ids.filtered(lambda send: send.state == "activity")
        meeting = self.env.ref("mail.mail_activity_data_meeting")
        for send in activity_sends:
            with self.subTest(customer=send.partner_id.name):
                # Each of these customers prefers a visit, and has Mitchell Admin as salesperson.
                self.assertEqual(send.activity_id.activity_type_id, meeting)
                self.assertEqual(send.activity_id.user_id, self.env.ref("base.user_admin"))
                self.assertEqual(send.activity_id.res_id, send.res_id)

    def test_info_mail_attaches_quote_documents(self):
        self._run_demo_rules()

        send = self.env.ref(f"{MODULE}.demo_info_rule_datasheets").send_ids.filtered(
            lambda send: send.state == "mail"
        )
        mail = self.env["mail.mail"].search([("mailing_trace_ids", "in", send.trace_id.ids)])
        datasheet = self.env.ref(f"{MODULE}.demo_info_document_pot_45_datasheet")
        hidden = self.env.ref(f"{MODULE}.demo_info_document_pot_45_purchase_prices")
        self.assertIn(self.pot_45, send.product_ids)
        self.assertEqual(mail.attachment_ids, datasheet.ir_attachment_id)
        self.assertNotIn(hidden.ir_attachment_id, mail.attachment_ids)
        self.assertTrue(datasheet.raw.startswith(b"%PDF-"))
        self.assertIn(b"%%EOF", datasheet.raw)

    def test_info_mail_links_url_documents(self):
        self._run_demo_rules()

        rule = self.env.ref(f"{MODULE}.demo_info_rule_datasheets")
        send = rule.send_ids.filtered(lambda send: send.state == "mail")
        mail = self.env["mail.mail"].search([("mailing_trace_ids", "in", send.trace_id.ids)])
        for xmlid in ("demo_info_document_pot_45_page", "demo_info_document_potting_soil_safety"):
            document = self.env.ref(f"{MODULE}.{xmlid}")
            with self.subTest(document=document.name):
                # The link is a tracked link of the rule's mailing, with the document's name as label.
                tracker = self.env["link.tracker"].search(
                    [("url", "=", document.url), ("mass_mailing_id", "=", rule.mailing_id.id)]
                )
                self.assertTrue(tracker)
                self.assertIn(tracker.short_url, mail.body_html)
                self.assertIn(document.name, mail.body_html)

    def test_info_second_run_sends_nothing(self):
        self._run_demo_rules()
        sends = self.rules.send_ids

        totals = self._run_demo_rules()

        self.assertFalse(totals.get("queued"))
        self.assertEqual(self.rules.send_ids, sends)

    def test_info_send_test_to_me(self):
        rule = self.env.ref(f"{MODULE}.demo_info_rule_datasheets")
        admin = self.env.ref("base.user_admin")
        datasheet = self.env.ref(f"{MODULE}.demo_info_document_pot_45_datasheet")

        with self.mock_mail_gateway():
            rule.with_user(admin).action_send_test()

        self.assertEqual(len(self._mails), 1)
        self.assertEqual(self._mails[0]["email_to"], [admin.email_formatted])
        self.assertTrue(self._mails[0]["subject"].startswith("[Test] "))
        attachment_names = [attachment[0] for attachment in self._mails[0]["attachments"]]
        self.assertEqual(attachment_names, [datasheet.name])
        self.assertFalse(rule.send_ids, "a test mail is no send")

    def test_info_lost_lead_skipped_as_closed(self):
        rule = self.env.ref(f"{MODULE}.demo_info_rule_datasheets")
        lead = self.env.ref(f"{MODULE}.demo_lead_bladgoud")
        rule._queue_due_sends()
        send = rule.send_ids.filtered(lambda send: send.res_id == lead.id)
        self.assertEqual(send.state, "pending")

        lead.action_set_lost()
        with self.mock_mail_gateway():
            self.Send._dispatch_pending(rule)

        self.assertEqual(send.state, "skipped")
        self.assertEqual(send.skip_reason, "lead_closed")
        self.assertFalse(send.activity_id)

    def test_demo_cross_sell_rules_survive_mining(self):
        rules = self.env["customer.journey.cross.sell.rule"].search([("origin", "=", "manual")])
        pot_rule = self.env.ref(f"{MODULE}.demo_cross_sell_rule_pot_soil")

        self.env["customer.journey.cross.sell.rule"]._mine_rules()

        self.assertEqual(len(rules), 4)
        self.assertIn(pot_rule, rules)
        self.assertTrue(pot_rule.exists())
        self.assertEqual(pot_rule.median_quantity, 1)

    def test_companies_hand_off_at_conversion(self):
        stage = self.env.ref(f"{MODULE}.stage_conversion")

        self.assertEqual(self.env.ref("base.main_company").journey_handoff_stage_id, stage)


@tagged("post_install", "-at_install")
class TestDemoReorderCycles(TransactionCase):
    """Two demo customers come from the sales-history import, with a regular and an irregular cycle."""

    def test_regular_cycle_due_today(self):
        customer = self.env.ref("wholesale_customer_journey.demo_partner_groene_vinger")
        soil = self.env.ref("wholesale_customer_journey.demo_product_potting_soil")
        cycle = self.env["customer.journey.reorder.cycle"].search(
            [("partner_id", "=", customer.id), ("product_id", "=", soil.id)]
        )

        self.assertEqual(len(cycle), 1)
        self.assertTrue(cycle.regular)
        self.assertEqual(cycle.median_interval, 28)
        self.assertEqual(cycle.typical_quantity, 4)
        self.assertEqual(cycle.next_date, fields.Date.context_today(cycle))
        self.assertGreaterEqual(customer.journey_stage_id.sequence,
                                self.env.ref("wholesale_customer_journey.stage_conversion").sequence)

    def test_irregular_cycle_marked(self):
        customer = self.env.ref("wholesale_customer_journey.demo_partner_van_dam")
        paper = self.env.ref("wholesale_customer_journey.demo_product_wrapping_paper")
        cycle = self.env["customer.journey.reorder.cycle"].search(
            [("partner_id", "=", customer.id), ("product_id", "=", paper.id)]
        )

        self.assertEqual(len(cycle), 1)
        self.assertFalse(cycle.regular)

    def test_generate_now_suggests_reorder(self):
        customer = self.env.ref("wholesale_customer_journey.demo_partner_groene_vinger")
        soil = self.env.ref("wholesale_customer_journey.demo_product_potting_soil")

        self.env["customer.journey.suggestion"]._generate_suggestions()

        suggestion = self.env["customer.journey.suggestion"].search(
            [("partner_id", "=", customer.id), ("reason", "=", "reorder")]
        )
        self.assertEqual(suggestion.product_id, soil)
        self.assertEqual(suggestion.quantity, 4)
