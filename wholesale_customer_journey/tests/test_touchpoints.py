# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import JourneyCase

RAW_MAIL = """Return-Path: <{email_from}>
To: {to}
From: {email_from}
Subject: {subject}
Message-ID: <{msg_id}@delinde.example>
Date: Mon, 02 Nov 2026 10:00:00 +0100
Content-Type: text/plain; charset="utf-8"

Hebben jullie nog terracotta potten van 30 cm op voorraad?
"""


@tagged("post_install", "-at_install")
class TestTouchpoints(JourneyCase):
    def _touchpoints(self, **domain):
        return self.env["customer.journey.touchpoint"].search(
            [(field, "=", value) for field, value in domain.items()], order="id"
        )

    def test_lead_created_touchpoint(self):
        lead = self.env["crm.lead"].create(
            {"name": "Potten", "partner_id": self.contact.id, "campaign_id": self.campaign.id}
        )

        touchpoint = self._touchpoints(res_model="crm.lead", res_id=lead.id)
        self.assertEqual(len(touchpoint), 1)
        self.assertEqual(touchpoint.origin, "lead")
        self.assertEqual(touchpoint.partner_id, self.customer)
        self.assertEqual(touchpoint.contact_id, self.contact)
        self.assertEqual(touchpoint.campaign_id, self.campaign)
        self.assertEqual(touchpoint.kind, "direct")
        self.assertEqual(touchpoint.direction, "inbound")
        self.assertEqual(touchpoint.stage_id, self.stage_favorability)

    def test_lead_stage_change_touchpoint(self):
        lead = self.env["crm.lead"].create({"name": "Potten", "partner_id": self.customer.id})
        lead.stage_id = self.env.ref("crm.stage_lead2")

        touchpoint = self._touchpoints(origin="lead_stage", res_id=lead.id)
        self.assertEqual(len(touchpoint), 1)
        self.assertIn("Qualified", touchpoint.name)

    def test_quotation_sent_by_mail_touchpoint(self):
        order = self._create_order()
        action = order.action_quotation_send()
        composer = self.env["mail.compose.message"].with_context(action["context"]).create({})
        with self.mock_mail_gateway():
            composer.action_send_mail()

        self.assertEqual(order.state, "sent")
        touchpoints = self._touchpoints(res_model="sale.order", res_id=order.id)
        self.assertEqual(len(touchpoints), 1, "the quotation mail counts once, as quotation sent")
        self.assertEqual(touchpoints.origin, "quotation")
        self.assertEqual(touchpoints.channel, "email")
        self.assertEqual(touchpoints.direction, "outbound")

    def test_order_confirmed_touchpoint(self):
        order = self._create_order()
        order.action_confirm()

        touchpoint = self._touchpoints(origin="order", res_id=order.id)
        self.assertEqual(len(touchpoint), 1)
        self.assertEqual(touchpoint.partner_id, self.customer)
        self.assertEqual(touchpoint.stage_id, self.stage_conversion)

    def test_chatter_message_touchpoint(self):
        with self.mock_mail_gateway():
            message = self.customer.message_post(
                body="Onze nieuwe catalogus staat online.",
                subject="Nieuwe catalogus",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.contact.ids,
            )

        touchpoint = self._touchpoints(source_key=f"mail.message,{message.id}")
        self.assertEqual(len(touchpoint), 1)
        self.assertEqual(touchpoint.channel, "email")
        self.assertEqual(touchpoint.direction, "outbound")
        self.assertEqual(touchpoint.contact_id, self.contact)
        self.assertEqual(touchpoint.origin, "message")

    def test_internal_note_is_no_touchpoint(self):
        message = self.customer.message_post(
            body="Klant betaalt traag.", message_type="comment", subtype_xmlid="mail.mt_note"
        )

        self.assertFalse(self._touchpoints(source_key=f"mail.message,{message.id}"))

    def test_incoming_mail_on_order_touchpoint(self):
        order = self._create_order()
        message = order.with_user(self.env.ref("base.user_root")).message_post(
            body="Kan de levering een week later?",
            subject="Re: offerte",
            message_type="email",
            author_id=self.contact.id,
            subtype_xmlid="mail.mt_comment",
        )

        touchpoint = self._touchpoints(source_key=f"mail.message,{message.id}")
        self.assertEqual(touchpoint.direction, "inbound")
        self.assertEqual(touchpoint.channel, "email")
        self.assertEqual(touchpoint.contact_id, self.contact)
        self.assertEqual(touchpoint.partner_id, self.customer)

    def test_mail_gateway_new_lead_touchpoint(self):
        raw = RAW_MAIL.format(
            email_from=self.contact.email, to="sales@test.example", subject="Vraag naar potten", msg_id="q1"
        )
        lead_id = self.env["mail.thread"].sudo().message_process("crm.lead", raw)
        lead = self.env["crm.lead"].browse(lead_id)

        touchpoints = self._touchpoints(res_model="crm.lead", res_id=lead.id, origin="message")
        self.assertEqual(len(touchpoints), 1)
        self.assertEqual(touchpoints.direction, "inbound")
        self.assertEqual(touchpoints.channel, "email")

    def test_lead_touchpoints_attach_when_customer_set(self):
        lead = self.env["crm.lead"].create({"name": "Anonieme vraag", "email_from": "x@unknown.example"})
        self.assertFalse(self._touchpoints(res_model="crm.lead", res_id=lead.id).partner_id)

        lead.partner_id = self.contact

        touchpoints = self._touchpoints(res_model="crm.lead", res_id=lead.id)
        self.assertEqual(touchpoints.partner_id, self.customer)
        self.assertEqual(self.customer.journey_stage_id, self.stage_awareness)

    def test_call_activity_done_touchpoint(self):
        lead = self.env["crm.lead"].create({"name": "Potten", "partner_id": self.contact.id})
        activity = lead.activity_schedule("mail.mail_activity_data_call", summary="Terugbellen")
        activity_id = activity.id
        activity.action_feedback(feedback="Wil een staal.")

        touchpoint = self._touchpoints(source_key=f"mail.activity,{activity_id}")
        self.assertEqual(touchpoint.channel, "phone")
        self.assertEqual(touchpoint.origin, "activity")
        self.assertIn("Terugbellen", touchpoint.name)
        self.assertIn("staal", touchpoint.note)

    def test_meeting_activity_done_touchpoint(self):
        activity = self.customer.activity_schedule("mail.mail_activity_data_meeting", summary="Bezoek winkel")
        activity_id = activity.id
        activity.action_done()

        touchpoint = self._touchpoints(source_key=f"mail.activity,{activity_id}")
        self.assertEqual(touchpoint.channel, "meeting")
        self.assertEqual(touchpoint.partner_id, self.customer)

    def test_todo_activity_done_no_touchpoint(self):
        activity = self.customer.activity_schedule("mail.mail_activity_data_todo", summary="Prijslijst nakijken")
        activity_id = activity.id
        activity.action_done()

        self.assertFalse(self._touchpoints(source_key=f"mail.activity,{activity_id}"))

    def test_log_review_from_customer(self):
        action = self.customer.with_user(self.user_salesman).action_journey_log_touchpoint()
        Touchpoint = self.env["customer.journey.touchpoint"].with_user(self.user_salesman)
        review = Touchpoint.with_context(action["context"]).create(
            {"name": "Lovende review op een vakforum", "rating": "4", "author_name": "Vakforum Tuin"}
        )

        self.assertEqual(review.partner_id, self.customer)
        self.assertEqual(review.channel, "review")
        self.assertEqual(review.kind, "indirect")
        self.assertEqual(review.origin, "manual")
        self.assertEqual(review.rating, "4")
        self.assertEqual(self.customer.journey_touchpoint_count, 1)

    def test_log_touchpoint_on_contact_goes_to_company(self):
        review = self.env["customer.journey.touchpoint"].create(
            {"name": "Opinie van collega", "partner_id": self.contact.id, "channel": "opinion"}
        )

        self.assertEqual(review.partner_id, self.customer)
        self.assertEqual(review.contact_id, self.contact)
        self.assertEqual(review.channel, "third_party", "aliases are normalised")
        self.assertEqual(review.kind, "indirect")

    def test_rating_only_on_reviews(self):
        with self.assertRaisesRegex(ValidationError, "Rating"):
            self.env["customer.journey.touchpoint"].create(
                {"name": "Telefoon", "partner_id": self.customer.id, "channel": "phone", "rating": "3"}
            )

    def test_contact_of_other_customer_rejected(self):
        other = self.env["res.partner"].create({"name": "Andere klant", "is_company": True})
        with self.assertRaisesRegex(ValidationError, "Contact"):
            self.env["customer.journey.touchpoint"].create(
                {"name": "Bezoek", "partner_id": other.id, "contact_id": self.contact.id, "channel": "meeting"}
            )

    def test_same_event_recorded_once(self):
        Touchpoint = self.env["customer.journey.touchpoint"]
        vals = {"name": "Beurs", "partner_id": self.customer.id, "channel": "trade_fair", "source_key": "fair,1"}
        Touchpoint._record_touchpoints([vals, dict(vals)])
        Touchpoint._record_touchpoints([dict(vals)])

        self.assertEqual(len(self._touchpoints(source_key="fair,1")), 1)

    def test_last_touchpoint_search(self):
        quiet = self.env["res.partner"].create({"name": "Stille klant", "is_company": True})
        self.env["customer.journey.touchpoint"].create(
            {"name": "Beurs", "partner_id": self.customer.id, "channel": "trade_fair"}
        )
        Partner = self.env["res.partner"]

        no_touchpoint = Partner.search([("journey_last_touchpoint_date", "=", False)])
        self.assertIn(quiet, no_touchpoint)
        self.assertNotIn(self.customer, no_touchpoint)
        self.assertIn(self.contact, Partner.search([("journey_last_touchpoint_date", ">", "2020-01-01")]))
        self.assertNotIn(self.customer, Partner.search([("journey_last_touchpoint_date", "<", "2020-01-01")]))

    def test_summary_in_reader_language(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.user_salesman.lang = "nl_NL"
        order = self._create_order()
        order.user_id = self.user_salesman
        order.with_user(self.user_salesman).action_confirm()

        touchpoint = self._touchpoints(origin="order", res_id=order.id)
        self.assertEqual(touchpoint.with_context(lang="en_US").name, f"Order {order.name} confirmed")
        self.assertEqual(touchpoint.with_context(lang="nl_NL").name, f"Order {order.name} bevestigd")

    def test_manual_summary_kept_as_typed(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        touchpoint = (
            self.env["customer.journey.touchpoint"]
            .with_context(lang="nl_NL")
            .create({"name": "Goede reviews op de beurs", "partner_id": self.customer.id, "channel": "review"})
        )

        self.assertEqual(touchpoint.with_context(lang="en_US").name, "Goede reviews op de beurs")
        self.assertEqual(touchpoint.with_context(lang="nl_NL").name, "Goede reviews op de beurs")

    def test_captured_touchpoint_kept_for_users(self):
        self.user_salesman.groups_id = [(4, self.env.ref("wholesale_customer_journey.group_journey_user").id)]
        order = self._create_order()
        order.action_confirm()
        touchpoint = self._touchpoints(origin="order", res_id=order.id).with_user(self.user_salesman)

        with self.assertRaisesRegex(UserError, "only Customer Journey managers"):
            touchpoint.write({"date": "2001-01-01 00:00:00"})
        touchpoint.write({"note": "Telefonisch bevestigd"})
        self.assertEqual(touchpoint.note, "<p>Telefonisch bevestigd</p>")

    def test_comment_reaching_no_customer_no_touchpoint(self):
        lead = self.env["crm.lead"].create({"name": "Potten", "partner_id": self.contact.id})
        message = lead.message_post(
            body="Interne vraag aan collega", message_type="comment", subtype_xmlid="mail.mt_comment"
        )

        self.assertFalse(self._touchpoints(source_key=f"mail.message,{message.id}"))

    def test_comment_to_following_customer_touchpoint(self):
        lead = self.env["crm.lead"].create({"name": "Potten", "partner_id": self.contact.id})
        lead.message_subscribe(partner_ids=self.contact.ids)
        with self.mock_mail_gateway():
            message = lead.message_post(
                body="De offerte volgt morgen.", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

        touchpoint = self._touchpoints(source_key=f"mail.message,{message.id}")
        self.assertEqual(touchpoint.direction, "outbound")
        self.assertEqual(touchpoint.partner_id, self.customer)

    def test_mailing_mail_no_touchpoint_when_queued(self):
        lead = self.env["crm.lead"].create({"name": "Potten", "partner_id": self.contact.id})
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Voorjaarsactie potten",
                "mailing_model_id": self.env["ir.model"]._get_id("crm.lead"),
                "state": "done",
            }
        )
        mail_vals = {
            "subject": "Voorjaarsactie potten",
            "body_html": "<p>Onze voorjaarsactie</p>",
            "email_to": self.contact.email,
            "model": "crm.lead",
            "res_id": lead.id,
            "message_type": "email_outgoing",
        }
        before = self._touchpoints(res_model="crm.lead", res_id=lead.id)

        self.env["mail.mail"].create([dict(mail_vals, mailing_id=mailing.id), dict(mail_vals, subject="Offerte potten")])

        # The campaign mail counts through its trace, once the recipient responds.
        # The same mail without a mailing is a mail to the customer at once.
        new_touchpoints = self._touchpoints(res_model="crm.lead", res_id=lead.id) - before
        self.assertEqual(len(new_touchpoints), 1)
        self.assertIn("Offerte potten", new_touchpoints.name)
