# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import MailDeliveryException
from odoo.addons.mail.tests.common import mail_new_test_user

from .common import JourneyCase


class InfoMailingCase(JourneyCase):
    """Customers, products and helpers for the product information rules.

    By default each rule gets an Extra Filter on a partner tag that only the
    customers created here carry, so that the demo customers, leads and
    orders of the database never enter its audience.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("web.base.url", "http://localhost:8069")
        cls.Rule = cls.env["customer.journey.info.rule"]
        cls.Send = cls.env["customer.journey.info.send"]
        # Records created in this class get the transaction's timestamp as
        # create date, so the rules take events from an hour before it.
        cls.date_start = cls.env.cr.now().replace(microsecond=0) - timedelta(hours=1)

        cls.user_journey = mail_new_test_user(
            cls.env,
            login="journey_info_user",
            name="Jan Journey",
            email="jan@example.com",
            groups="wholesale_customer_journey.group_journey_user",
        )
        cls.tag = cls.env["res.partner.category"].create({"name": "Product information test"})
        cls.customer.category_id = [Command.link(cls.tag.id)]
        cls.customer_2 = cls._create_customer("Kwekerij Groen", "inkoop@groen.example")
        cls.customer_3 = cls._create_customer("Hoveniersbedrijf Blad", "info@blad.example")
        cls.campaign_2 = cls.env["utm.campaign"].create({"name": "Najaarsbeurs"})

        Category = cls.env["product.category"]
        cls.categ_pots = Category.create({"name": "Pots"})
        cls.categ_terracotta = Category.create({"name": "Terracotta pots", "parent_id": cls.categ_pots.id})
        cls.categ_tools = Category.create({"name": "Garden tools"})
        Product = cls.env["product.template"]
        cls.pot = Product.create(
            {
                "name": "Terracotta pot 40 cm",
                "categ_id": cls.categ_terracotta.id,
                "list_price": 20.0,
                "description_sale": "Frost-proof pot, fired at 1100 degrees.",
                "sale_ok": True,
            }
        )
        cls.planter = Product.create(
            {"name": "Zinc planter", "categ_id": cls.categ_pots.id, "list_price": 35.0, "sale_ok": True}
        )
        cls.trowel = Product.create(
            {"name": "Garden trowel", "categ_id": cls.categ_tools.id, "list_price": 9.0, "sale_ok": True}
        )

    @classmethod
    def _create_customer(cls, name, email, **vals):
        return cls.env["res.partner"].create(
            dict({"name": name, "is_company": True, "email": email, "category_id": [Command.set(cls.tag.ids)]}, **vals)
        )

    def _audience_filter(self, target):
        if target == "lead":
            return f"[('partner_id.commercial_partner_id.category_id', 'in', [{self.tag.id}])]"
        return f"[('category_id', 'in', [{self.tag.id}])]"

    def _create_rule(self, **vals):
        """Create a rule that sends the pot's information to the tagged customers on interest."""
        target = vals.get("target", "customer")
        values = {
            "name": "Terracotta information",
            "target": target,
            "trigger": "interest",
            "product_ids": [Command.set(self.pot.ids)],
            "date_start": self.date_start,
            "mail_template_id": self.env.ref(f"wholesale_customer_journey.mail_template_info_{target}").id,
            "filter_domain": self._audience_filter(target),
            "user_id": self.user_salesman.id,
            "stop_stage_id": self.stage_conversion.id,
        }
        values.update(vals)
        return self.Rule.create(values)

    def _run(self, rules, now=None):
        # Create dates carry microseconds and fields.Datetime.now() does not, so a
        # run in the same second as a lead's creation would not see the lead yet.
        if now is None:
            now = fields.Datetime.now() + timedelta(seconds=1)
        return self.Send._run_info_rules(rules=rules, now=now)

    def _sends(self, rule):
        return self.Send.search([("rule_id", "=", rule.id)])

    def _rule_mails(self, rule):
        return self.env["mail.mail"].search([("mailing_id", "=", rule.mailing_id.id)])

    def _record_interest(self, customer, products=None, categories=None, date=None):
        return self.env["customer.journey.interest"]._record_interest(
            customer, products=products, categories=categories, date=date
        )

    def _create_lead(self, partner, **vals):
        values = {"name": f"Pots for {partner.name}", "partner_id": partner.id, "user_id": self.user_salesman.id}
        values.update(vals)
        return self.env["crm.lead"].create(values)

    def _create_touchpoint(self, customer, date):
        return self.env["customer.journey.touchpoint"].create(
            {"name": "Visit at the nursery", "partner_id": customer.id, "date": date, "channel": "meeting"}
        )

    def _create_sent_quotation(self, partner, sent_days_ago):
        """Create a quotation of the pot, mark it sent, and date its "Quotation Sent" touchpoint back."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": self.pot.product_variant_id.id, "product_uom_qty": 20})],
            }
        )
        order.write({"state": "sent"})
        touchpoint = self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id), ("origin", "=", "quotation")]
        )
        self.assertEqual(len(touchpoint), 1, "marking the quotation sent records its touchpoint")
        self._set_date(touchpoint, "date", fields.Datetime.now() - timedelta(days=sent_days_ago))
        return order

    def _set_date(self, records, field_name, value):
        """Write a date column in SQL, where the ORM forbids the change or would recompute it."""
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE {records._table} SET {field_name} = %s WHERE id = ANY(%s)",  # noqa: S608 - fixed names
            (value, records.ids),
        )
        records.invalidate_recordset()

    def _process_mails(self, mails):
        """Send ``mails`` through the mock gateway, as the mail queue does."""
        with self.mock_mail_gateway(mail_unlink_sent=False):
            self.env["mail.mail"].process_email_queue(ids=mails.ids)

    def _assert_one_mail_send(self, rule, record):
        sends = self._sends(rule)
        self.assertEqual(len(sends), 1)
        self.assertEqual(sends.state, "mail")
        self.assertEqual(sends.res_model, record._name)
        self.assertEqual(sends.res_id, record.id)
        self.assertEqual(len(self._rule_mails(rule)), 1)
        return sends

    def _assert_skipped(self, rule, reason):
        sends = self._sends(rule)
        self.assertEqual(len(sends), 1)
        self.assertEqual(sends.state, "skipped")
        self.assertEqual(sends.skip_reason, reason)
        self.assertFalse(sends.sent_date)
        self.assertFalse(self._rule_mails(rule), "a skipped send queues no mail")
        return sends


@tagged("post_install", "-at_install")
class TestInfoTriggers(InfoMailingCase):
    """Each trigger queues one send per event from date_start on, and only once."""

    def test_stage_reached_sends_once(self):
        rule = self._create_rule(trigger="stage", trigger_stage_id=self.stage_intent.id)
        self.customer._journey_set_stage(self.stage_intent, "manual")
        history = self._history().filtered(lambda row: row.stage_id == self.stage_intent)

        result = self._run(rule)

        self.assertEqual(result.get("queued"), 1)
        self.assertEqual(result.get("mail"), 1)
        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.occurrence_key, f"history,{history.id}")
        self.assertEqual(send.partner_id, self.customer)
        self.assertEqual(send.email, "info@delinde.example")
        self.assertTrue(send.sent_date)

        again = self._run(rule)

        self.assertFalse(again.get("queued"), "a second run queues nothing")
        self.assertFalse(again.get("mail"))
        self.assertEqual(len(self._sends(rule)), 1)
        self.assertEqual(len(self._rule_mails(rule)), 1)

    def test_stage_before_date_start_ignored(self):
        rule = self._create_rule(trigger="stage", trigger_stage_id=self.stage_intent.id)
        self.customer._journey_set_stage(self.stage_intent, "manual")
        history = self._history().filtered(lambda row: row.stage_id == self.stage_intent)
        history.sudo().date_start = self.date_start - timedelta(days=1)

        result = self._run(rule)

        self.assertFalse(result.get("queued"))
        self.assertFalse(self._sends(rule))

    def test_other_stage_does_not_trigger(self):
        rule = self._create_rule(trigger="stage", trigger_stage_id=self.stage_intent.id)
        self.customer._journey_set_stage(self.stage_consideration, "manual")

        self._run(rule)

        self.assertFalse(self._sends(rule))

    def test_interest_in_rule_product(self):
        rule = self._create_rule()
        interest = self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.trowel)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.occurrence_key, f"interest,{interest.id}")
        self.assertEqual(send.product_ids, self.pot)

    def test_interest_in_category_subtree(self):
        rule = self._create_rule(product_ids=[Command.clear()], categ_ids=[Command.set(self.categ_pots.ids)])
        interest = self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.trowel)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.occurrence_key, f"interest,{interest.id}")
        self.assertIn(self.pot, send.product_ids, "the pot's category is a subcategory of the rule's")

    def test_category_interest(self):
        rule = self._create_rule(product_ids=[Command.clear()], categ_ids=[Command.set(self.categ_pots.ids)])
        interest = self._record_interest(self.customer, categories=self.categ_terracotta)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.occurrence_key, f"interest,{interest.id}")
        self.assertEqual(send.product_ids, self.pot | self.planter, "the first products of the rule's categories")

    def test_category_interest_of_rule_product(self):
        rule = self._create_rule()
        self._record_interest(self.customer, categories=self.categ_terracotta)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.product_ids, self.pot)

    def test_interest_before_date_start_ignored(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot, date=self.date_start - timedelta(days=1))

        self._run(rule)

        self.assertFalse(self._sends(rule))

    def test_campaign_lead_any_campaign(self):
        rule = self._create_rule(target="lead", trigger="campaign_lead")
        lead = self._create_lead(self.contact, campaign_id=self.campaign.id)
        self._create_lead(self.customer_2, name="Pots without campaign")

        self._run(rule)

        send = self._assert_one_mail_send(rule, lead)
        self.assertEqual(send.occurrence_key, f"crm.lead,{lead.id}")
        self.assertEqual(send.lead_id, lead)
        self.assertEqual(send.partner_id, self.customer)
        self.assertEqual(send.email, "an@delinde.example")

    def test_campaign_lead_filtered_by_campaign(self):
        rule = self._create_rule(
            target="lead", trigger="campaign_lead", campaign_ids=[Command.set(self.campaign_2.ids)]
        )
        self._create_lead(self.contact, campaign_id=self.campaign.id)
        lead_2 = self._create_lead(self.customer_2, campaign_id=self.campaign_2.id)

        self._run(rule)

        send = self._assert_one_mail_send(rule, lead_2)
        self.assertEqual(send.partner_id, self.customer_2)

    def test_campaign_lead_before_date_start_ignored(self):
        rule = self._create_rule(target="lead", trigger="campaign_lead")
        lead = self._create_lead(self.contact, campaign_id=self.campaign.id)
        self._set_date(lead, "create_date", self.date_start - timedelta(days=1))

        self._run(rule)

        self.assertFalse(self._sends(rule))

    def test_no_touchpoint_for_days(self):
        rule = self._create_rule(trigger="no_touchpoint", trigger_days=14)
        now = fields.Datetime.now()
        silent = self._create_touchpoint(self.customer, now - timedelta(days=14, minutes=10))
        self._create_touchpoint(self.customer_2, now - timedelta(days=2))
        # Its 14 days of silence ended before date_start, so that event is too old.
        self._create_touchpoint(self.customer_3, now - timedelta(days=30))

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.occurrence_key, f"touchpoint,{silent.id}")

        self._run(rule)

        self.assertEqual(len(self._sends(rule)), 1, "the same silence sends once")

    def test_no_touchpoint_counts_latest_touchpoint(self):
        rule = self._create_rule(trigger="no_touchpoint", trigger_days=14)
        now = fields.Datetime.now()
        self._create_touchpoint(self.customer, now - timedelta(days=14, minutes=10))
        self._create_touchpoint(self.customer, now - timedelta(days=1))

        self._run(rule)

        self.assertFalse(self._sends(rule))

    def test_quotation_sent_not_confirmed(self):
        rule = self._create_rule(trigger="quotation", trigger_days=7)
        order = self._create_sent_quotation(self.contact, sent_days_ago=7.01)
        self._create_sent_quotation(self.customer_2, sent_days_ago=2)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.occurrence_key, f"sale.order,{order.id}")
        self.assertEqual(send.product_ids, self.pot, "the mail shows the quoted product")

    def test_confirmed_quotation_not_selected(self):
        rule = self._create_rule(trigger="quotation", trigger_days=7, stop_stage_id=False)
        order = self._create_sent_quotation(self.contact, sent_days_ago=7.01)
        order.action_confirm()

        self._run(rule)

        self.assertFalse(self._sends(rule))

    def test_quotation_confirmed_while_pending(self):
        rule = self._create_rule(trigger="quotation", trigger_days=7, stop_stage_id=False)
        order = self._create_sent_quotation(self.contact, sent_days_ago=7.01)
        self.assertEqual(rule._queue_due_sends(), 1)

        order.action_confirm()
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "no_longer_due")

    def test_delay_holds_send_back(self):
        rule = self._create_rule(delay_days=2)
        self._record_interest(self.customer, products=self.pot)

        result = self._run(rule)

        self.assertFalse(result.get("queued"), "the interest is not 2 days old yet")
        self.assertFalse(self._sends(rule))

        later = fields.Datetime.now() + timedelta(days=2, minutes=1)
        self._run(rule, now=later)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.due_date, send.trigger_date + timedelta(days=2))


@tagged("post_install", "-at_install")
class TestInfoAudience(InfoMailingCase):
    """The segment and the Extra Filter of a rule limit whom its trigger reaches."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tag_nurseries = cls.env["res.partner.category"].create({"name": "Nurseries"})
        cls.customer_2.category_id = [Command.link(cls.tag_nurseries.id)]
        cls.contact_2 = cls.env["res.partner"].create(
            {"name": "Gert Groen", "parent_id": cls.customer_2.id, "email": "gert@groen.example"}
        )

    def _create_segment(self, target):
        return self.env["customer.journey.segment"].create(
            {"name": f"Nurseries ({target})", "target": target, "tag_ids": [Command.set(self.tag_nurseries.ids)]}
        )

    def test_customer_segment(self):
        rule = self._create_rule(segment_id=self._create_segment("company").id)
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)

        self._run(rule)

        self._assert_one_mail_send(rule, self.customer_2)

    def test_contact_segment(self):
        rule = self._create_rule(segment_id=self._create_segment("contact").id)
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)

        self._run(rule)

        self._assert_one_mail_send(rule, self.customer_2)

    def test_lead_segment(self):
        rule = self._create_rule(target="lead", segment_id=self._create_segment("lead").id)
        self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])
        lead_2 = self._create_lead(self.contact_2, journey_interest_product_ids=[Command.set(self.pot.ids)])

        self._run(rule)

        self._assert_one_mail_send(rule, lead_2)

    def test_extra_filter(self):
        rule = self._create_rule(filter_domain=f"[('id', '=', {self.customer_2.id})]")
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)

        self._run(rule)

        self._assert_one_mail_send(rule, self.customer_2)

    def test_lead_without_customer(self):
        campaign = self.env["utm.campaign"].create({"name": "Open day"})
        rule = self._create_rule(
            target="lead",
            trigger="campaign_lead",
            campaign_ids=[Command.set(campaign.ids)],
            filter_domain=f"[('campaign_id', '=', {campaign.id})]",
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Visitor of the open day",
                "contact_name": "Nina Nieuw",
                "email_from": "nina@nieuw.example",
                "campaign_id": campaign.id,
                "user_id": self.user_salesman.id,
            }
        )

        self._run(rule)

        send = self._assert_one_mail_send(rule, lead)
        self.assertFalse(send.partner_id)
        self.assertEqual(send.email, "nina@nieuw.example")
        mail = self._rule_mails(rule)
        self.assertIn("nina@nieuw.example", mail.email_to)
        self.assertIn("Nina Nieuw", mail.email_to)
        self.assertIn(self.pot.name, str(mail.body_html))


