# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CustomerJourneyInterest(models.Model):
    """A product or product category that a customer company showed interest in.

    Recorded by hand on the customer, or from the products of interest of
    its leads. One row per customer and product or category: recording the
    same interest again moves its date, so the date is the latest sign of
    interest.
    """

    _name = "customer.journey.interest"
    _description = "Customer Journey Product Interest"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        domain="[('journey_is_company', '=', True)]",
    )
    product_tmpl_id = fields.Many2one("product.template", string="Product", index="btree_not_null", ondelete="cascade")
    categ_id = fields.Many2one(
        "product.category", string="Product Category", index="btree_not_null", ondelete="cascade"
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead",
        index="btree_not_null",
        ondelete="set null",
        help="The lead whose products of interest recorded this interest last.",
    )
    date = fields.Datetime(
        string="Recorded On",
        required=True,
        index=True,
        default=fields.Datetime.now,
        help="The latest time the customer showed interest in it.",
    )
    user_id = fields.Many2one("res.users", string="Recorded By", default=lambda self: self.env.user)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    note = fields.Char()

    def init(self):
        # One row per customer and product or category, whichever is set.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS customer_journey_interest_unique_idx
                ON customer_journey_interest (partner_id, COALESCE(product_tmpl_id, 0), COALESCE(categ_id, 0))
            """
        )

    # The customer is always given, so the check also runs when neither field is.
    @api.constrains("partner_id", "product_tmpl_id", "categ_id")
    def _check_product_or_category(self):
        for interest in self:
            if not interest.product_tmpl_id and not interest.categ_id:
                raise ValidationError(
                    _(
                        "Missing Product and Product Category on the interest of “%(customer)s”: "
                        "choose the product or the category the customer is interested in.",
                        customer=interest.partner_id.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        Partner = self.env["res.partner"]
        for vals in vals_list:
            # The interest belongs to the customer company, as its journey does.
            partner = Partner.browse(vals.get("partner_id"))
            if partner and partner.commercial_partner_id != partner:
                vals["partner_id"] = partner.commercial_partner_id.id
            if partner and "company_id" not in vals and partner.company_id:
                vals["company_id"] = partner.company_id.id
        return super().create(vals_list)

    @api.model
    def _record_interest(self, partner, products=None, categories=None, lead=None, date=None):
        """Record the interest of ``partner``'s company in ``products`` and ``categories``.

        An interest already recorded gets the new date (and lead); the others
        are created. Runs as superuser: a salesperson who edits a lead need
        not have the right to write interests.

        :return: the interests created or updated
        """
        customer = partner.commercial_partner_id
        if not customer or customer.id in self.env["res.partner"]._journey_own_partner_ids():
            return self.browse()
        products = products or self.env["product.template"]
        categories = categories or self.env["product.category"]
        date = date or fields.Datetime.now()
        Interest = self.sudo()
        existing = Interest.search(
            [
                ("partner_id", "=", customer.id),
                "|",
                ("product_tmpl_id", "in", products.ids),
                "&",
                ("product_tmpl_id", "=", False),
                ("categ_id", "in", categories.ids),
            ]
        )
        existing.write({"date": date, **({"lead_id": lead.id} if lead else {})})
        known_products = existing.product_tmpl_id
        known_categories = existing.filtered(lambda interest: not interest.product_tmpl_id).categ_id
        common = {
            "partner_id": customer.id,
            "date": date,
            "lead_id": lead.id if lead else False,
            "company_id": (lead.company_id if lead else customer.company_id).id or self.env.company.id,
        }
        created = Interest.create(
            [dict(common, product_tmpl_id=product.id) for product in products - known_products]
            + [dict(common, categ_id=category.id) for category in categories - known_categories]
        )
        return existing | created
