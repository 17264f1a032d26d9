# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CustomerJourneySegmentMatchMixin(models.AbstractModel):
    """Live segment membership of a partner or lead, for domains sent to the web client.

    A segment's member domain contains SQL subqueries that cannot travel to the
    browser, so the members list filters on this field instead and its
    search method rebuilds the domain on the server.
    """

    _name = "customer.journey.segment.match.mixin"
    _description = "Customer Journey Segment Match Mixin"

    journey_segment_match_ids = fields.Many2many(
        "customer.journey.segment",
        string="Matching Segments",
        compute="_compute_journey_segment_match_ids",
        search="_search_journey_segment_match_ids",
        groups="base.group_user",
        help="The customer segments whose criteria this record matches now.",
    )

    def _compute_journey_segment_match_ids(self):
        matches = self.env["customer.journey.segment"]._get_matching_segments(self)
        for record in self:
            record.journey_segment_match_ids = matches[record.id]

    def _search_journey_segment_match_ids(self, operator, value):
        return self.env["customer.journey.segment"]._search_matching_records(self._name, operator, value)
