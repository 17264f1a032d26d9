# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import fields, models


class CustomerJourneyDocumentMixin(models.AbstractModel):
    """Journey fields and touchpoint values of a customer document.

    Leads and sale orders share them: both show their customer's stage,
    keep the stage after their own latest event and record touchpoints.
    The inheriting model must have ``partner_id``, ``company_id``,
    ``user_id`` and the utm fields, and defines ``journey_stage_id`` (the
    customer's current stage) as a related field of its ``partner_id``.
    """

    _name = "customer.journey.document.mixin"
    _description = "Customer Journey Document"

    journey_stage_snapshot_id = fields.Many2one(
        "customer.journey.stage",
        string="Journey Stage of the Document",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="base.group_user",
        help="The customer's journey stage after this document's latest event.",
    )

    def _journey_touchpoint_vals(self, origin, summary, key, channel, direction):
        """Return the values of a direct touchpoint caused by this document."""
        self.ensure_one()
        return {
            "name": summary,
            "date": fields.Datetime.now(),
            "partner_id": self.partner_id.commercial_partner_id.id or False,
            "contact_id": self.partner_id.id or False,
            "channel": channel,
            "direction": direction,
            "kind": "direct",
            "origin": origin,
            "campaign_id": self.campaign_id.id or False,
            "source_id": self.source_id.id or False,
            "medium_id": self.medium_id.id or False,
            "user_id": self.user_id.id or False,
            "company_id": (self.company_id or self.env.company).id,
            "res_model": self._name,
            "res_id": self.id,
            "source_key": key,
        }

    def _journey_snapshot(self):
        """Store the customer's current stage on the documents, one write per stage."""
        by_stage = defaultdict(list)
        for document in self:
            stage = document.partner_id.commercial_partner_id.journey_stage_id
            if stage and document.journey_stage_snapshot_id != stage:
                by_stage[stage.id].append(document.id)
        for stage_id, document_ids in by_stage.items():
            self.browse(document_ids).sudo().with_context(journey_no_capture=True).write(
                {"journey_stage_snapshot_id": stage_id}
            )
