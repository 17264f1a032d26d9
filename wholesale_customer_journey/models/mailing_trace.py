# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import LazyTranslate, email_normalize

_lt = LazyTranslate(__name__)
_logger = logging.getLogger(__name__)

# Events of a trace, in the order in which they reach one recipient.
TRACE_EVENTS = ("sent", "open", "click", "reply", "bounce")
# Events in which the recipient responds to the mailing: they may create a lead.
RESPONSE_EVENTS = ("click", "reply")
TOUCHPOINT_ORIGINS = {
    "sent": "info_mail",
    "open": "mailing_open",
    "click": "mailing_click",
    "reply": "mailing_reply",
    "bounce": "mailing_bounce",
}
# Trace fields that Odoo writes when an event happens (set_opened, set_clicked, ...).
EVENT_FIELDS = ("open_datetime", "links_click_datetime", "reply_datetime", "trace_status")
# Follow-up activity type per preferred contact channel. Other channels get a To-Do.
ACTIVITY_TYPE_OF_CHANNEL = {
    "phone": "mail.mail_activity_data_call",
    "email": "mail.mail_activity_data_email",
    "visit": "mail.mail_activity_data_meeting",
}
DEFAULT_ACTIVITY_TYPE = "mail.mail_activity_data_todo"
OPEN_LEAD_DOMAIN = [
    ("active", "=", True),
    ("probability", "<", 100),
    "|",
    ("stage_id", "=", False),
    ("stage_id.is_won", "=", False),
]


