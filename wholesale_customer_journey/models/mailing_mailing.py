# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    journey_create_leads = fields.Boolean(
        string="Create Leads from Responses",
        compute="_compute_journey_create_leads",
        store=True,
        readonly=False,
        help="When a recipient clicks a link or replies, create a lead for the "
        "customer company, or update its open lead. Follows the campaign until "
        "set on the mailing.",
    )

    @api.depends("campaign_id.journey_create_leads")
    def _compute_journey_create_leads(self):
        for mailing in self:
            mailing.journey_create_leads = mailing.campaign_id.journey_create_leads
