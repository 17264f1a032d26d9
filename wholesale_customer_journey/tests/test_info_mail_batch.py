# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from .common import JourneyCase


@tagged("post_install", "-at_install")
class TestInfoMailBatch(JourneyCase):
    """Product information mails queued in batches: touchpoints, rendering, query count."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pots = cls.env["product.template"].create(
            [{"name": f"Terracotta pot {size} cm", "list_price": size} for size in (20, 30)]
        )
        cls.rule = cls.env["customer.journey.info.rule"].create(
            {
                "name": "Terracotta pots",
                "trigger": "interest",
                "target": "lead",
                "product_ids": [Command.set(cls.pots.ids)],
                "date_start": fields.Datetime.now() - timedelta(days=1),
            }
        )
        cls.Send = cls.env["customer.journey.info.send"]
        cls.customer_count = 0

    def _create_interested_leads(self, count):
        """Create ``count`` customers, each with a contact and a lead interested in a pot."""
        leads = self.env["crm.lead"]
        for _index in range(count):
            self.__class__.customer_count += 1
            number = self.customer_count
            customer = self.env["res.partner"].create({"name": f"Tuincentrum {number}", "is_company": True})
            contact = self.env["res.partner"].create(
                {"name": f"Koper {number}", "parent_id": customer.id, "email": f"koper{number}@tuin.example"}
            )
            leads |= self.env["crm.lead"].create(
                {
                    "name": f"Potten {number}",
                    "partner_id": contact.id,
                    "journey_interest_product_ids": [Command.set(self.pots[:1].ids)],
                }
            )
        return leads

    def _info_mails(self, leads):
        return self.env["mail.mail"].search(
            [("mailing_id", "=", self.rule.mailing_id.id), ("model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
        )

    def _dispatch_compile_count(self, count):
        """Queue the sends of ``count`` new leads and return how often their batch compiled QWeb code."""
        leads = self._create_interested_leads(count)
        self.rule._queue_due_sends()
        IrQWeb = type(self.env["ir.qweb"])
        generate_code = IrQWeb._generate_code
        templates = []

        def counted_generate_code(qweb, template):
            templates.append(template)
            return generate_code(qweb, template)

        with patch.object(IrQWeb, "_generate_code", counted_generate_code):
            self.Send._dispatch_pending(self.rule, batch_size=50)
        self.assertEqual(len(self._info_mails(leads)), count)
        return len(templates)

    def _dispatch_query_count(self, count):
        """Queue the sends of ``count`` new leads and return the queries of their one batch."""
        leads = self._create_interested_leads(count)
        self.assertEqual(self.rule._queue_due_sends(), count)
        self.env.flush_all()
        self.env.invalidate_all()
        queries_before = self.env.cr.sql_log_count
        totals = self.Send._dispatch_pending(self.rule, batch_size=50)
        queries = self.env.cr.sql_log_count - queries_before
        self.assertEqual(totals["mail"], count)
        self.assertEqual(len(self._info_mails(leads)), count)
        return queries

    def test_info_mail_touchpoint_once_when_sent(self):
        lead = self._create_interested_leads(1)
        customer = lead.partner_id.commercial_partner_id

        self.Send._run_info_rules(self.rule)

        mail = self._info_mails(lead)
        self.assertEqual(len(mail), 1)
        Touchpoint = self.env["customer.journey.touchpoint"]
        queued_message = Touchpoint.search([("origin", "=", "message"), ("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)])
        self.assertFalse(queued_message, "a queued product information mail is no touchpoint yet")

        with self.mock_mail_gateway(mail_unlink_sent=False):
            mail.send()

        sent = Touchpoint.search([("partner_id", "=", customer.id), ("origin", "=", "info_mail")])
        self.assertEqual(len(sent), 1)
        self.assertFalse(
            Touchpoint.search([("origin", "=", "message"), ("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)]),
            "the sent mail is recorded once, as product information sent",
        )

    def test_batch_renders_each_lead(self):
        leads = self._create_interested_leads(3)

        self.Send._run_info_rules(self.rule)

        for lead in leads:
            body = str(self._info_mails(lead).body_html)
            self.assertIn(f"Dear {lead.contact_name},", body)
            self.assertIn("Terracotta pot 20 cm", body)
        bodies = {str(mail.body_html) for mail in self._info_mails(leads)}
        self.assertEqual(len(bodies), 3, "one body per lead, from one compiled template")

    def test_batch_queries_independent_of_size(self):
        # The first batch fills Odoo's caches (templates, model ids, references).
        self._dispatch_query_count(1)

        two = self._dispatch_query_count(2)
        six = self._dispatch_query_count(6)

        self.assertEqual(six, two, "a batch reads its records in a fixed number of queries")

    def test_batch_compiles_body_once(self):
        one = self._dispatch_compile_count(1)

        four = self._dispatch_compile_count(4)

        self.assertEqual(four, one, "the leads of a batch share one compiled mail body")