@tagged("post_install", "-at_install")
class TestInfoSendOnce(InfoMailingCase):
    def test_second_run_sends_nothing(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        mail = self._rule_mails(rule)

        result = self._run(rule)

        self.assertFalse(result.get("queued"))
        self.assertFalse(result.get("mail"))
        self.assertEqual(len(self._sends(rule)), 1)
        self.assertEqual(self._rule_mails(rule), mail)

    def test_occurrence_unique(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        send = self._sends(rule)

        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.Send.create(
                {
                    "rule_id": rule.id,
                    "company_id": rule.company_id.id,
                    "occurrence_key": send.occurrence_key,
                    "res_model": "res.partner",
                    "res_id": self.customer.id,
                    "partner_id": self.customer.id,
                }
            )


@tagged("post_install", "-at_install")
class TestInfoFrequencyCap(InfoMailingCase):
    def _create_two_rules(self, cap_days):
        rule_pot = self._create_rule(name="Pots first", sequence=1, cap_days=cap_days)
        rule_planter = self._create_rule(
            name="Planters second", sequence=2, cap_days=cap_days, product_ids=[Command.set(self.planter.ids)]
        )
        self._record_interest(self.customer, products=self.pot | self.planter)
        return rule_pot, rule_planter

    def test_cap_sends_one_rule_per_run(self):
        rule_pot, rule_planter = self._create_two_rules(cap_days=7)

        result = self._run(rule_pot | rule_planter)

        self.assertEqual(result.get("mail"), 1)
        self.assertEqual(self._sends(rule_pot).state, "mail", "the rule with the lowest sequence sends first")
        self.assertFalse(self._sends(rule_planter), "the cap holds the second rule back")

        self._run(rule_pot | rule_planter)

        self.assertFalse(self._sends(rule_planter), "still within the cap")

        self._set_date(self._sends(rule_pot), "sent_date", fields.Datetime.now() - timedelta(days=8))
        self._run(rule_pot | rule_planter)

        self.assertEqual(self._sends(rule_planter).state, "mail", "the cap has passed")
        self.assertEqual(len(self._sends(rule_pot)), 1)

    def test_cap_zero_sends_both_rules(self):
        rule_pot, rule_planter = self._create_two_rules(cap_days=0)

        first = self._run(rule_pot | rule_planter)
        second = self._run(rule_pot | rule_planter)

        self.assertEqual(first.get("mail"), 1, "a pending send holds the other rule back within one run")
        self.assertEqual(second.get("mail"), 1)
        self.assertEqual(self._sends(rule_pot).state, "mail")
        self.assertEqual(self._sends(rule_planter).state, "mail")

    def test_cap_per_customer(self):
        rule_pot, rule_planter = self._create_two_rules(cap_days=7)
        self._record_interest(self.customer_2, products=self.planter)

        self._run(rule_pot | rule_planter)

        planter_sends = self._sends(rule_planter)
        self.assertEqual(len(planter_sends), 1)
        self.assertEqual(planter_sends.partner_id, self.customer_2, "another customer is not capped")


@tagged("post_install", "-at_install")
class TestInfoChannels(InfoMailingCase):
    def test_customer_without_preference_gets_mail(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        mail = self._rule_mails(rule)
        self.assertEqual(mail.mailing_id, rule.mailing_id)
        self.assertEqual(mail.model, "res.partner")
        self.assertEqual(mail.res_id, self.customer.id)
        self.assertIn("info@delinde.example", mail.email_to)
        self.assertEqual(len(mail.mailing_trace_ids), 1)
        self.assertEqual(send.trace_id, mail.mailing_trace_ids)
        self.assertEqual(send.trace_id.mass_mailing_id, rule.mailing_id)
        self.assertEqual(send.trace_id.email, "info@delinde.example")
        self.assertEqual(send.contact_id, self.customer)
        self.assertFalse(send.activity_id)

    def test_contact_preferring_email_gets_mail(self):
        rule = self._create_rule()
        self.customer.email = False
        self.contact.journey_preferred_channel = "email"
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        send = self._assert_one_mail_send(rule, self.customer)
        self.assertEqual(send.contact_id, self.contact, "the customer has no address, its contact has")
        self.assertIn("an@delinde.example", self._rule_mails(rule).email_to)

    def test_lead_contact_gets_mail(self):
        rule = self._create_rule(target="lead")
        lead = self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])

        self._run(rule)

        send = self._assert_one_mail_send(rule, lead)
        mail = self._rule_mails(rule)
        self.assertEqual(mail.model, "crm.lead")
        self.assertIn("an@delinde.example", mail.email_to)
        self.assertEqual(send.contact_id, self.contact)

    def test_phone_preference_plans_call(self):
        rule = self._create_rule(target="lead", product_ids=[Command.set((self.pot | self.planter).ids)])
        self.contact.journey_preferred_channel = "phone"
        lead = self._create_lead(
            self.contact, user_id=self.user_manager.id, journey_interest_product_ids=[Command.set(self.pot.ids)]
        )

        self._run(rule)

        send = self._sends(rule)
        self.assertEqual(send.state, "activity")
        self.assertFalse(self._rule_mails(rule), "a call needs no mail")
        activity = send.activity_id
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertEqual(activity.user_id, self.user_manager, "the lead's salesperson calls")
        self.assertEqual(activity.res_model, "crm.lead")
        self.assertEqual(activity.res_id, lead.id)
        self.assertIn(self.pot.name, str(activity.note))
        self.assertIn(self.planter.name, str(activity.note))
        self.assertEqual(send.user_id, self.user_manager)

    def test_visit_preference_plans_meeting(self):
        rule = self._create_rule()
        self.customer.write({"journey_preferred_channel": "visit", "user_id": self.user_manager.id})
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        send = self._sends(rule)
        self.assertEqual(send.state, "activity")
        self.assertEqual(send.activity_id.activity_type_id, self.env.ref("mail.mail_activity_data_meeting"))
        self.assertEqual(send.activity_id.user_id, self.user_manager, "the customer's salesperson visits")
        self.assertIn(self.pot.name, str(send.activity_id.note))

    def test_activity_falls_back_to_responsible(self):
        rule = self._create_rule()
        self.customer.journey_preferred_channel = "phone"
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        self.assertEqual(self._sends(rule).activity_id.user_id, self.user_salesman)

    def test_no_salesperson_skipped(self):
        rule = self._create_rule(target="lead", user_id=False)
        self.contact.journey_preferred_channel = "phone"
        self._create_lead(self.contact, user_id=False, journey_interest_product_ids=[Command.set(self.pot.ids)])

        self._run(rule)

        send = self._assert_skipped(rule, "no_salesperson")
        self.assertFalse(send.activity_id)
        self.assertFalse(
            self.env["mail.activity"].search([("res_model", "=", "crm.lead"), ("summary", "ilike", rule.name)])
        )


@tagged("post_install", "-at_install")
class TestInfoSkips(InfoMailingCase):
    def test_blacklisted_address(self):
        rule = self._create_rule()
        self.env["mail.blacklist"].create({"email": "info@delinde.example"})
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        send = self._assert_skipped(rule, "blacklist")
        self.assertEqual(send.skip_detail, "info@delinde.example")

    def test_customer_opted_out(self):
        rule = self._create_rule()
        self.customer.journey_info_opt_out = True
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        self._assert_skipped(rule, "opt_out")

    def test_contact_opted_out(self):
        rule = self._create_rule(target="lead")
        self.contact.journey_info_opt_out = True
        self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])

        self._run(rule)

        self._assert_skipped(rule, "opt_out")

    def test_company_opt_out_covers_lead_contact(self):
        rule = self._create_rule(target="lead")
        self.customer.journey_info_opt_out = True
        self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])

        self._run(rule)

        self._assert_skipped(rule, "opt_out")

    def test_no_email(self):
        rule = self._create_rule()
        customer = self._create_customer("Boomkwekerij Zonder Mail", False)
        self._record_interest(customer, products=self.pot)

        self._run(rule)

        self._assert_skipped(rule, "no_email")

    def test_invalid_email(self):
        rule = self._create_rule()
        customer = self._create_customer("Boomkwekerij Typfout", "inkoop-at-typfout")
        self._record_interest(customer, products=self.pot)

        self._run(rule)

        send = self._assert_skipped(rule, "no_email")
        self.assertEqual(send.skip_detail, "inkoop-at-typfout")

    def test_customer_of_other_company(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Noord"})
        rule = self._create_rule(trigger="stage", trigger_stage_id=self.stage_intent.id)
        customer_b = self._create_customer("Tuincentrum Noord", "info@noord.example", company_id=company_b.id)
        customer_b._journey_set_stage(self.stage_intent, "manual")
        history = self.env["customer.journey.history"].search(
            [("partner_id", "=", customer_b.id), ("stage_id", "=", self.stage_intent.id)]
        )
        # An event of this company about the other company's customer, as a lead of
        # this company for that customer records it.
        self.env.cr.execute(
            "UPDATE customer_journey_history SET company_id = %s WHERE id = %s", (rule.company_id.id, history.id)
        )

        self._run(rule)

        send = self._assert_skipped(rule, "other_company")
        self.assertEqual(send.partner_id, customer_b)

    def test_other_company_events_not_selected(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Noord"})
        rule = self._create_rule(trigger="stage", trigger_stage_id=self.stage_intent.id)
        customer_b = self._create_customer("Tuincentrum Noord", "info@noord.example", company_id=company_b.id)
        customer_b._journey_set_stage(self.stage_intent, "manual")

        self._run(rule)

        # The other company's own journey does not concern this rule, so no send
        # shows its customer to this company's users.
        self.assertFalse(self._sends(rule))

    def test_stop_stage_reached_while_pending(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(), 1)

        self.customer._journey_set_stage(self.stage_conversion, "manual")
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "stop_stage")

    def test_stop_stage_reached_before_selection(self):
        rule = self._create_rule()
        self.customer._journey_set_stage(self.stage_conversion, "manual")
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        self.assertFalse(self._sends(rule), "a customer past the stop stage is not selected")

    def test_lead_won_while_pending(self):
        rule = self._create_rule(target="lead")
        lead = self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])
        self.assertEqual(rule._queue_due_sends(), 1)

        lead.action_set_won()
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "lead_closed")

    def test_lead_lost_while_pending(self):
        rule = self._create_rule(target="lead")
        lead = self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])
        self.assertEqual(rule._queue_due_sends(), 1)

        lead.action_set_lost()
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "lead_closed")

    def test_customer_archived_while_pending(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(), 1)

        self.customer.active = False
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "record_gone")

    def test_lead_deleted_while_pending(self):
        rule = self._create_rule(target="lead")
        lead = self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])
        self.assertEqual(rule._queue_due_sends(), 1)

        lead.unlink()
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "record_gone")

    def test_product_no_longer_for_sale(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(), 1)

        self.pot.sale_ok = False
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "no_product")

    def test_rule_archived_while_pending(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(), 1)

        rule.active = False
        self.Send._dispatch_pending(rule)

        self._assert_skipped(rule, "rule_archived")

    def test_scheduled_action_skips_archived_rules(self):
        archived_rule = self._create_rule(name="Archived pots", active=False)
        rule = self._create_rule(name="Active pots")
        self._record_interest(self.customer, products=self.pot)

        self.Send._cron_send_info()

        self.assertFalse(self._sends(archived_rule))
        self._assert_one_mail_send(rule, self.customer)