class MailingTrace(models.Model):
    """Turn mailing events into touchpoints, and responses into leads.

    Odoo records every event of a mailing on its trace: the tracking pixel
    (open), the link redirect (click), the mail gateway (reply, bounce).
    Hooking ``create`` and ``write`` of the trace catches all of them,
    whichever route or module writes the trace.
    """

    _inherit = "mailing.trace"

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        traces = super().create(vals_list)
        events = [
            (trace, event, date)
            for trace, vals in zip(traces, vals_list)
            for event, date in trace._journey_events_of_vals(vals)
        ]
        if events:
            self._journey_process_events(events)
        return traces

    def write(self, vals):
        if not set(vals) & set(EVENT_FIELDS):
            return super().write(vals)
        previous = {trace.id: {fname: trace[fname] for fname in EVENT_FIELDS} for trace in self}
        result = super().write(vals)
        if self.env.context.get("journey_untrusted_click"):
            return result
        events = [
            (trace, event, date)
            for trace in self
            # A mail that never left Odoo (no sent date, because it was
            # canceled, failed or is queued) cannot be opened, clicked or
            # replied to. Such an event is forged: the public click route
            # takes any trace id.
            if trace.sent_datetime
            for event, date in trace._journey_events_of_vals(vals, previous[trace.id])
        ]
        if events:
            self._journey_process_events(events)
        return result

    @api.model
    def _journey_events_of_vals(self, vals, previous=None):
        """Return the [(event, date)] that ``vals`` records for the first time.

        Odoo writes the click date again on every click and the reply date on
        every reply, so only the first one is an event: each event of a trace
        counts once.

        :param previous: the trace's ``EVENT_FIELDS`` before the write, None on create
        """
        previous = previous or {}
        now = fields.Datetime.now()
        status = vals.get("trace_status")
        events = []
        if (
            status == "sent"
            and previous.get("trace_status") not in (None, "sent")
            and self.mass_mailing_id.journey_info_rule_id
        ):
            # Only a product information mail is a touchpoint when it leaves:
            # the mail of a campaign becomes one when the recipient responds.
            events.append(("sent", fields.Datetime.to_datetime(vals.get("sent_datetime")) or now))
        if vals.get("open_datetime") and not previous.get("open_datetime"):
            events.append(("open", fields.Datetime.to_datetime(vals["open_datetime"])))
        if vals.get("links_click_datetime") and not previous.get("links_click_datetime"):
            events.append(("click", fields.Datetime.to_datetime(vals["links_click_datetime"])))
        if (
            (vals.get("reply_datetime") or status == "reply")
            and not previous.get("reply_datetime")
            and previous.get("trace_status") != "reply"
        ):
            events.append(("reply", fields.Datetime.to_datetime(vals.get("reply_datetime")) or now))
        if status == "bounce" and previous.get("trace_status") != "bounce":
            # A bounce has no date field. A trace created as bounced (an import,
            # the demo data) bounced when it was sent.
            sent = fields.Datetime.to_datetime(vals.get("sent_datetime")) if not previous else None
            events.append(("bounce", sent or now))
        return events

    # ------------------------------------------------------------
    # BUSINESS: touchpoints
    # ------------------------------------------------------------

    @api.model
    def _journey_process_events(self, events):
        """Record a touchpoint per event and handle responses, oldest event first.

        Runs as superuser: the user who causes the event is the public user
        of the link redirect or the tracking pixel, or the mail gateway,
        neither of whom may create touchpoints, leads or activities. OdooBot
        is the author of what this creates.

        :param events: [(trace, event, date)]
        """
        Touchpoint = self.env["customer.journey.touchpoint"]
        own_ids = self.env["res.partner"]._journey_own_partner_ids()
        recipients = {}
        ordered = sorted(events, key=lambda item: (item[2], TRACE_EVENTS.index(item[1]), item[0].id))
        for trace, event, date in ordered:
            trace = trace.with_user(SUPERUSER_ID)
            if trace.id not in recipients:
                recipients[trace.id] = trace._journey_recipient()
            recipient = recipients[trace.id]
            customer = recipient["customer"]
            if customer.id in own_ids:
                # A colleague who tests the mailing is no customer.
                continue
            if customer:
                Touchpoint._record_touchpoints([trace._journey_touchpoint_vals(event, date, recipient)])
            else:
                _logger.info(
                    "Mailing trace %s: no customer found for %s, no touchpoint recorded for the %s",
                    trace.id,
                    trace.email or f"{trace.model},{trace.res_id}",
                    event,
                )
            if event in RESPONSE_EVENTS and trace.mass_mailing_id.journey_create_leads:
                trace._journey_handle_response(event, recipient)

    def _journey_recipient(self):
        """Return the recipient of the trace as a dict.

        ``contact``: the partner of the trace's record (a contact, a lead's
        customer), else the partner found by the trace's e-mail address.
        ``customer``: its commercial partner. ``email`` and ``name``: for a
        recipient without partner. ``lead``: the trace's record when it is a
        lead. Each may be empty.
        """
        self.ensure_one()
        Partner = self.env["res.partner"].sudo()
        record = None
        if self.model in self.env and self.res_id:
            record = self.env[self.model].sudo().browse(self.res_id).exists()
        contact = Partner
        name = False
        if record:
            if record._name == "res.partner":
                contact = record
            else:
                contact = record._mail_get_partners().get(record.id, Partner)[:1]
            if record._name == "crm.lead":
                name = record.contact_name or record.partner_name
            else:
                name = record.display_name
        email = email_normalize(self.email or "") or False
        if not contact and email:
            contact = self._journey_partner_by_email(email)
        return {
            "contact": contact,
            "customer": contact.commercial_partner_id,
            "email": email or email_normalize(contact.email or "") or False,
            "name": contact.name or name or email,
            "lead": record if record is not None and record._name == "crm.lead" else self.env["crm.lead"],
        }

    @api.model
    def _journey_partner_by_email(self, email):
        """Return the partner with e-mail address ``email``, preferring a company's contact.

        Among several partners, a contact of a company comes first, then a
        company, then a private person. Partners of the own organisation
        come last: a colleague's address is no customer's.
        """
        partners = self.env["res.partner"].sudo().search([("email_normalized", "=", email)], order="id")
        if len(partners) <= 1:
            return partners
        own_ids = self.env["res.partner"]._journey_own_partner_ids()

        def preference(partner):
            if partner.commercial_partner_id.id in own_ids:
                rank = 3
            elif partner.parent_id and partner.commercial_partner_id.is_company:
                rank = 0
            elif partner.is_company:
                rank = 1
            else:
                rank = 2
            return rank, partner.id

        return partners.sorted(preference)[:1]

    def _journey_company(self, recipient):
        """Return the company that owns what a response of ``recipient`` brings.

        A customer that belongs to a company can only have leads and
        touchpoints in that company. A customer shared by all companies
        takes the mailing's company: a mailing has no company in Odoo 18 and
        is sent with the layout of its responsible user's main company.
        """
        self.ensure_one()
        if self.mass_mailing_id.journey_info_rule_id:
            return self.mass_mailing_id.journey_info_rule_id.company_id
        return (
            recipient["customer"].company_id
            or self.mass_mailing_id.user_id.company_id
            or self.env.company
        )

    def _journey_touchpoint_vals(self, event, date, recipient):
        self.ensure_one()
        mailing = self.mass_mailing_id
        subject = mailing.subject or mailing.name or ""
        contact, customer = recipient["contact"], recipient["customer"]
        return {
            "name": self._journey_event_summary(event, subject),
            "date": date,
            "partner_id": customer.id,
            "contact_id": contact.id if contact != customer else False,
            # A product information mail goes to one customer, as a personal mail does.
            "channel": "email" if event == "sent" else "mailing",
            # The recipient acted on an open, a click or a reply. A bounce is
            # the company's mail that did not arrive.
            "direction": "outbound" if event in ("sent", "bounce") else "inbound",
            "kind": "direct",
            "origin": TOUCHPOINT_ORIGINS[event],
            "campaign_id": mailing.campaign_id.id or False,
            "source_id": mailing.source_id.id or False,
            "medium_id": mailing.medium_id.id or False,
            "user_id": mailing.user_id.id if mailing.user_id and not mailing.user_id.share else False,
            "company_id": self._journey_company(recipient).id,
            "res_model": self._name,
            "res_id": self.id,
            "source_key": f"mailing.trace,{self.id},{event}",
        }

    @api.model
    def _journey_event_summary(self, event, subject):
        if event == "sent":
            return _lt("Product information sent: %(subject)s", subject=subject)
        if event == "open":
            return _lt("Mailing opened: %(subject)s", subject=subject)
        if event == "click":
            return _lt("Mailing link clicked: %(subject)s", subject=subject)
        if event == "reply":
            return _lt("Mailing replied to: %(subject)s", subject=subject)
        return _lt("Mailing bounced: %(subject)s", subject=subject)

    # ------------------------------------------------------------
    # BUSINESS: leads from responses
    # ------------------------------------------------------------

    def _journey_handle_response(self, event, recipient):
        """Create the lead of a response, or update the customer's open lead.

        One lead per customer company, or per e-mail address for a recipient
        without partner. The response lock makes a concurrent response of
        the same customer fail with a serialization error and be retried,
        so that the retry finds and updates the lead created here.
        """
        self.ensure_one()
        mailing = self.mass_mailing_id
        contact, customer, email = recipient["contact"], recipient["customer"], recipient["email"]
        lead = recipient["lead"]
        if customer:
            lock_key = f"partner,{customer.id}"
        elif email:
            lock_key = f"email,{email}"
        elif lead:
            lock_key = f"crm.lead,{lead.id}"
        else:
            _logger.info("Mailing trace %s: response without partner or e-mail address, no lead created", self.id)
            return
        self.env["customer.journey.response.lock"]._acquire(lock_key)

        company = self._journey_company(recipient)
        lead = self._journey_open_lead(recipient, company)
        team, user = self.env["customer.journey.assignment.rule"]._find_assignment(
            company, contact, customer, mailing.campaign_id
        )
        if not team and not user and not lead.user_id:
            team = self._journey_default_team(company, lead.type)
        # Lead name, note and activity in the language of the salesperson who reads them.
        trace = self.with_context(lang=user.lang or company.partner_id.lang or self.env.lang)
        env = trace.env
        if lead:
            lead = lead.with_env(env)
            updates = {
                fname: mailing[fname].id
                for fname in ("campaign_id", "source_id", "medium_id")
                if mailing[fname] and not lead[fname]
            }
            if user and not lead.user_id:
                updates["user_id"] = user.id
            if team and not lead.team_id:
                updates["team_id"] = team.id
            if updates:
                lead.write(updates)
        else:
            lead = env["crm.lead"].create(trace._journey_response_lead_vals(recipient, company, team, user))
        responder = recipient["name"] or email or ""
        subject = mailing.subject or mailing.name or ""
        if event == "click":
            note = env._("%(responder)s clicked a link in the mailing “%(mailing)s”.", responder=responder, mailing=subject)
        else:
            note = env._("%(responder)s replied to the mailing “%(mailing)s”.", responder=responder, mailing=subject)
        lead._message_log(body=Markup("<p>%s</p>") % note)
        self.env["res.partner"]._journey_event("campaign_response", lead)
        trace._journey_schedule_response_activity(lead, recipient)
        return lead

    def _journey_default_team(self, company, lead_type=False):
        """Return Odoo's default sales team of ``company`` for a lead without salesperson.

        When neither an assignment rule nor the customer names a team or a
        salesperson (always so for an address without partner), the lead
        would sit in no team's pipeline. Odoo's own default then applies,
        limited to ``company``: its first team (or one without company) that
        takes leads, or opportunities, as the lead's type.

        :param lead_type: the type of the lead to update, empty for a new lead
        """
        if not lead_type:
            use_leads = self.env.ref("crm.group_use_lead") in self.env.ref("base.group_user").trans_implied_ids
            lead_type = "lead" if use_leads else "opportunity"
        domain = [("use_leads", "=", True)] if lead_type == "lead" else [("use_opportunities", "=", True)]
        Team = self.env["crm.team"].with_context(allowed_company_ids=company.ids, default_team_id=False)
        return Team._get_default_team_id(domain=domain)

    def _journey_open_lead(self, recipient, company):
        """Return the open lead that a response of ``recipient`` updates, if any.

        The trace's own lead when it is still open, else the most recent open
        lead of the customer company in ``company`` (or without company), one
        of the same campaign first. Without customer, an open lead without
        customer with the same e-mail address.
        """
        self.ensure_one()
        Lead = self.env["crm.lead"].sudo()
        own_lead = recipient["lead"]
        open_domain = OPEN_LEAD_DOMAIN + [("company_id", "in", [False, company.id])]
        if own_lead and own_lead.filtered_domain(open_domain):
            return own_lead
        customer, email = recipient["customer"], recipient["email"]
        if customer:
            domain = [("partner_id", "child_of", customer.id)]
        elif email:
            domain = [("partner_id", "=", False), ("email_normalized", "=", email)]
        else:
            return Lead
        leads = Lead.search(open_domain + domain, order="id desc")
        campaign = self.mass_mailing_id.campaign_id
        return leads.sorted(lambda lead: not (campaign and lead.campaign_id == campaign))[:1]

    def _journey_response_lead_vals(self, recipient, company, team, user):
        self.ensure_one()
        mailing = self.mass_mailing_id
        contact, customer = recipient["contact"], recipient["customer"]
        use_leads = self.env.ref("crm.group_use_lead") in self.env.ref("base.group_user").trans_implied_ids
        vals = {
            "name": self.env._(
                "%(customer)s – response to %(mailing)s",
                customer=customer.name or recipient["name"] or recipient["email"] or "",
                mailing=mailing.subject or mailing.name or "",
            ),
            # As Odoo's own default, from the setting "Leads" of the CRM.
            "type": "lead" if use_leads else "opportunity",
            "partner_id": contact.id or False,
            "campaign_id": mailing.campaign_id.id or False,
            "source_id": mailing.source_id.id or False,
            "medium_id": mailing.medium_id.id or False,
            # Explicit, else the lead would belong to OdooBot, who runs this.
            "user_id": user.id or False,
            "company_id": company.id,
        }
        if team:
            vals["team_id"] = team.id
        if not contact:
            vals["email_from"] = recipient["email"]
            vals["contact_name"] = recipient["name"]
        return vals

    def _journey_schedule_response_activity(self, lead, recipient):
        """Schedule the follow-up of a response on ``lead``, by preferred channel.

        Nothing is scheduled when the lead already has an open activity of
        that type. The lead's salesperson gets it, else the user responsible
        for the mailing.
        """
        self.ensure_one()
        contact, customer = recipient["contact"], recipient["customer"]
        channel = contact.journey_preferred_channel
        if not channel or channel == "none":
            channel = customer.journey_preferred_channel
        activity_type = self.env.ref(ACTIVITY_TYPE_OF_CHANNEL.get(channel, DEFAULT_ACTIVITY_TYPE), raise_if_not_found=False)
        if not activity_type:
            activity_type = self.env.ref(DEFAULT_ACTIVITY_TYPE)
        if self.env["mail.activity"].sudo().search_count(
            [("res_model", "=", "crm.lead"), ("res_id", "=", lead.id), ("activity_type_id", "=", activity_type.id)],
            limit=1,
        ):
            return
        mailing = self.mass_mailing_id
        user = lead.user_id or mailing.user_id.filtered(lambda mailing_user: not mailing_user.share)
        if not user:
            _logger.info("Lead %s: no salesperson and no mailing responsible, no follow-up activity", lead.id)
            return
        company = lead.company_id or self.env.company
        lead.activity_schedule(
            activity_type_id=activity_type.id,
            date_deadline=fields.Date.context_today(lead.with_user(user))
            + timedelta(days=company.journey_response_activity_days),
            summary=self.env._(
                "Follow up the response to %(mailing)s", mailing=mailing.subject or mailing.name or ""
            ),
            user_id=user.id,
        )
