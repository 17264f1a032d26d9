# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from itertools import groupby

from odoo import api, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    @api.model_create_multi
    def create(self, vals_list):
        """Create the mails, keeping the message of a mailing's mail from becoming a touchpoint.

        A mailing's mail counts through its trace: when the recipient opens,
        clicks or replies, or, for a product information mail, when it is
        sent. Its queued message is no mail to the customer yet.
        """
        mails = self.browse()
        for from_mailing, group in groupby(vals_list, key=lambda vals: bool(vals.get("mailing_id"))):
            Mail = self.with_context(journey_skip_message_touchpoint=True) if from_mailing else self
            mails |= super(MailMail, Mail).create(list(group))
        return mails
