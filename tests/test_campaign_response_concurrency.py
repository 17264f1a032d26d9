"""Two contacts of one company respond to a campaign at once: one lead.

This test commits into the test database, and removes what it committed.
"""

import threading
import time
import uuid

import odoo
from odoo import fields
from odoo.service.model import retrying


def _click(env, trace_id):
    env["mailing.trace"].browse(trace_id).set_clicked()


def test_two_responses_in_two_transactions(registry):
    tag = uuid.uuid4().hex[:8]
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env["res.partner"].create({"name": f"Gelijktijdig Tuincentrum {tag}", "is_company": True})
        contacts = env["res.partner"].create(
            [
                {"name": "Eerste Inkoper", "parent_id": company.id, "email": f"een-{tag}@gelijktijdig.example"},
                {"name": "Tweede Inkoper", "parent_id": company.id, "email": f"twee-{tag}@gelijktijdig.example"},
            ]
        )
        # A customer already past Favorability: the responses move no stage, so
        # only the response lock keeps the two transactions apart.
        conversion = env.ref("wholesale_customer_journey.stage_conversion")
        company._journey_set_stage(conversion, "manual", force=True)
        campaign = env["utm.campaign"].create({"name": f"Gelijktijdige campagne {tag}", "journey_create_leads": True})
        mailing = env["mailing.mailing"].create(
            {
                "subject": f"Gelijktijdig aanbod {tag}",
                "campaign_id": campaign.id,
                "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                "state": "done",
            }
        )
        traces = env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": contact.id,
                    "email": contact.email,
                    "trace_status": "sent",
                    "sent_datetime": fields.Datetime.now(),
                    "message_id": f"<{tag}-{contact.id}@gelijktijdig.example>",
                }
                for contact in contacts
            ]
        )
        company_id, trace_ids, mailing_id = company.id, traces.ids, mailing.id
    second_result = {}
    second = None

    def respond_in_second_transaction():
        with registry.cursor() as cr_b:
            env_b = odoo.api.Environment(cr_b, odoo.SUPERUSER_ID, {})
            attempts = []

            def click_and_count():
                attempts.append(1)
                _click(env_b, trace_ids[1])

            # As the HTTP layer does for the link redirect: retry on a serialization failure.
            retrying(click_and_count, env_b)
            second_result["attempts"] = len(attempts)

    try:
        with registry.cursor() as cr_a:
            env_a = odoo.api.Environment(cr_a, odoo.SUPERUSER_ID, {})
            _click(env_a, trace_ids[0])
            env_a.flush_all()
            second = threading.Thread(target=respond_in_second_transaction)
            second.start()
            # The second transaction now waits on the response lock of this one.
            time.sleep(1)
            assert second.is_alive(), "the second response must wait for the first"
            cr_a.commit()
        second.join(timeout=60)

        assert not second.is_alive()
        assert second_result["attempts"] == 2, "the second response is retried once, in a new snapshot"
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            leads = env["crm.lead"].search([("partner_id", "child_of", company_id)])
            assert len(leads) == 1
            notes = leads.message_ids.filtered(lambda message: "clicked a link" in (message.body or ""))
            assert len(notes) == 2, "the second response updated the lead of the first"
            touchpoints = env["customer.journey.touchpoint"].search(
                [("res_model", "=", "mailing.trace"), ("res_id", "in", trace_ids), ("origin", "=", "mailing_click")]
            )
            assert len(touchpoints) == 2
    finally:
        if second is not None:
            # A failed check must not clean up while the second transaction still commits.
            second.join(timeout=60)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            leads = env["crm.lead"].with_context(active_test=False).search([("partner_id", "child_of", company_id)])
            env["mail.activity"].search([("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]).unlink()
            leads.unlink()
            env["customer.journey.touchpoint"].search([("partner_id", "=", company_id)]).unlink()
            mailing = env["mailing.mailing"].browse(mailing_id)
            source = mailing.source_id
            mailing.unlink()
            source.unlink()
            cr.execute("DELETE FROM customer_journey_response_lock WHERE key = %s", [f"partner,{company_id}"])
            cr.execute("DELETE FROM customer_journey_history WHERE partner_id = %s", [company_id])
            cr.execute("DELETE FROM res_partner WHERE commercial_partner_id = %s", [company_id])
            env["utm.campaign"].search([("name", "=", f"Gelijktijdige campagne {tag}")]).unlink()
