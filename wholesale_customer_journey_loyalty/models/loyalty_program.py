# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, models
from odoo.exceptions import ValidationError

# Programs a suggestion can offer. Gift cards, eWallets and loyalty cards hold
# a customer's credit or points: they are no offer for one product.
OFFER_PROGRAM_TYPES = ("coupons", "next_order_coupons", "promo_code", "promotion", "buy_x_get_y")
# Programs whose offer is a coupon of its own for each suggestion.
COUPON_PROGRAM_TYPES = ("coupons", "next_order_coupons")


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    def _journey_check_offer(self, company, field_label):
        """Raise unless the program in ``self`` (zero or one) may be offered with suggestions of ``company``.

        :param field_label: the label of the field that contains the program, for the message
        :raise ValidationError: naming the field, the program and the fix
        """
        if not self:
            return
        self.ensure_one()
        if self.program_type not in OFFER_PROGRAM_TYPES:
            types = dict(self._fields["program_type"]._description_selection(self.env))
            raise ValidationError(
                _(
                    "%(field)s: program %(program)s is of type %(type)s, which a suggestion cannot offer. "
                    "Choose a coupons, next order coupons, discount code, promotion or buy X get Y program.",
                    field=field_label,
                    program=self.name,
                    type=types[self.program_type],
                )
            )
        if self.company_id and self.company_id != company:
            raise ValidationError(
                _(
                    "%(field)s: program %(program)s belongs to company %(program_company)s, not %(company)s. "
                    "Choose a program of %(company)s or one shared by all companies.",
                    field=field_label,
                    program=self.name,
                    program_company=self.company_id.name,
                    company=company.name,
                )
            )

    def _journey_is_available(self, partner, company, today, pricelist=None):
        """Return whether the customer ``partner`` can use the program in ``self`` (zero or one) on a sales order today.

        The program must still be of a type a suggestion offers and of
        ``company`` or shared, active, for sales, started and not ended,
        under its usage limit, and open to ``pricelist``, by default the
        customer's.
        """
        program = self.sudo()
        if not program or not program.active or not program.sale_ok:
            return False
        # The program may have changed since a rule or the company named it.
        if program.program_type not in OFFER_PROGRAM_TYPES or program.company_id not in (company, company.browse()):
            return False
        if (program.date_from and program.date_from > today) or (program.date_to and program.date_to < today):
            return False
        if program.limit_usage and program.total_order_count >= program.max_usage:
            return False
        if program.pricelist_ids:
            pricelist = pricelist or partner.with_company(company).sudo().property_product_pricelist
            return pricelist in program.pricelist_ids
        return True

    def _journey_offer_code(self):
        """Return the code that triggers the program in ``self`` (zero or one), or False when it applies by itself."""
        return self.rule_ids.filtered(lambda rule: rule.mode == "with_code" and rule.code)[:1].code or False