@tagged("post_install", "-at_install")
class TestInfoMailContent(InfoMailingCase):
    def _mail_body(self, rule):
        mail = self._rule_mails(rule)
        self.assertEqual(len(mail), 1)
        return str(mail.body_html)

    def test_recipient_language(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.pot.with_context(lang="nl_NL").write({"name": "Terracotta bloempot 40 cm"})
        self.customer.lang = "nl_NL"
        self.customer_2.lang = "en_US"
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)

        self._run(rule)

        mails = self._rule_mails(rule)
        dutch = mails.filtered(lambda mail: mail.res_id == self.customer.id)
        english = mails.filtered(lambda mail: mail.res_id == self.customer_2.id)
        self.assertIn("Terracotta bloempot 40 cm", str(dutch.body_html))
        self.assertNotIn("Terracotta pot 40 cm", str(dutch.body_html))
        self.assertIn("Terracotta pot 40 cm", str(english.body_html))
        self.assertNotIn("Terracotta bloempot 40 cm", str(english.body_html))

    def test_default_template_in_dutch(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"]._load_module_terms(["wholesale_customer_journey"], ["nl_NL"], overwrite=True)
        self.customer.lang = "nl_NL"
        self.customer_2.lang = "en_US"
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)

        self._run(rule)

        mails = self._rule_mails(rule)
        dutch = mails.filtered(lambda mail: mail.res_id == self.customer.id)
        english = mails.filtered(lambda mail: mail.res_id == self.customer_2.id)
        self.assertTrue(dutch.subject.startswith("Productinformatie voor"))
        self.assertIn("Deze producten kunnen u interesseren.", str(dutch.body_html))
        self.assertIn("Beschikbaarheid op aanvraag", str(dutch.body_html))
        self.assertNotIn("These products may interest you.", str(dutch.body_html))
        self.assertTrue(english.subject.startswith("Product information for"))
        self.assertIn("These products may interest you.", str(english.body_html))

    def _create_pricelist(self, name, price):
        return self.env["product.pricelist"].create(
            {
                "name": name,
                "currency_id": self.company.currency_id.id,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "1_product",
                            "product_tmpl_id": self.pot.id,
                            "compute_price": "fixed",
                            "fixed_price": price,
                        }
                    )
                ],
            }
        )

    def test_customer_pricelist_price(self):
        self.customer.property_product_pricelist = self._create_pricelist("Garden centres", 17.25)
        self.customer_2.property_product_pricelist = self._create_pricelist("Nurseries", 18.75)
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)

        self._run(rule)

        mails = self._rule_mails(rule)
        body = str(mails.filtered(lambda mail: mail.res_id == self.customer.id).body_html)
        body_2 = str(mails.filtered(lambda mail: mail.res_id == self.customer_2.id).body_html)
        self.assertIn("17.25", body)
        self.assertNotIn("20.00", body, "the customer's price replaces the sales price")
        self.assertNotIn("18.75", body)
        self.assertIn("18.75", body_2)
        self.assertNotIn("17.25", body_2)

    def test_product_documents(self):
        Document = self.env["product.document"]
        datasheet = Document.create(
            {
                "name": "Datasheet terracotta.pdf",
                "res_model": "product.template",
                "res_id": self.pot.id,
                "datas": base64.b64encode(b"%PDF-1.4 datasheet"),
                "attached_on_sale": "quotation",
            }
        )
        internal = Document.create(
            {
                "name": "Purchase conditions.pdf",
                "res_model": "product.template",
                "res_id": self.pot.id,
                "datas": base64.b64encode(b"%PDF-1.4 internal"),
                "attached_on_sale": "hidden",
            }
        )
        Document.create(
            {
                "name": "Care instructions",
                "type": "url",
                "url": "https://www.example.com/care-terracotta",
                "res_model": "product.template",
                "res_id": self.pot.id,
                "attached_on_sale": "quotation",
            }
        )
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        mail = self._rule_mails(rule)
        self.assertIn(datasheet.ir_attachment_id, mail.attachment_ids)
        self.assertNotIn(internal.ir_attachment_id, mail.attachment_ids, "a hidden document stays internal")
        self.assertEqual(len(mail.attachment_ids), 1)
        body = str(mail.body_html)
        self.assertIn("Care instructions", body)
        link = self.env["link.tracker"].search(
            [("url", "=", "https://www.example.com/care-terracotta"), ("mass_mailing_id", "=", rule.mailing_id.id)]
        )
        self.assertEqual(len(link), 1, "the link document becomes a tracked link of the rule's mailing")
        self.assertIn(link.short_url, body)

    def test_documents_not_attached_when_disabled(self):
        self.env["product.document"].create(
            {
                "name": "Datasheet terracotta.pdf",
                "res_model": "product.template",
                "res_id": self.pot.id,
                "datas": base64.b64encode(b"%PDF-1.4 datasheet"),
                "attached_on_sale": "quotation",
            }
        )
        rule = self._create_rule(attach_documents=False)
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        self.assertFalse(self._rule_mails(rule).attachment_ids)

    def test_max_products(self):
        products = self.pot | self.planter | self.trowel
        rule = self._create_rule(product_ids=[Command.set(products.ids)], max_products=2)
        self._record_interest(self.customer, products=self.trowel)

        self._run(rule)

        send = self._sends(rule)
        self.assertEqual(len(send.product_ids), 2)
        self.assertIn(self.trowel, send.product_ids, "the product of the interest comes first")
        body = self._mail_body(rule)
        products_in_body = products.filtered(lambda product: product.name in body)
        self.assertEqual(len(products_in_body), 2)


