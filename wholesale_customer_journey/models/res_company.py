# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    journey_aftersales_trigger = fields.Selection(
        [("delivery", "First order delivered"), ("payment", "First order invoiced and paid")],
        string="Aftersales Starts When",
        required=True,
        default="delivery",
        help="The event that moves a customer to Aftersales: the delivery of its "
        "first order, or the payment of its first fully invoiced order.",
    )

    # ------------------------------------------------------------
    # Aftersales hand-off
    # ------------------------------------------------------------

    journey_handoff_stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Hand Off to Service At",
        default=lambda self: self.env.ref("wholesale_customer_journey.stage_conversion", raise_if_not_found=False),
        help="A customer reaching this stage, or a later one, gets the service person and team below, "
        "unless it has them already.",
    )
    journey_service_user_id = fields.Many2one(
        "res.users",
        string="Service Person",
        domain=[("share", "=", False)],
        help="Looks after the customers handed off to service, and gets a to-do for each one.",
    )
    journey_service_team_id = fields.Many2one(
        "crm.team", string="Service Team", help="The team that looks after the customers handed off to service."
    )

    @api.model
    def _journey_set_default_handoff_stage(self):
        """Set Conversion as the hand-off stage of the companies without one, at install.

        The field's default cannot apply to the companies created before the stages.
        """
        stage = self.env.ref("wholesale_customer_journey.stage_conversion", raise_if_not_found=False)
        if stage:
            self.with_context(active_test=False).search([("journey_handoff_stage_id", "=", False)]).write(
                {"journey_handoff_stage_id": stage.id}
            )

    # ------------------------------------------------------------
    # Campaign trends
    # ------------------------------------------------------------

    journey_trend_threshold = fields.Float(
        string="Campaign Trend Threshold (Points)",
        default=10.0,
        digits=(16, 1),
        help="Marketing is notified when a campaign's or channel's weekly response rate "
        "or lead rate differs from the four weeks before by more than this many "
        "percentage points.",
    )
    journey_trend_min_recipients = fields.Integer(
        string="Campaign Trend Minimum Recipients",
        default=20,
        help="A campaign or channel is compared only when both last week and the four "
        "weeks before have at least this many recipients, so a handful of mails "
        "does not raise an alarm.",
    )
    journey_trend_week = fields.Date(
        string="Campaign Trends Checked Week",
        readonly=True,
        copy=False,
        help="Monday of the last week whose campaign trends were checked and notified. "
        "The weekly check skips a week it has done already.",
    )

    @api.constrains("journey_trend_threshold", "journey_trend_min_recipients")
    def _check_journey_trend_settings(self):
        for company in self:
            if company.journey_trend_threshold <= 0:
                raise ValidationError(
                    _(
                        "Invalid Campaign Trend Threshold: %(threshold)s. Enter a number of "
                        "percentage points above 0.",
                        threshold=company.journey_trend_threshold,
                    )
                )
            if company.journey_trend_min_recipients < 0:
                raise ValidationError(
                    _(
                        "Invalid Campaign Trend Minimum Recipients: %(count)s. Enter 0 or a "
                        "positive number of recipients.",
                        count=company.journey_trend_min_recipients,
                    )
                )

    journey_response_activity_days = fields.Integer(
        string="Response Follow-up (Days)",
        default=2,
        help="Days between a campaign response and the deadline of the follow-up "
        "activity on its lead.",
    )

    @api.constrains("journey_response_activity_days")
    def _check_journey_response_activity_days(self):
        for company in self:
            if company.journey_response_activity_days < 0:
                raise ValidationError(
                    _(
                        "Invalid Response Follow-up (Days): %(days)s. Enter a number of "
                        "days of 0 or more.",
                        days=company.journey_response_activity_days,
                    )
                )
