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
