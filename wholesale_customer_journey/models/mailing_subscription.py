# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MailingSubscription(models.Model):
    _inherit = "mailing.subscription"

    journey_segment_id = fields.Many2one(
        "customer.journey.segment",
        string="Added by Segment",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
        help="The customer segment whose sync added this subscription. Only such "
        "subscriptions are removed when their member leaves the segment.",
    )
