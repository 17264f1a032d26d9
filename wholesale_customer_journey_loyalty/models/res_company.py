# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .loyalty_program import OFFER_PROGRAM_TYPES

DEFAULT_COUPON_VALIDITY_DAYS = 30
# Ten years: a longer validity is no offer for one product, and dates would overflow.
MAX_COUPON_VALIDITY_DAYS = 3650


class ResCompany(models.Model):
    _inherit = "res.company"

    journey_suggestion_program_id = fields.Many2one(
        "loyalty.program",
        string="Suggestion Offer",
        domain=[("program_type", "in", OFFER_PROGRAM_TYPES)],
        help="The coupon, discount code or promotion offered with the suggestions whose cross-sell rule "
        "names no offer of its own. Coupons programs give each suggestion a coupon of its own.",
    )
    journey_coupon_validity_days = fields.Integer(
        string="Coupon Validity (Days)",
        default=DEFAULT_COUPON_VALIDITY_DAYS,
        help="A suggestion's coupon is valid this many days from the suggestion's due date, or from the day "
        "it is issued when that is later, and never past the program's end date.",
    )

    @api.constrains("journey_suggestion_program_id")
    def _check_journey_suggestion_program(self):
        for company in self:
            company.journey_suggestion_program_id._journey_check_offer(company, _("Suggestion Offer"))

    @api.constrains("journey_coupon_validity_days")
    def _check_journey_coupon_validity_days(self):
        for company in self:
            if not 1 <= company.journey_coupon_validity_days <= MAX_COUPON_VALIDITY_DAYS:
                raise ValidationError(
                    _(
                        "Coupon Validity (Days) of %(company)s is %(days)s: enter 1 to 3650 days.",
                        company=company.name,
                        days=company.journey_coupon_validity_days,
                    )
                )