@tagged("post_install", "-at_install")
class TestInfoTouchpoints(InfoMailingCase):
    def _send_one_mail(self, rule):
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        send = self._sends(rule)
        self._process_mails(self._rule_mails(rule))
        return send

    def _trace_touchpoints(self, trace, origin):
        return self.env["customer.journey.touchpoint"].search(
            [("res_model", "=", "mailing.trace"), ("res_id", "=", trace.id), ("origin", "=", origin)]
        )

    def test_sent_mail_records_touchpoint(self):
        rule = self._create_rule()

        send = self._send_one_mail(rule)

        self.assertEqual(len(self._mails), 1)
        self.assertIn("info@delinde.example", self._mails[0]["email_to"][0])
        body = self._mails[0]["body"]
        self.assertIn("/mail/track/", body, "Odoo adds the open tracking pixel of the mailing")
        self.assertIn(f"/mailing/{rule.mailing_id.id}/confirm_unsubscribe", body)
        self.assertIn("email=info%40delinde.example", body, "the unsubscribe link is the recipient's")
        self.assertNotIn("/unsubscribe_from_list", body)
        self.assertEqual(send.trace_id.trace_status, "sent")
        touchpoint = self._trace_touchpoints(send.trace_id, "info_mail")
        self.assertEqual(len(touchpoint), 1)
        self.assertEqual(touchpoint.partner_id, self.customer)
        self.assertEqual(touchpoint.channel, "email")
        self.assertEqual(touchpoint.direction, "outbound")
        self.assertEqual(touchpoint.company_id, rule.company_id)
        self.assertIn(rule.name, touchpoint.name)
        self.assertNotIn("{{", touchpoint.name, "the summary shows no template code")

    def test_sent_lead_mail_touchpoint(self):
        rule = self._create_rule(target="lead")
        self._create_lead(self.contact, journey_interest_product_ids=[Command.set(self.pot.ids)])
        self._run(rule)
        send = self._sends(rule)

        self._process_mails(self._rule_mails(rule))

        self.assertEqual(send.trace_id.trace_status, "sent")
        touchpoint = self._trace_touchpoints(send.trace_id, "info_mail")
        self.assertEqual(len(touchpoint), 1)
        self.assertEqual(touchpoint.partner_id, self.customer)
        self.assertEqual(touchpoint.contact_id, self.contact)

    def test_open_click_touchpoints_no_lead(self):
        rule = self._create_rule()
        self.assertEqual(rule.mailing_id.journey_lead_creation, "off")
        send = self._send_one_mail(rule)
        leads_before = self.env["crm.lead"].search_count([("partner_id", "child_of", self.customer.id)])

        send.trace_id.set_opened()
        send.trace_id.set_clicked()

        self.assertEqual(len(self._trace_touchpoints(send.trace_id, "mailing_open")), 1)
        self.assertEqual(len(self._trace_touchpoints(send.trace_id, "mailing_click")), 1)
        self.assertTrue(send.opened)
        self.assertTrue(send.clicked)
        leads_after = self.env["crm.lead"].search_count([("partner_id", "child_of", self.customer.id)])
        self.assertEqual(leads_after, leads_before, "a click on product information creates no lead")


