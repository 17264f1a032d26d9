# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    journey_segment_match_ids = fields.Many2many(
        "customer.journey.segment",
        string="Matching Segments",
        compute="_compute_journey_segment_match_ids",
        search="_search_journey_segment_match_ids",
        groups="base.group_user",
        help="The customer segments of leads whose criteria this lead matches now.",
    )

    def _compute_journey_segment_match_ids(self):
        matches = self.env["customer.journey.segment"]._get_matching_segments(self)
        for lead in self:
            lead.journey_segment_match_ids = matches[lead.id]

    def _search_journey_segment_match_ids(self, operator, value):
        return self.env["customer.journey.segment"]._search_matching_records(self._name, operator, value)
