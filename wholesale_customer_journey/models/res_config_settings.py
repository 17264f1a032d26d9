# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..analysis.cross_sell import MAX_DAYS, Thresholds, ThresholdError
from ..analysis.reorder import DEFAULT_MAX_SPREAD
from .customer_journey_cross_sell_rule import (
    DEFAULT_THRESHOLDS,
    LEVEL_SELECTION,
    PARAM_PREFIX,
    parse_windows,
)
from .customer_journey_reorder_cycle import DEFAULT_HORIZON_DAYS
from .customer_journey_suggestion import (
    DEFAULT_BLOCK_DAYS,
    DEFAULT_EXPIRY_DAYS,
    DEFAULT_FOLLOW_UP,
    DEFAULT_REORDER_DAYS,
    FOLLOW_UPS,
)
from .customer_journey_suggestion import PARAM_PREFIX as SUGGESTION_PREFIX
from .res_partner import DEFAULT_STUCK_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    journey_aftersales_trigger = fields.Selection(
        related="company_id.journey_aftersales_trigger", readonly=False
    )
    journey_handoff_stage_id = fields.Many2one(related="company_id.journey_handoff_stage_id", readonly=False)
    journey_service_user_id = fields.Many2one(related="company_id.journey_service_user_id", readonly=False)
    journey_service_team_id = fields.Many2one(related="company_id.journey_service_team_id", readonly=False)
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
            # Also rejects NaN and infinity, which compare false.
            if not 0 <= settings.journey_reorder_max_spread < math.inf:
                raise ValidationError(
                    _(
                        "Invalid Maximum Spread: %(spread)s. Enter 0 or more, for example 0.5.",
                        spread=settings.journey_reorder_max_spread,
                    )
                )

    # ------------------------------------------------------------
    # Cross-sell rules
    # ------------------------------------------------------------

    journey_cross_sell_min_support = fields.Integer(
        string="Minimum Support",
        config_parameter=PARAM_PREFIX + "min_support",
        default=DEFAULT_THRESHOLDS.min_support,
        help="A rule needs at least this many customer companies who bought A and then B within the window.",
    )
    journey_cross_sell_min_confidence = fields.Float(
        string="Minimum Confidence",
        config_parameter=PARAM_PREFIX + "min_confidence",
        default=DEFAULT_THRESHOLDS.min_confidence,
        help="A rule needs at least this share of the customers of A to have then bought B, from 0 to 1.",
    )
    journey_cross_sell_min_lift = fields.Float(
        string="Minimum Lift",
        config_parameter=PARAM_PREFIX + "min_lift",
        default=DEFAULT_THRESHOLDS.min_lift,
        help="A rule needs buying A to make buying B at least this many times more likely than for any customer.",
    )
    journey_cross_sell_windows = fields.Char(
        string="Windows (Days)",
        config_parameter=PARAM_PREFIX + "windows",
        default="30",
        help="Windows to mine, in days, separated by commas, for example 14, 30, 90.",
    )
    journey_cross_sell_horizon_days = fields.Integer(
        string="Cross-sell History (Days)",
        config_parameter=PARAM_PREFIX + "horizon_days",
        default=DEFAULT_THRESHOLDS.horizon_days,
        help="Cross-sell rules are mined from the confirmed orders of this many last days.",
    )
    journey_cross_sell_levels = fields.Selection(
        [("product", "Products"), ("category", "Product Categories"), ("both", "Products and Categories")],
        string="Mine",
        config_parameter=PARAM_PREFIX + "levels",
        default="both",
        help="Rules between products, between product categories, or both.",
    )

    def set_values(self):
        super().set_values()
        params = self.env["ir.config_parameter"].sudo()
        # The windows as mining reads them: "7;30" or "30, 7, 7" is saved as "7, 30".
        windows = parse_windows(self.journey_cross_sell_windows)
        params.set_param(self._fields["journey_cross_sell_windows"].config_parameter, ", ".join(map(str, windows)))
        # Odoo removes the parameter of a numeric setting of 0, and the default would come back.
        for field in ("journey_cross_sell_min_confidence", "journey_cross_sell_min_lift", "journey_reorder_max_spread"):
            if not self[field]:
                params.set_param(self._fields[field].config_parameter, "0.0")
        for field in ("journey_suggestion_reorder_days", "journey_suggestion_block_days"):
            if not self[field]:
                params.set_param(self._fields[field].config_parameter, "0")

    @api.constrains(
        "journey_cross_sell_min_support",
        "journey_cross_sell_min_confidence",
        "journey_cross_sell_min_lift",
        "journey_cross_sell_windows",
        "journey_cross_sell_horizon_days",
        "journey_cross_sell_levels",
    )
    def _check_journey_cross_sell_settings(self):
        for settings in self:
            try:
                Thresholds(
                    settings.journey_cross_sell_min_support,
                    settings.journey_cross_sell_min_confidence,
                    settings.journey_cross_sell_min_lift,
                    parse_windows(settings.journey_cross_sell_windows),
                    settings.journey_cross_sell_horizon_days,
                    LEVEL_SELECTION.get(settings.journey_cross_sell_levels or "both", ()),
                ).validate()
            except ThresholdError as error:
                raise ValidationError(
                    self.env["customer.journey.cross.sell.rule"]._get_threshold_message(error.field)
                ) from error

    # ------------------------------------------------------------
    # Suggestions
    # ------------------------------------------------------------

    journey_suggestion_reorder_days = fields.Integer(
        string="Re-order Lead Time (Days)",
        config_parameter=SUGGESTION_PREFIX + "reorder_days",
        default=DEFAULT_REORDER_DAYS,
        help="A re-order is suggested this many days before the customer's next order is expected.",
    )
    journey_suggestion_expiry_days = fields.Integer(
        string="Expire After (Days)",
        config_parameter=SUGGESTION_PREFIX + "expiry_days",
        default=DEFAULT_EXPIRY_DAYS,
        help="An open suggestion expires when its due date is more than this many days past.",
    )
    journey_suggestion_block_days = fields.Integer(
        string="Do Not Repeat For (Days)",
        config_parameter=SUGGESTION_PREFIX + "block_days",
        default=DEFAULT_BLOCK_DAYS,
        help="After a suggestion is dismissed, expires or is converted, the same product is not suggested "
        "to the same customer again for this many days.",
    )
    journey_suggestion_follow_up = fields.Selection(
        FOLLOW_UPS,
        string="Suggestion Follow-up",
        config_parameter=SUGGESTION_PREFIX + "follow_up",
        default=DEFAULT_FOLLOW_UP,
        help="What the nightly generation does with new suggestions: nothing, an activity for the "
        "salesperson, a draft quotation per customer, a suggestion mail to the customer, or a mail for "
        "customers who prefer email and an activity of their channel for the others.",
    )

    @api.constrains(
        "journey_suggestion_reorder_days", "journey_suggestion_expiry_days", "journey_suggestion_block_days"
    )
    def _check_journey_suggestion_settings(self):
        Suggestion = self.env["customer.journey.suggestion"]
        for settings in self:
            for key, value in (
                ("reorder_days", settings.journey_suggestion_reorder_days),
                ("expiry_days", settings.journey_suggestion_expiry_days),
                ("block_days", settings.journey_suggestion_block_days),
            ):
                message = Suggestion._get_setting_message(key, value)
                if message:
                    raise ValidationError(message)

    # ------------------------------------------------------------
    # Campaign trends
    # ------------------------------------------------------------

    journey_trend_threshold = fields.Float(related="company_id.journey_trend_threshold", readonly=False)
    journey_trend_min_recipients = fields.Integer(
        related="company_id.journey_trend_min_recipients", readonly=False
    )
