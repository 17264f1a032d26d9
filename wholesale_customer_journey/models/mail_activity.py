# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools import LazyTranslate

from .mail_message import JOURNEY_THREAD_MODELS

_lt = LazyTranslate(__name__)


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # Read what the touchpoints need now: done activities are deleted.
        Touchpoint = self.env["customer.journey.touchpoint"]
        vals_list = []
        for activity in self.sudo():
            channel = activity.activity_type_id.journey_channel
            if not channel or activity.res_model not in JOURNEY_THREAD_MODELS or not activity.res_id:
                continue
            record = self.env[activity.res_model].sudo().browse(activity.res_id).exists()
            if not record:
                continue
            customer = Touchpoint._customer_of(record)
            vals_list.append(
                {
                    "name": _lt(
                        "%(type)s done: %(summary)s",
                        type=activity.activity_type_id.name,
                        summary=activity.summary or record.display_name,
                    ),
                    "date": fields.Datetime.now(),
                    "partner_id": customer.commercial_partner_id.id if customer else False,
                    "contact_id": customer.id if customer else False,
                    "channel": channel,
                    "direction": "outbound",
                    "kind": "direct",
                    "origin": "activity",
                    "note": feedback or activity.note or False,
                    "user_id": activity.user_id.id or self.env.user.id,
                    "company_id": Touchpoint._company_id_of(record),
                    "res_model": activity.res_model,
                    "res_id": activity.res_id,
                    "source_key": f"mail.activity,{activity.id}",
                }
            )
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if vals_list:
            Touchpoint._record_touchpoints(vals_list)
        return result
