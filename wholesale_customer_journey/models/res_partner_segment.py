# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

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
    journey_segment_match_ids = fields.Many2many(
        "customer.journey.segment",
        string="Matching Segments",
        compute="_compute_journey_segment_match_ids",
        search="_search_journey_segment_match_ids",
        groups="base.group_user",
        help="The customer segments whose criteria this partner matches now.",
    )

    def _compute_journey_segment_match_ids(self):
        matches = self.env["customer.journey.segment"]._get_matching_segments(self)
        for partner in self:
            partner.journey_segment_match_ids = matches[partner.id]

    def _search_journey_segment_match_ids(self, operator, value):
        return self.env["customer.journey.segment"]._search_matching_records(self._name, operator, value)
