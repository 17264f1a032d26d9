# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.tools import LazyTranslate

_lt = LazyTranslate(__name__)

# Documents whose chatter messages count as touchpoints with their customer.
JOURNEY_THREAD_MODELS = ("res.partner", "crm.lead", "sale.order")
# Message types that may be a mail to or from the customer (see
# _journey_is_customer_mail); notifications and tracking never are.
JOURNEY_MESSAGE_TYPES = ("email", "email_outgoing", "auto_comment", "comment")


class MailMessage(models.Model):
    _inherit = "mail.message"

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        if not self.env.context.get("journey_skip_message_touchpoint"):
            # Judge by the values: reading the new messages back would cost a
            # query for each tracking message and notification.
            journey_messages = self.browse(
                message.id
                for message, vals in zip(messages, vals_list)
                if vals.get("model") in JOURNEY_THREAD_MODELS
                and vals.get("res_id")
                and (vals.get("message_type") or message.message_type) in JOURNEY_MESSAGE_TYPES
            )
            if journey_messages:
                journey_messages._journey_record_touchpoints()
        return messages

    def _journey_is_customer_mail(self):
        """Tell whether the message was a mail to or from the customer.

        Internal notes, tracking and system notifications are not.
        """
        self.ensure_one()
        if self.message_type in ("email", "email_outgoing", "auto_comment"):
            return True
        if self.message_type != "comment":
            return False
        return not self.is_internal and not (self.subtype_id and self.subtype_id.internal)

    def _journey_reaches(self, record, customer):
        """Tell whether the message notifies someone of ``customer``.

        Recipients and followers of ``record`` count. Without a known
        customer, any recipient or follower who is not an internal user does.
        """
        self.ensure_one()
        audience = self.partner_ids | record.message_partner_ids
        if customer:
            return any(partner.commercial_partner_id == customer.commercial_partner_id for partner in audience)
        return any(all(user.share for user in partner.user_ids) for partner in audience)

    def _journey_record_touchpoints(self):
        Touchpoint = self.env["customer.journey.touchpoint"]
        vals_list = []
        for message in self.sudo():
            if not message._journey_is_customer_mail():
                continue
            record = self.env[message.model].sudo().browse(message.res_id).exists()
            if not record:
                continue
            customer = Touchpoint._customer_of(record)
            author_user = message.author_id.user_ids[:1]
            internal_author = bool(author_user) and not author_user.share
            portal_author = bool(author_user) and author_user.share
            # Inbound: a mail from outside the company, or a portal user's message.
            inbound = portal_author or (message.message_type == "email" and not internal_author)
            if not inbound and message.message_type == "comment" and not message._journey_reaches(record, customer):
                # A comment that notifies no one of the customer did not reach them.
                continue
            if inbound:
                contact = message.author_id
                channel = "website" if message.message_type == "comment" else "email"
            else:
                contact = message.partner_ids.filtered(
                    lambda p: customer and p.commercial_partner_id == customer.commercial_partner_id
                )[:1] or customer
                channel = "email"
            if contact and customer and contact.commercial_partner_id != customer.commercial_partner_id:
                contact = customer
            summary = (message.subject or message.preview or record.display_name)[:200]
            vals_list.append(
                {
                    "name": (_lt("Mail from customer: %(summary)s", summary=summary) if inbound
                             else _lt("Mail to customer: %(summary)s", summary=summary)),
                    "date": message.date,
                    "partner_id": customer.commercial_partner_id.id if customer else False,
                    "contact_id": contact.id if contact else False,
                    "channel": channel,
                    "direction": "inbound" if inbound else "outbound",
                    "kind": "direct",
                    "origin": "message",
                    "campaign_id": record.campaign_id.id if "campaign_id" in record._fields else False,
                    "source_id": record.source_id.id if "source_id" in record._fields else False,
                    "medium_id": record.medium_id.id if "medium_id" in record._fields else False,
                    "user_id": author_user.id if internal_author else (
                        record.user_id.id if "user_id" in record._fields else False
                    ),
                    "company_id": Touchpoint._company_id_of(record),
                    "res_model": message.model,
                    "res_id": message.res_id,
                    "source_key": f"mail.message,{message.id}",
                }
            )
        if vals_list:
            Touchpoint._record_touchpoints(vals_list)
