# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models

from .loyalty_program import OFFER_PROGRAM_TYPES


class CustomerJourneyCrossSellRule(models.Model):
    _inherit = "customer.journey.cross.sell.rule"

    loyalty_program_id = fields.Many2one(
        "loyalty.program",
        string="Offer",
        domain="[('program_type', 'in', %s), ('company_id', 'in', [company_id, False])]" % (OFFER_PROGRAM_TYPES,),
        help="The coupon, discount code or promotion offered with this rule's suggestions, instead of the "
        "company's Suggestion Offer. Setting it does not lock a mined rule; a mined rule that the next "
        "mining no longer finds is removed with its offer, unless it is locked.",
    )

    @api.constrains("loyalty_program_id", "company_id")
    def _check_loyalty_program(self):
        for rule in self:
            rule.loyalty_program_id._journey_check_offer(rule.company_id, _("Offer"))

    @api.model
    def _get_fields_kept_unlocked(self):
        return super()._get_fields_kept_unlocked() | {"loyalty_program_id"}
