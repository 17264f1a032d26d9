# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.mass_mailing.tests.common import MassMailCase

from .common import JourneyCase

LINK_URL = "https://www.example.com/catalogus"
REPLY_MAIL = """Return-Path: <{email_from}>
To: {to}
From: {email_from}
Subject: Re: {subject}
Message-ID: <{msg_id}@delinde.example>
In-Reply-To: {references}
References: {references}
Date: Mon, 02 Nov 2026 10:00:00 +0100
Content-Type: text/plain; charset="utf-8"

Graag een offerte voor 200 potten.
"""


class CampaignResponseCase(JourneyCase, MassMailCase):
    """A campaign that creates leads, its customers and a helper to mail them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("web.base.url", "http://localhost:8069")

        cls.belgium = cls.env.ref("base.be")
        cls.netherlands = cls.env.ref("base.nl")
        cls.customer.country_id = cls.belgium
        cls.contact.journey_preferred_channel = "phone"
        cls.contact_2 = cls.env["res.partner"].create(
            {"name": "Bart Claes", "parent_id": cls.customer.id, "email": "bart@delinde.example"}
        )
        cls.campaign.journey_create_leads = True

        cls.team_be = cls.env["crm.team"].create({"name": "Team België"})
        cls.team_nl = cls.env["crm.team"].create({"name": "Team Nederland"})
        cls.rule_be = cls.env["customer.journey.assignment.rule"].create(
            {
                "name": "Belgische klanten",
                "sequence": 10,
                "country_ids": [(6, 0, cls.belgium.ids)],
                "team_id": cls.team_be.id,
                "user_id": cls.user_salesman.id,
            }
        )

        cls.user_marketing = cls.env["res.users"].create(
            {
                "name": "Mia Marketing",
                "login": "journey_marketing",
                "email": "mia@example.com",
                "groups_id": [(6, 0, [cls.env.ref("mass_mailing.group_mass_mailing_user").id,
                                      cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )

    def _send_mailing(self, recipients, campaign=None, subject="Voorjaarscollectie 2027"):
        """Send a mailing with one tracked link to ``recipients`` (partners or a mailing list)."""
        values = {
            "name": subject,
            "subject": subject,
            "body_html": f'<p>Bekijk <a href="{LINK_URL}">onze catalogus</a>.</p>',
            "campaign_id": (campaign if campaign is not None else self.campaign).id,
            "user_id": self.user_marketing.id,
        }
        if recipients._name == "mailing.list":
            values["mailing_model_id"] = self.env["ir.model"]._get_id("mailing.list")
            values["contact_list_ids"] = [(6, 0, recipients.ids)]
        else:
            values["mailing_model_id"] = self.env["ir.model"]._get_id(recipients._name)
            values["mailing_domain"] = [("id", "in", recipients.ids)]
        mailing = self.env["mailing.mailing"].create(values)
        with self.mock_mail_gateway(mail_unlink_sent=False):
            mailing.action_send_mail()
        return mailing

    def _trace(self, mailing, record):
        return mailing.mailing_trace_ids.filtered(lambda trace: trace.model == record._name and trace.res_id == record.id)

    def _click(self, mailing, record, env=None):
        """Click the tracked link of ``record``'s mail, as the link redirect does (sudo)."""
        trace = self._trace(mailing, record)
        link = self.env["link.tracker"].search([("url", "=", LINK_URL), ("source_id", "=", mailing.source_id.id)])
        sent_mail = next(mail for mail in self._mails if trace.email in mail["email_to"][0].lower())
        self.assertIn(f"/r/{link.code}/m/{trace.id}", sent_mail["body"])
        (env or self.env)["link.tracker.click"].sudo().add_click(
            link.code, ip="100.200.30.40", country_code="BE", mailing_trace_id=trace.id
        )
        return trace

    def _reply(self, mailing, record, to="verkoop@test.example"):
        """Route a reply to ``record``'s mailing through the mail gateway, as fetchmail does."""
        trace = self._trace(mailing, record)
        raw = REPLY_MAIL.format(
            email_from=record.email,
            to=to,
            subject=mailing.subject,
            msg_id=f"reply-{trace.id}",
            references=trace.message_id,
        )
        self.env["mail.thread"].sudo().message_process("crm.lead", raw)
        return trace

    def _leads(self, customer=None):
        return self.env["crm.lead"].search([("partner_id", "child_of", (customer or self.customer).id)])

    def _touchpoints(self, trace, origin=None):
        domain = [("res_model", "=", "mailing.trace"), ("res_id", "=", trace.id)]
        if origin:
            domain.append(("origin", "=", origin))
        return self.env["customer.journey.touchpoint"].search(domain, order="id")

    def _lead_activities(self, lead):
        return self.env["mail.activity"].search([("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)])


@tagged("post_install", "-at_install")
class TestCampaignResponses(CampaignResponseCase):
    def test_click_creates_lead(self):
        mailing = self._send_mailing(self.contact)

        trace = self._click(mailing, self.contact)

        lead = self._leads()
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.partner_id, self.contact)
        self.assertEqual(lead.campaign_id, self.campaign)
        self.assertEqual(lead.source_id, mailing.source_id)
        self.assertEqual(lead.medium_id, mailing.medium_id)
        self.assertIn(self.customer.name, lead.name)
        self.assertIn(mailing.subject, lead.name)
        self.assertEqual(lead.user_id, self.user_salesman, "the Belgian rule assigns the salesperson")
        self.assertEqual(lead.team_id, self.team_be)
        use_leads = self.env.ref("crm.group_use_lead") in self.env.ref("base.group_user").trans_implied_ids
        self.assertEqual(lead.type, "lead" if use_leads else "opportunity")
        self.assertEqual(self.customer.journey_stage_id, self.stage_favorability)
        self.assertIn(f"{self.contact.name} clicked a link", lead.message_ids[0].body)

        click = self._touchpoints(trace, "mailing_click")
        self.assertEqual(len(click), 1)
        self.assertEqual(click.partner_id, self.customer)
        self.assertEqual(click.contact_id, self.contact)
        self.assertEqual(click.channel, "mailing")
        self.assertEqual(click.direction, "inbound")
        self.assertEqual(click.campaign_id, self.campaign)
        self.assertEqual(click.source_id, mailing.source_id)
        self.assertEqual(click.source_key, f"mailing.trace,{trace.id},click")
        self.assertIn(mailing.subject, click.name)
        self.assertEqual(len(self._touchpoints(trace, "mailing_open")), 1, "a click implies an open")

        activity = self._lead_activities(lead)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"), "An prefers phone")
        self.assertEqual(activity.user_id, self.user_salesman)
        expected_deadline = fields.Date.context_today(lead.with_user(self.user_salesman)) + timedelta(days=2)
        self.assertEqual(activity.date_deadline, expected_deadline)

    def test_reply_creates_lead(self):
        mailing = self._send_mailing(self.contact)

        trace = self._reply(mailing, self.contact)

        self.assertEqual(trace.trace_status, "reply")
        lead = self._leads()
        self.assertEqual(len(lead), 1, "the reply lands in the response lead, not in a second lead")
        self.assertEqual(lead.campaign_id, self.campaign)
        self.assertEqual(self.customer.journey_stage_id, self.stage_favorability)
        self.assertTrue(lead.message_ids.filtered(lambda message: "200 potten" in (message.body or "")))
        self.assertIn("replied to the mailing", lead.message_ids.filtered(lambda m: m.message_type == "notification")[0].body)
        reply = self._touchpoints(trace, "mailing_reply")
        self.assertEqual(len(reply), 1)
        self.assertEqual(reply.direction, "inbound")
        self.assertFalse(
            self.env["customer.journey.touchpoint"].search(
                [("origin", "=", "message"), ("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)]
            ),
            "the reply is recorded once, as mailing reply",
        )

    def test_second_response_updates_lead(self):
        mailing = self._send_mailing(self.contact | self.contact_2)

        self._click(mailing, self.contact)
        self._reply(mailing, self.contact_2)

        lead = self._leads()
        self.assertEqual(len(lead), 1)
        notes = lead.message_ids.filtered(lambda message: message.message_type == "notification" and message.body)
        self.assertTrue(any("Bart Claes replied" in note.body for note in notes))
        activities = self._lead_activities(lead)
        self.assertEqual(
            sorted(activities.activity_type_id.mapped("name")), ["Call", "To-Do"], "each responder by their channel"
        )

    def test_same_channel_one_activity(self):
        self.contact_2.journey_preferred_channel = "phone"
        mailing = self._send_mailing(self.contact | self.contact_2)

        self._click(mailing, self.contact)
        self._click(mailing, self.contact_2)

        self.assertEqual(len(self._lead_activities(self._leads())), 1, "one open call is enough")

    def test_existing_open_lead_updated(self):
        lead = self.env["crm.lead"].create(
            {"name": "Potten voor de winkel", "partner_id": self.contact_2.id, "user_id": self.user_manager.id}
        )
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        self.assertEqual(self._leads(), lead)
        self.assertEqual(lead.campaign_id, self.campaign, "an empty campaign is filled in")
        self.assertEqual(lead.source_id, mailing.source_id)
        self.assertEqual(lead.user_id, self.user_manager, "the salesperson of the lead stays")
        self.assertEqual(self._lead_activities(lead).user_id, self.user_manager)

    def test_open_lead_of_other_company_not_updated(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        other_lead = self.env["crm.lead"].create(
            {"name": "Potten voor Noord", "partner_id": self.contact_2.id, "company_id": other_company.id}
        )
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        new_lead = self._leads() - other_lead
        self.assertEqual(len(new_lead), 1, "the response gets a lead in the mailing's company")
        self.assertEqual(new_lead.company_id, self.user_marketing.company_id)
        self.assertFalse(other_lead.campaign_id, "the other company's lead is left alone")

    def test_touchpoint_in_mailing_company(self):
        mailing = self._send_mailing(self.contact)

        trace = self._click(mailing, self.contact)

        self.assertEqual(self._touchpoints(trace, "mailing_click").company_id, self.user_marketing.company_id)

    def test_lost_lead_not_reused(self):
        lost = self.env["crm.lead"].create({"name": "Oude vraag", "partner_id": self.contact.id})
        lost.action_set_lost()
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        lead = self._leads()
        self.assertEqual(len(lead), 1)
        self.assertNotEqual(lead, lost)

    def test_conversion_customer_stays(self):
        self._create_order().action_confirm()
        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        history = self._history()
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        self.assertEqual(self.customer.journey_stage_id, self.stage_conversion)
        self.assertEqual(self._history(), history)
        self.assertEqual(len(self._leads()), 1)

    def test_campaign_response_event_moves_customer(self):
        """The event moves a customer with an open lead, which creates no new lead event."""
        self.env.ref("wholesale_customer_journey.rule_campaign_response").stage_id = self.stage_consideration
        self.env["crm.lead"].create({"name": "Potten", "partner_id": self.contact.id})
        self.assertEqual(self.customer.journey_stage_id, self.stage_awareness)
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        self.assertEqual(self.customer.journey_stage_id, self.stage_consideration)
        self.assertEqual(self._history()[-1].event_code, "campaign_response")

    def test_flag_off_records_touchpoints_only(self):
        self.campaign.journey_create_leads = False
        mailing = self._send_mailing(self.contact)
        self.assertFalse(mailing.journey_create_leads)

        trace = self._click(mailing, self.contact)

        self.assertFalse(self._leads())
        self.assertEqual(len(self._touchpoints(trace, "mailing_click")), 1)
        self.assertFalse(self.customer.journey_stage_id)

    def test_mailing_flag_follows_campaign(self):
        other_campaign = self.env["utm.campaign"].create({"name": "Najaarsbeurs"})
        mailing = self.env["mailing.mailing"].create({"subject": "Beurs", "campaign_id": self.campaign.id})
        self.assertTrue(mailing.journey_create_leads)

        mailing.campaign_id = other_campaign
        self.assertFalse(mailing.journey_create_leads)

        mailing.journey_create_leads = True
        self.assertTrue(mailing.journey_create_leads, "a mailing can create leads on its own")

    def test_mailing_choice_kept_when_campaign_changes(self):
        mailing = self.env["mailing.mailing"].create({"subject": "Beurs", "campaign_id": self.campaign.id})
        mailing.journey_lead_creation = "off"

        self.campaign.journey_create_leads = False
        self.campaign.journey_create_leads = True

        self.assertEqual(mailing.journey_lead_creation, "off")
        self.assertFalse(mailing.journey_create_leads, "the mailing's own choice wins over the campaign")

    def test_mailing_flag_overrides_campaign(self):
        mailing = self._send_mailing(self.contact)
        mailing.journey_create_leads = False

        self._click(mailing, self.contact)

        self.assertFalse(self._leads())

    def test_open_records_touchpoint_only(self):
        mailing = self._send_mailing(self.contact)

        trace = self.gateway_mail_trace_open(mailing, self.contact)

        touchpoint = self._touchpoints(trace)
        self.assertEqual(touchpoint.origin, "mailing_open")
        self.assertEqual(touchpoint.direction, "inbound")
        self.assertFalse(self._leads())
        self.assertFalse(self.customer.journey_stage_id)

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_bounce_records_touchpoint_only(self):
        mailing = self._send_mailing(self.contact)

        trace = self.gateway_mail_trace_bounce(mailing, self.contact)

        self.assertEqual(trace.trace_status, "bounce")
        touchpoint = self._touchpoints(trace)
        self.assertEqual(touchpoint.origin, "mailing_bounce")
        self.assertEqual(touchpoint.direction, "outbound")
        self.assertEqual(touchpoint.source_key, f"mailing.trace,{trace.id},bounce")
        self.assertFalse(self._leads())

    def test_each_event_counts_once(self):
        mailing = self._send_mailing(self.contact)

        trace = self._click(mailing, self.contact)
        self._click(mailing, self.contact)
        trace.set_opened()
        trace.set_replied()
        trace.set_replied()

        touchpoints = self._touchpoints(trace)
        self.assertEqual(sorted(touchpoints.mapped("origin")), ["mailing_click", "mailing_open", "mailing_reply"])
        lead = self._leads()
        self.assertEqual(len(lead), 1)
        notes = lead.message_ids.filtered(lambda message: message.message_type == "notification" and "mailing" in (message.body or ""))
        self.assertEqual(len(notes), 2, "one note for the click, one for the reply")

    def test_touchpoint_summary_translated(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        mailing = self._send_mailing(self.contact)

        trace = self._click(mailing, self.contact)

        touchpoint = self._touchpoints(trace, "mailing_click")
        self.assertEqual(touchpoint.with_context(lang="en_US").name, f"Mailing link clicked: {mailing.subject}")

    def test_colleague_gets_no_lead(self):
        mailing = self._send_mailing(self.user_employee.partner_id)

        trace = self._click(mailing, self.user_employee.partner_id)

        self.assertFalse(self._touchpoints(trace))
        self.assertFalse(self.env["crm.lead"].search([("source_id", "=", mailing.source_id.id)]))

    def test_mailing_contact_found_by_email(self):
        mailing_list = self.env["mailing.list"].create(
            {"name": "Tuincentra", "contact_ids": [(0, 0, {"name": "An P.", "email": "AN@delinde.example"})]}
        )
        # The company and a private partner share the address: the company's contact wins.
        self.env["res.partner"].create({"name": "An (privé)", "email": "an@delinde.example"})
        mailing = self._send_mailing(mailing_list)
        mailing_contact = mailing_list.contact_ids

        trace = self._click(mailing, mailing_contact)

        self.assertEqual(self._touchpoints(trace, "mailing_click").contact_id, self.contact)
        self.assertEqual(self._leads().partner_id, self.contact)

    def test_mailing_contact_without_partner(self):
        mailing_list = self.env["mailing.list"].create(
            {"name": "Beursbezoekers", "contact_ids": [(0, 0, {"name": "Lotte Nieuw", "email": "lotte@nieuw.example"})]}
        )
        mailing = self._send_mailing(mailing_list)
        mailing_contact = mailing_list.contact_ids

        trace = self._click(mailing, mailing_contact)
        self.gateway_mail_trace_reply(mailing, mailing_contact)

        self.assertFalse(self._touchpoints(trace))
        lead = self.env["crm.lead"].search([("email_normalized", "=", "lotte@nieuw.example")])
        self.assertEqual(len(lead), 1, "one lead per address, also after a second response")
        self.assertFalse(lead.partner_id)
        self.assertEqual(lead.contact_name, "Lotte Nieuw")
        self.assertEqual(lead.campaign_id, self.campaign)
        self.assertEqual(self._lead_activities(lead).activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertEqual(self._lead_activities(lead).user_id, self.user_marketing, "no salesperson: the mailing's responsible")

    def test_activity_type_by_preferred_channel(self):
        cases = [
            ("email", "mail.mail_activity_data_email"),
            ("visit", "mail.mail_activity_data_meeting"),
            ("social", "mail.mail_activity_data_todo"),
            ("none", "mail.mail_activity_data_todo"),
        ]
        for channel, activity_xmlid in cases:
            with self.subTest(channel=channel):
                company = self.env["res.partner"].create(
                    {"name": f"Klant {channel}", "is_company": True, "country_id": self.belgium.id}
                )
                contact = self.env["res.partner"].create(
                    {
                        "name": f"Contact {channel}",
                        "parent_id": company.id,
                        "email": f"{channel}@klant.example",
                        "journey_preferred_channel": channel,
                    }
                )
                mailing = self._send_mailing(contact, subject=f"Aanbod {channel}")

                self._click(mailing, contact)

                lead = self._leads(company)
                self.assertEqual(self._lead_activities(lead).activity_type_id, self.env.ref(activity_xmlid))

    def test_activity_deadline_from_settings(self):
        self.env["res.config.settings"].create({"journey_response_activity_days": 5}).execute()
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        lead = self._leads()
        expected = fields.Date.context_today(lead.with_user(self.user_salesman)) + timedelta(days=5)
        self.assertEqual(self._lead_activities(lead).date_deadline, expected)

    def test_activity_deadline_negative_rejected(self):
        with self.assertRaises(ValidationError):
            self.env.company.journey_response_activity_days = -1


@tagged("post_install", "-at_install")
class TestAssignmentRules(CampaignResponseCase):
    def _company_with_contact(self, name, email, **company_values):
        company = self.env["res.partner"].create(dict({"name": name, "is_company": True}, **company_values))
        contact = self.env["res.partner"].create({"name": f"Inkoper {name}", "parent_id": company.id, "email": email})
        return company, contact

    def test_first_matching_rule_wins(self):
        user_nl = self.user_manager
        self.env["customer.journey.assignment.rule"].create(
            [
                {
                    "name": "Campagne voor Nederland",
                    "sequence": 5,
                    "country_ids": [(6, 0, self.netherlands.ids)],
                    "campaign_ids": [(6, 0, self.campaign.ids)],
                    "team_id": self.team_nl.id,
                    "user_id": user_nl.id,
                },
                {
                    "name": "Nederland, alles",
                    "sequence": 20,
                    "country_ids": [(6, 0, self.netherlands.ids)],
                    "team_id": self.team_be.id,
                },
            ]
        )
        company, contact = self._company_with_contact("Bloemenhof Utrecht", "inkoop@bloemenhof.example",
                                                      country_id=self.netherlands.id)
        mailing = self._send_mailing(contact)

        self._click(mailing, contact)

        lead = self._leads(company)
        self.assertEqual(lead.team_id, self.team_nl)
        self.assertEqual(lead.user_id, user_nl)

    def test_rule_criteria_stage_and_tag(self):
        tag = self.env["res.partner.category"].create({"name": "Groothandel"})
        self.env["customer.journey.assignment.rule"].create(
            {
                "name": "Groothandel in Aftersales",
                "sequence": 1,
                "stage_ids": [(6, 0, self.stage_aftersales.ids)],
                "category_ids": [(6, 0, tag.ids)],
                "team_id": self.team_nl.id,
            }
        )
        company, contact = self._company_with_contact(
            "Potten Groothandel", "inkoop@potten.example", country_id=self.belgium.id, category_id=[(6, 0, tag.ids)]
        )
        mailing = self._send_mailing(contact)

        self._click(mailing, contact)

        lead = self._leads(company)
        self.assertEqual(lead.team_id, self.team_be, "no stage yet: the stage rule does not match, the Belgian rule does")
        self.assertEqual(lead.user_id, self.user_salesman)

    def test_fallback_customer_salesperson(self):
        self.rule_be.active = False
        self.team_nl.member_ids = self.user_manager
        self.customer.user_id = self.user_manager
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        lead = self._leads()
        self.assertEqual(lead.user_id, self.user_manager)
        self.assertEqual(lead.team_id, self.team_nl, "the salesperson's team, as Odoo assigns it")

    def test_fallback_default_team_of_mailing_company(self):
        """A recipient without partner, no rule and no salesperson: Odoo's default team of the company."""
        default_team = self.env["crm.team"].create(
            {"name": "Team Binnendienst", "sequence": 0, "company_id": self.user_marketing.company_id.id,
             "use_leads": True, "use_opportunities": True}
        )
        self.env["crm.team"].create({"name": "Team Ander Bedrijf", "sequence": -1, "use_leads": True,
                                     "company_id": self.env["res.company"].create({"name": "Ander Bedrijf"}).id})
        mailing_list = self.env["mailing.list"].create(
            {"name": "Beursbezoekers", "contact_ids": [(0, 0, {"name": "Lotte Nieuw", "email": "lotte@nieuw.example"})]}
        )
        mailing = self._send_mailing(mailing_list)

        self._click(mailing, mailing_list.contact_ids)

        lead = self.env["crm.lead"].search([("email_normalized", "=", "lotte@nieuw.example")])
        self.assertEqual(len(lead), 1)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.team_id, default_team, "the first team of the mailing's company")
        self.assertEqual(lead.company_id, self.user_marketing.company_id)

    def test_no_default_team_when_customer_has_salesperson(self):
        self.rule_be.active = False
        self.env["crm.team"].create(
            {"name": "Team Binnendienst", "sequence": 0, "company_id": self.company.id, "use_leads": True}
        )
        self.team_nl.member_ids = self.user_manager
        self.customer.user_id = self.user_manager
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        self.assertEqual(self._leads().team_id, self.team_nl, "the salesperson's team, not the default")

    def test_rule_of_other_company_salesperson_skipped(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        user_other = mail_new_test_user(
            self.env, login="journey_other_company", name="Olaf Ander", groups="sales_team.group_sale_salesman",
            company_id=other_company.id, company_ids=[Command.set(other_company.ids)],
        )
        team_other = self.env["crm.team"].create({"name": "Team Noord", "company_id": other_company.id})
        self.env["customer.journey.assignment.rule"].create(
            [
                {"name": "Verkoper van Noord", "sequence": 1, "country_ids": [(6, 0, self.belgium.ids)],
                 "user_id": user_other.id},
                {"name": "Team van Noord", "sequence": 2, "country_ids": [(6, 0, self.belgium.ids)],
                 "team_id": team_other.id},
            ]
        )
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        lead = self._leads()
        self.assertEqual(lead.user_id, self.user_salesman, "the next rule that fits the company decides")
        self.assertEqual(lead.team_id, self.team_be)
        self.assertEqual(lead.company_id, self.user_marketing.company_id)

    def test_customer_salesperson_of_other_company_skipped(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        user_other = mail_new_test_user(
            self.env, login="journey_other_company", name="Olaf Ander", groups="sales_team.group_sale_salesman",
            company_id=other_company.id, company_ids=[Command.set(other_company.ids)],
        )
        self.rule_be.active = False
        self.customer.user_id = user_other
        mailing = self._send_mailing(self.contact)

        self._click(mailing, self.contact)

        lead = self._leads()
        self.assertNotEqual(lead.user_id, user_other)
        self.assertEqual(lead.company_id, self.user_marketing.company_id)

    def test_rule_salesperson_must_work_in_company(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        Rule = self.env["customer.journey.assignment.rule"]

        with self.assertRaisesRegex(ValidationError, "Invalid Salesperson .*do not work in Groothandel Noord"):
            Rule.create({"name": "Noord", "company_id": other_company.id, "user_id": self.user_salesman.id})
        with self.assertRaisesRegex(ValidationError, "Invalid Salesperson"):
            self.rule_be.company_id = other_company
        self.user_salesman.company_ids = [Command.link(other_company.id)]
        Rule.create({"name": "Noord", "company_id": other_company.id, "user_id": self.user_salesman.id})

    def test_rule_team_of_other_company_rejected(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        team_other = self.env["crm.team"].create({"name": "Team Noord", "company_id": other_company.id})
        Rule = self.env["customer.journey.assignment.rule"]

        with self.assertRaisesRegex(ValidationError, "Invalid Sales Team .*belongs to Groothandel Noord"):
            Rule.create({"name": "Zuid", "company_id": self.company.id, "team_id": team_other.id})
        Rule.create({"name": "Noord", "company_id": other_company.id, "team_id": team_other.id})
        Rule.create({"name": "Overal", "company_id": self.company.id, "team_id": self.team_be.id})

    def test_rule_states_outside_countries_rejected(self):
        utrecht = self.env.ref("base.state_nl_ut")
        Rule = self.env["customer.journey.assignment.rule"]

        with self.assertRaisesRegex(ValidationError, "Invalid States .*Utrecht"):
            Rule.create({"name": "Utrecht in België", "team_id": self.team_be.id,
                         "country_ids": [(6, 0, self.belgium.ids)], "state_ids": [(6, 0, utrecht.ids)]})
        with self.assertRaisesRegex(ValidationError, "Invalid States"):
            self.rule_be.state_ids = utrecht
        Rule.create({"name": "Utrecht", "team_id": self.team_nl.id,
                     "country_ids": [(6, 0, (self.belgium | self.netherlands).ids)], "state_ids": [(6, 0, utrecht.ids)]})
        Rule.create({"name": "Alleen Utrecht", "team_id": self.team_nl.id, "state_ids": [(6, 0, utrecht.ids)]})

    def test_rule_without_result_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Missing Sales Team and Salesperson"):
            self.env["customer.journey.assignment.rule"].create({"name": "Leeg"})

    def test_rule_portal_salesperson_rejected(self):
        with self.assertRaisesRegex(ValidationError, "Invalid Salesperson"):
            self.env["customer.journey.assignment.rule"].create({"name": "Portaal", "user_id": self.user_portal.id})


@tagged("post_install", "-at_install")
class TestCampaignResponseAccess(CampaignResponseCase):
    def test_employee_reads_rules(self):
        rule = self.rule_be.with_user(self.user_employee)

        self.assertEqual(rule.name, "Belgische klanten")
        with self.assertRaises(AccessError):
            rule.name = "Iets anders"
        with self.assertRaises(AccessError):
            self.env["customer.journey.assignment.rule"].with_user(self.user_salesman).create(
                {"name": "Eigen regel", "team_id": self.team_be.id}
            )

    def test_manager_configures_rules(self):
        rule = self.env["customer.journey.assignment.rule"].with_user(self.user_manager).create(
            {"name": "Nieuwe regel", "team_id": self.team_nl.id}
        )

        rule.sequence = 1
        rule.unlink()

    def test_portal_reads_no_rules(self):
        with self.assertRaises(AccessError):
            self.env["customer.journey.assignment.rule"].with_user(self.user_portal).search([])

    def test_public_user_click_creates_lead(self):
        """The link redirect runs as the public user, with sudo for the click."""
        mailing = self._send_mailing(self.contact)
        trace = self._trace(mailing, self.contact)
        public_env = self.env(user=self.env.ref("base.public_user"))

        self._click(mailing, self.contact, env=public_env)

        lead = self._leads()
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.create_uid, self.env.ref("base.user_root"), "OdooBot creates the lead")
        self.assertEqual(lead.user_id, self.user_salesman)
        self.assertTrue(self._touchpoints(trace, "mailing_click"))

    def test_click_with_link_of_other_mailing_ignored(self):
        """The public redirect takes any link code with any trace id: a mismatch is forged."""
        mailing = self._send_mailing(self.contact)
        other_mailing = self._send_mailing(self.contact_2, subject="Najaarscollectie 2027")
        trace = self._trace(mailing, self.contact)
        other_link = self.env["link.tracker"].search(
            [("url", "=", LINK_URL), ("source_id", "=", other_mailing.source_id.id)]
        )
        public_env = self.env(user=self.env.ref("base.public_user"))

        public_env["link.tracker.click"].sudo().add_click(
            other_link.code, ip="100.200.30.40", country_code="BE", mailing_trace_id=trace.id
        )

        self.assertFalse(self._leads())
        self.assertFalse(self._touchpoints(trace))

    def test_click_with_link_of_no_mailing_ignored(self):
        mailing = self._send_mailing(self.contact)
        trace = self._trace(mailing, self.contact)
        stray_link = self.env["link.tracker"].create({"url": "https://www.example.com/los"})

        self.env(user=self.env.ref("base.public_user"))["link.tracker.click"].sudo().add_click(
            stray_link.code, ip="100.200.30.40", country_code="BE", mailing_trace_id=trace.id
        )

        self.assertFalse(self._leads())
        self.assertFalse(self._touchpoints(trace))

    def test_response_lead_in_customer_company(self):
        """A mailing user of another main company must not break the click of the recipient."""
        other_company = self.env["res.company"].create({"name": "Groothandel Noord"})
        self.customer.company_id = self.company
        self.user_marketing.write({"company_ids": [(4, other_company.id)], "company_id": other_company.id})
        mailing = self._send_mailing(self.contact)

        trace = self._click(mailing, self.contact, env=self.env(user=self.env.ref("base.public_user")))

        lead = self._leads()
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.company_id, self.company)
        self.assertEqual(self._touchpoints(trace, "mailing_click").company_id, self.company)
        self.assertTrue(trace.links_click_datetime, "the click itself is recorded")

    def test_search_mailings_creating_leads(self):
        follows = self.env["mailing.mailing"].create({"subject": "Volgt", "campaign_id": self.campaign.id})
        never = self.env["mailing.mailing"].create(
            {"subject": "Nooit", "campaign_id": self.campaign.id, "journey_lead_creation": "off"}
        )
        always = self.env["mailing.mailing"].create({"subject": "Altijd", "journey_lead_creation": "on"})
        Mailing = self.env["mailing.mailing"]

        creating = Mailing.search([("journey_create_leads", "=", True), ("id", "in", (follows | never | always).ids)])
        not_creating = Mailing.search([("journey_create_leads", "=", False), ("id", "in", (follows | never | always).ids)])

        self.assertEqual(creating, follows | always)
        self.assertEqual(not_creating, never)

    def test_click_on_unsent_trace_ignored(self):
        mailing = self._send_mailing(self.contact)
        trace = self._trace(mailing, self.contact)
        # As a blacklisted recipient's trace: canceled, never sent.
        trace.write({"trace_status": "cancel", "failure_type": "mail_bl", "sent_datetime": False})

        self._click(mailing, self.contact, env=self.env(user=self.env.ref("base.public_user")))

        self.assertFalse(self._leads())
        self.assertFalse(self._touchpoints(trace))

    def test_multi_company_rules(self):
        other_company = self.env["res.company"].create({"name": "Tweede Bedrijf"})
        rule = self.env["customer.journey.assignment.rule"].create(
            {"name": "Ander bedrijf", "company_id": other_company.id, "team_id": self.team_nl.id}
        )
        manager = self.user_manager
        self.assertNotIn(other_company, manager.company_ids)

        self.assertFalse(self.env["customer.journey.assignment.rule"].with_user(manager).search([("id", "=", rule.id)]))