@tagged("post_install", "-at_install")
class TestInfoStatistics(InfoMailingCase):
    def _create_order(self, partner=None, qty=10):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.contact).id,
                "order_line": [Command.create({"product_id": self.pot.product_variant_id.id, "product_uom_qty": qty})],
            }
        )

    def test_rule_statistics(self):
        rule = self._create_rule()
        self.customer_2.journey_preferred_channel = "phone"
        self.env["mail.blacklist"].create({"email": "info@blad.example"})
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)
        self._record_interest(self.customer_3, products=self.pot)

        self._run(rule)
        mail_send = self._sends(rule).filtered(lambda send: send.state == "mail")
        self._process_mails(self._rule_mails(rule))
        mail_send.trace_id.set_opened()
        mail_send.trace_id.set_clicked()
        self._create_order(self.contact).action_confirm()
        rule.invalidate_recordset()

        self.assertEqual(rule.mail_count, 1)
        self.assertEqual(rule.activity_count, 1)
        self.assertEqual(rule.skipped_count, 1)
        self.assertEqual(rule.pending_count, 0)
        self.assertEqual(rule.opened_count, 1)
        self.assertEqual(rule.clicked_count, 1)
        self.assertEqual(rule.converted_count, 1, "De Linde ordered after the mail")
        self.assertEqual(rule.opened_ratio, 100.0)
        self.assertEqual(rule.converted_ratio, 50.0)

    def test_order_after_window_not_converted(self):
        rule = self._create_rule(conversion_days=30)
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        self._set_date(self._sends(rule), "sent_date", fields.Datetime.now() - timedelta(days=31))

        self._create_order(self.contact).action_confirm()
        rule.invalidate_recordset()

        self.assertEqual(rule.mail_count, 1)
        self.assertEqual(rule.converted_count, 0)

    def test_order_before_send_not_converted(self):
        rule = self._create_rule(stop_stage_id=False)
        order = self._create_order(self.contact)
        order.action_confirm()
        self._set_date(order, "date_order", fields.Datetime.now() - timedelta(days=1))
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        rule.invalidate_recordset()

        self.assertEqual(rule.mail_count, 1)
        self.assertEqual(rule.converted_count, 0)


