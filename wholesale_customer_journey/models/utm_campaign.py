# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    journey_create_leads = fields.Boolean(
        string="Create Leads from Responses",
        help="When a recipient of one of this campaign's mailings clicks a link or "
        "replies, create a lead for the customer company, or update its open lead. "
        "Each mailing can override this.",
    )
