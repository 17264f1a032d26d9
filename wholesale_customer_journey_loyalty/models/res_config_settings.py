# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    journey_suggestion_program_id = fields.Many2one(
        related="company_id.journey_suggestion_program_id", readonly=False
    )
    journey_coupon_validity_days = fields.Integer(related="company_id.journey_coupon_validity_days", readonly=False)