@tagged("post_install", "-at_install")
class TestInfoPreviewAndTest(InfoMailingCase):
    def _preview_lines(self, rule):
        action = rule.with_user(self.user_journey).action_preview_recipients()
        preview = self.env[action["res_model"]].browse(action["res_id"])
        return preview, {line.customer_id: line for line in preview.line_ids}

    def test_preview_lists_outcomes(self):
        rule = self._create_rule()
        self.customer_2.journey_preferred_channel = "phone"
        self.env["mail.blacklist"].create({"email": "info@blad.example"})
        self._record_interest(self.customer, products=self.pot)
        self._record_interest(self.customer_2, products=self.pot)
        self._record_interest(self.customer_3, products=self.pot)

        preview, lines = self._preview_lines(rule)

        self.assertEqual(preview.due_count, 3)
        self.assertEqual(preview.capped_count, 0)
        self.assertEqual(lines[self.customer].outcome, "mail")
        self.assertEqual(lines[self.customer].email, "info@delinde.example")
        self.assertEqual(lines[self.customer_2].outcome, "activity")
        self.assertEqual(lines[self.customer_2].user_id, self.user_salesman)
        self.assertEqual(lines[self.customer_3].outcome, "skipped")
        self.assertEqual(lines[self.customer_3].skip_reason, "blacklist")
        self.assertIn(self.pot.name, lines[self.customer].products)
        self.assertFalse(self._sends(rule), "a preview queues nothing")
        self.assertFalse(self._rule_mails(rule))

    def test_preview_lists_capped(self):
        rule_pot = self._create_rule(name="Pots first", sequence=1)
        rule_planter = self._create_rule(
            name="Planters second", sequence=2, product_ids=[Command.set(self.planter.ids)]
        )
        self._record_interest(self.customer, products=self.pot | self.planter)
        self._run(rule_pot | rule_planter)

        preview, lines = self._preview_lines(rule_planter)

        self.assertEqual(preview.capped_count, 1)
        self.assertEqual(lines[self.customer].outcome, "capped")
        self.assertFalse(self._sends(rule_planter))

    def test_send_test_to_me(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)

        with self.mock_mail_gateway():
            action = rule.with_user(self.user_journey).action_send_test()

        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(len(self._mails), 1)
        self.assertEqual(self._mails[0]["email_to"], ['"Jan Journey" <jan@example.com>'])
        self.assertTrue(self._mails[0]["subject"].startswith("[Test]"))
        self.assertIn(self.pot.name, self._mails[0]["body"])
        self.assertFalse(self._sends(rule), "a test mail is no send")

    def test_send_test_without_user_email(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        user = mail_new_test_user(
            self.env, login="journey_no_email", email=False, groups="wholesale_customer_journey.group_journey_user"
        )

        with self.assertRaises(UserError) as error:
            rule.with_user(user).action_send_test()

        self.assertIn("email address in your preferences", str(error.exception))

    def test_send_test_empty_audience(self):
        rule = self._create_rule(filter_domain="[('id', '=', 0)]")

        with self.assertRaises(UserError) as error:
            rule.action_send_test()

        self.assertIn("Widen the audience", str(error.exception))


@tagged("post_install", "-at_install")
class TestInfoRuleConstraints(InfoMailingCase):
    def _assert_rejected(self, field_text, **vals):
        with self.assertRaises(ValidationError) as error:
            self._create_rule(**vals)
        self.assertIn(field_text, str(error.exception))

    def test_template_required(self):
        self._assert_rejected("Mail Template", mail_template_id=False)

    def test_template_of_audience_model(self):
        lead_template = self.env.ref("wholesale_customer_journey.mail_template_info_lead")

        with self.assertRaises(ValidationError) as error:
            self._create_rule(target="customer", mail_template_id=lead_template.id)

        self.assertIn("mail template", str(error.exception).lower())
        self.assertIn(lead_template.name, str(error.exception))

    def test_negative_delay(self):
        rule = self._create_rule()

        with self.assertRaises(ValidationError) as error:
            rule.delay_days = -1

        self.assertIn("Delay (Days)", str(error.exception))

    def test_negative_delay_on_create(self):
        with self.assertRaises(ValidationError) as error:
            self._create_rule(delay_days=-1)

        self.assertIn("Delay (Days)", str(error.exception))

    def test_stage_trigger_needs_stage(self):
        self._assert_rejected("Stage Reached", trigger="stage", trigger_stage_id=False)

    def test_stop_stage_before_trigger_stage(self):
        self._assert_rejected(
            "Stop at Stage",
            trigger="stage",
            trigger_stage_id=self.stage_intent.id,
            stop_stage_id=self.stage_consideration.id,
        )

    def test_stop_stage_equal_to_trigger_stage(self):
        self._assert_rejected(
            "Stop at Stage",
            trigger="stage",
            trigger_stage_id=self.stage_intent.id,
            stop_stage_id=self.stage_intent.id,
        )

    def test_products_or_categories_required(self):
        self._assert_rejected("products", product_ids=[Command.clear()], categ_ids=[Command.clear()])

    def test_no_touchpoint_needs_days(self):
        self._assert_rejected("After (Days)", trigger="no_touchpoint", trigger_days=0)

    def test_invalid_extra_filter(self):
        self._assert_rejected("Extra Filter", filter_domain="[('no_such_field', '=', 1)]")

    def test_extra_filter_not_a_list(self):
        self._assert_rejected("Extra Filter", filter_domain="42")

    def test_segment_of_other_target(self):
        lead_segment = self.env["customer.journey.segment"].create({"name": "Open leads", "target": "lead"})

        with self.assertRaises(ValidationError) as error:
            self._create_rule(target="customer", segment_id=lead_segment.id)

        self.assertIn("segment", str(error.exception).lower())
        self.assertIn(lead_segment.name, str(error.exception))


@tagged("post_install", "-at_install")
class TestInfoAccess(InfoMailingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Groothandel Noord"})
        cls.user_company_b = mail_new_test_user(
            cls.env,
            login="journey_info_noord",
            name="Noor Noord",
            email="noor@example.com",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
            groups="wholesale_customer_journey.group_journey_user",
        )

    def _rule_with_send(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        return rule, self._sends(rule)

    def test_internal_user_reads_only(self):
        rule, send = self._rule_with_send()
        Rule = self.Rule.with_user(self.user_employee)

        self.assertEqual(rule.with_user(self.user_employee).name, "Terracotta information")
        self.assertEqual(rule.with_user(self.user_employee).mail_count, 1)
        self.assertEqual(send.with_user(self.user_employee).state, "mail")
        with self.assertRaises(AccessError):
            rule.with_user(self.user_employee).name = "Renamed"
        with self.assertRaises(AccessError):
            Rule.create(
                {
                    "name": "Employee rule",
                    "target": "customer",
                    "product_ids": [Command.set(self.pot.ids)],
                    "mail_template_id": self.env.ref("wholesale_customer_journey.mail_template_info_customer").id,
                }
            )

    def test_journey_user_cannot_configure(self):
        rule = self._create_rule()

        with self.assertRaises(AccessError):
            rule.with_user(self.user_journey).name = "Renamed by the journey user"
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.user_journey).create(
                {
                    "name": "Rule of a journey user",
                    "target": "customer",
                    "product_ids": [Command.set(self.pot.ids)],
                }
            )

    def test_journey_manager_creates_rule(self):
        manager = mail_new_test_user(
            self.env,
            login="journey_info_manager",
            name="Mia Manager",
            email="mia@example.com",
            groups="wholesale_customer_journey.group_journey_manager",
        )
        rule = self.Rule.with_user(manager).create(
            {
                "name": "Rule of a journey manager",
                "target": "customer",
                "product_ids": [Command.set(self.pot.ids)],
            }
        )

        self.assertTrue(rule.mailing_id, "the tracking mailing is created for the manager")
        self.assertEqual(rule.mail_template_id, self.env.ref("wholesale_customer_journey.mail_template_info_customer"))
        rule.name = "Renamed by the journey manager"
        self.assertEqual(rule.name, "Renamed by the journey manager")

    def test_portal_user_reads_nothing(self):
        rule, send = self._rule_with_send()

        with self.assertRaises(AccessError):
            rule.with_user(self.user_portal).read(["name"])
        with self.assertRaises(AccessError):
            send.with_user(self.user_portal).read(["state"])

    def test_other_company_user_isolated(self):
        rule, send = self._rule_with_send()
        rule_b = self._create_rule(name="Noord information", company_id=self.company_b.id, user_id=self.user_company_b.id)

        visible_rules = self.Rule.with_user(self.user_company_b).search([])
        visible_sends = self.Send.with_user(self.user_company_b).search([])

        self.assertNotIn(rule, visible_rules)
        self.assertIn(rule_b, visible_rules)
        self.assertNotIn(send, visible_sends)
        with self.assertRaises(AccessError):
            rule.with_user(self.user_company_b).read(["name"])
        with self.assertRaises(AccessError):
            send.with_user(self.user_company_b).read(["state"])


@tagged("post_install", "-at_install")
class TestInfoRobustness(InfoMailingCase):
    """Misuse and failures that must neither mail the wrong people nor stop the other rules."""

    def test_tracking_mailing_cannot_be_sent(self):
        rule = self._create_rule()
        mailing = rule.mailing_id

        for action in ("action_test", "action_launch", "action_schedule", "action_put_in_queue", "action_retry_failed"):
            with self.subTest(action=action), self.assertRaises(UserError) as error:
                getattr(mailing, action)()
            self.assertIn(rule.name, str(error.exception))
        with self.assertRaises(UserError):
            mailing.unlink()

    def test_queued_tracking_mailing_sends_nothing(self):
        rule = self._create_rule()
        rule.mailing_id.write({"state": "in_queue"})

        with self.mock_mail_gateway():
            self.env["mailing.mailing"]._process_mass_mailing_queue()

        self.assertEqual(rule.mailing_id.state, "done")
        self.assertFalse(self._rule_mails(rule), "the mass mailing queue creates no mail for it")

    def test_broken_filter_other_rules_go_on(self):
        broken = self._create_rule(name="Broken filter", sequence=1)
        sound = self._create_rule(name="Sound rule", sequence=2, product_ids=[Command.set(self.planter.ids)], cap_days=0)
        # A filter on a field that no longer exists, as after uninstalling a module.
        self.env.cr.execute(
            "UPDATE customer_journey_info_rule SET filter_domain = %s WHERE id = %s",
            ("[('no_such_field', '=', 1)]", broken.id),
        )
        broken.invalidate_recordset()
        self._record_interest(self.customer, products=self.pot | self.planter)

        with mute_logger("odoo.addons.wholesale_customer_journey.models.customer_journey_info_rule"):
            self._run(broken | sound)

        self.assertEqual(len(self._sends(sound).filtered(lambda send: send.state == "mail")), 1)
        self.assertFalse(self._sends(broken))
        self.assertIn("no_such_field", broken.selection_error)

        broken.filter_domain = self._audience_filter("customer")
        self._run(broken, now=fields.Datetime.now() + timedelta(days=8))
        self.assertFalse(broken.selection_error, "a sound selection clears the error")

    def test_archived_rule_pending_skipped(self):
        rule = self._create_rule()
        other = self._create_rule(name="Planter information", product_ids=[Command.set(self.planter.ids)])
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(), 1)
        rule.action_archive()
        self._record_interest(self.customer, products=self.planter)

        # A normal run, with the active rules only, ends the archived rule's pending send.
        self.Send._run_info_rules(now=fields.Datetime.now() + timedelta(seconds=1))
        self._run(other)

        self.assertEqual(self._sends(rule).skip_reason, "rule_archived")
        self.assertEqual(self._sends(other).state, "mail", "the pending send no longer holds the customer back")

    def test_copied_rule_starts_now(self):
        rule = self._create_rule()

        copy = rule.copy()

        self.assertGreater(copy.date_start, rule.date_start)

    def test_interests_recorded_together_one_mail(self):
        rule = self._create_rule(product_ids=[Command.set((self.pot | self.planter).ids)], cap_days=0)
        self._record_interest(self.customer, products=self.pot | self.planter)

        self._run(rule)
        self._run(rule, now=fields.Datetime.now() + timedelta(hours=2))

        sends = self._sends(rule)
        mails = sends.filtered(lambda send: send.state == "mail")
        covered = sends.filtered(lambda send: send.skip_reason == "covered")
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.product_ids, self.pot | self.planter)
        self.assertEqual(len(covered), 1)
        self.assertEqual(covered.skip_detail, mails.occurrence_key)

    def test_other_company_product_not_shown(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Noord"})
        secret = self.env["product.template"].create(
            {"name": "Noord exclusive pot", "categ_id": self.categ_terracotta.id, "company_id": company_b.id}
        )
        rule = self._create_rule(product_ids=[Command.clear()], categ_ids=[Command.set(self.categ_pots.ids)])
        self._record_interest(self.customer, categories=self.categ_terracotta)

        self._run(rule)

        send = self._sends(rule)
        self.assertEqual(send.state, "mail")
        self.assertNotIn(secret, send.product_ids)
        self.assertNotIn("Noord exclusive pot", self._rule_mails(rule).body_html)

    def test_send_test_needs_journey_user(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)

        with self.assertRaises(AccessError):
            rule.with_user(self.user_employee).action_send_test()
        with self.assertRaises(AccessError):
            rule.with_user(self.user_employee).action_preview_recipients()

    def test_transient_error_keeps_pending(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(), 1)

        def fail(*args, **kwargs):
            raise psycopg2.errors.SerializationFailure("could not serialize access")

        with patch.object(type(self.Send), "_dispatch_rule", fail), self.assertRaises(
            psycopg2.errors.SerializationFailure
        ):
            self.Send._dispatch_pending(rule)

        self.assertEqual(self._sends(rule).state, "pending", "the send waits for the next run")

    def test_archived_customer_of_lead_skipped(self):
        rule = self._create_rule(target="lead")
        lead = self._create_lead(self.contact)
        self._record_interest(self.customer, products=self.pot)
        self.assertEqual(rule._queue_due_sends(now=fields.Datetime.now() + timedelta(seconds=1)), 1)

        self.customer.action_archive()
        self.Send._dispatch_pending(rule)

        send = self._assert_skipped(rule, "record_gone")
        self.assertEqual(send.res_id, lead.id)

    def test_documents_sentence_only_with_attachments(self):
        rule = self._create_rule(cap_days=0)
        self._record_interest(self.customer, products=self.pot)

        self._run(rule)

        self.assertFalse(self._rule_mails(rule).attachment_ids)
        self.assertNotIn("The attached documents tell more.", str(self._rule_mails(rule).body_html))

    def test_unsellable_products_rejected(self):
        self.pot.sale_ok = False

        with self.assertRaises(ValidationError) as error:
            self._create_rule()

        self.assertIn("Can be Sold", str(error.exception))

    def test_send_test_delivery_failure_reported(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)

        delivery_error = MailDeliveryException("Unable to connect to SMTP Server")
        with patch.object(type(self.env["ir.mail_server"]), "send_email", side_effect=delivery_error), mute_logger(
            "odoo.addons.mail.models.mail_mail"
        ), self.assertRaises(UserError) as error:
            rule.with_user(self.user_journey).action_send_test()

        self.assertIn("could not be sent", str(error.exception))

    def test_reply_reaches_customer(self):
        rule = self._create_rule()
        self._record_interest(self.customer, products=self.pot)
        self._run(rule)
        mail = self._rule_mails(rule)
        message_id, subject = mail.message_id, mail.subject
        self._process_mails(mail)
        # The mail queue deletes a sent mail: its message must stay for the reply to find.
        mail.unlink()
        raw = (
            f"Return-Path: <{self.customer.email}>\n"
            f"To: sales@example.com\n"
            f"From: {self.customer.email}\n"
            f"Subject: Re: {subject}\n"
            f"Message-ID: <info-reply-1@delinde.example>\n"
            f"In-Reply-To: {message_id}\n"
            f"References: {message_id}\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0100\n"
            f'Content-Type: text/plain; charset="utf-8"\n\n'
            f"Graag een offerte voor 40 potten.\n"
        )

        self.env["mail.thread"].message_process(None, raw)

        reply = self.env["mail.message"].search([("message_id", "=", "<info-reply-1@delinde.example>")])
        self.assertEqual(reply.model, "res.partner")
        self.assertEqual(reply.res_id, self.customer.id)

    def test_broken_filters_each_keep_error(self):
        first = self._create_rule(name="First broken", sequence=1)
        second = self._create_rule(name="Second broken", sequence=2)
        for rule in first | second:
            self.env.cr.execute(
                "UPDATE customer_journey_info_rule SET filter_domain = %s WHERE id = %s",
                ("[('no_such_field', '=', 1)]", rule.id),
            )
        (first | second).invalidate_recordset()

        with mute_logger("odoo.addons.wholesale_customer_journey.models.customer_journey_info_rule"):
            self._run(first | second)
        self.env.invalidate_all()

        self.assertIn("no_such_field", first.selection_error)
        self.assertIn("no_such_field", second.selection_error)

    def test_responsible_of_rule_company(self):
        company_b = self.env["res.company"].create({"name": "Groothandel Noord"})
        user_b = mail_new_test_user(
            self.env,
            login="journey_info_noord_only",
            name="Nina Noord",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
            groups="base.group_user",
        )

        with self.assertRaises(ValidationError) as error:
            self._create_rule(user_id=user_b.id)

        self.assertIn("Nina Noord", str(error.exception))
