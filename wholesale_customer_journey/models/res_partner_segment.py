# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "customer.journey.segment.match.mixin", "customer.journey.info.recipient.mixin"]

    journey_segment_ids = fields.Many2many(
        "customer.journey.segment",
        "customer_journey_segment_member",
        "partner_id",
        "segment_id",
        string="Segments",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The customer segments this customer company belonged to at their last "
        "refresh (a sync, or the nightly scheduled action).",
    )
