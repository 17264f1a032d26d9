# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .res_partner import DEFAULT_STUCK_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    journey_aftersales_trigger = fields.Selection(
        related="company_id.journey_aftersales_trigger", readonly=False
    )
    journey_stuck_days = fields.Integer(
        string="Stuck After (Days)",
        config_parameter="wholesale_customer_journey.stuck_days",
        default=DEFAULT_STUCK_DAYS,
        help="A customer in the same journey stage for more days than this is "
        "shown as stuck.",
    )
    journey_response_activity_days = fields.Integer(
        related="company_id.journey_response_activity_days", readonly=False
    )

    @api.constrains("journey_stuck_days")
    def _check_journey_stuck_days(self):
        for settings in self:
            if settings.journey_stuck_days < 1:
                raise ValidationError(
                    _(
                        "Invalid Stuck After (Days): %(days)s. Enter a number of days of 1 or more.",
                        days=settings.journey_stuck_days,
                    )
                )

    # ------------------------------------------------------------
    # Campaign trends
    # ------------------------------------------------------------

    journey_trend_threshold = fields.Float(related="company_id.journey_trend_threshold", readonly=False)
    journey_trend_min_recipients = fields.Integer(
        related="company_id.journey_trend_min_recipients", readonly=False
    )
