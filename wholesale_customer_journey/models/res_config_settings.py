# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..analysis.cross_sell import MAX_DAYS
from ..analysis.reorder import DEFAULT_MAX_SPREAD
from .customer_journey_reorder_cycle import DEFAULT_HORIZON_DAYS
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
    # Re-order cycles
    # ------------------------------------------------------------

    journey_reorder_horizon_days = fields.Integer(
        string="Re-order History (Days)",
        config_parameter="wholesale_customer_journey.reorder_horizon_days",
        default=DEFAULT_HORIZON_DAYS,
        help="Re-order cycles are mined from the confirmed orders of this many last days.",
    )
    journey_reorder_max_spread = fields.Float(
        string="Maximum Spread",
        config_parameter="wholesale_customer_journey.reorder_max_spread",
        default=DEFAULT_MAX_SPREAD,
        help="A cycle whose spread (median absolute deviation of the intervals divided by "
        "their median) is above this is irregular and gets no expected next order.",
    )

    @api.constrains("journey_reorder_horizon_days", "journey_reorder_max_spread")
    def _check_journey_reorder_settings(self):
        for settings in self:
            if not 1 <= settings.journey_reorder_horizon_days <= MAX_DAYS:
                raise ValidationError(
                    _(
                        "Invalid Re-order History (Days): %(days)s. Enter a number of days from 1 to %(max)s.",
                        days=settings.journey_reorder_horizon_days,
                        max=MAX_DAYS,
                    )
                )
            if settings.journey_reorder_max_spread < 0:
                raise ValidationError(
                    _(
                        "Invalid Maximum Spread: %(spread)s. Enter 0 or more, for example 0.5.",
                        spread=settings.journey_reorder_max_spread,
                    )
                )

    # ------------------------------------------------------------
    # Campaign trends
    # ------------------------------------------------------------

    journey_trend_threshold = fields.Float(related="company_id.journey_trend_threshold", readonly=False)
    journey_trend_min_recipients = fields.Integer(
        related="company_id.journey_trend_min_recipients", readonly=False
    )
