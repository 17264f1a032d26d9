# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CustomerJourneyInterest(models.Model):
    """A product or product category that a customer company showed interest in.

    Recorded by hand on the customer, or from the products of interest of
    its leads. One row per company, customer and product or category:
    recording the same interest again moves its date, so the date is the
    latest sign of interest. Each company keeps its own rows, because a
    customer shared by all companies can ask each of them.
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
        # One row per company, customer and product or category, whichever is set.
        self.env.cr.execute("DROP INDEX IF EXISTS customer_journey_interest_unique_idx")
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS customer_journey_interest_company_unique_idx
                ON customer_journey_interest
                   (company_id, partner_id, COALESCE(product_tmpl_id, 0), COALESCE(categ_id, 0))
            """
        )

    # The customer is always given, so the check also runs when neither field is.
    @api.constrains("partner_id", "product_tmpl_id", "categ_id", "company_id")
    def _check_interest(self):
        own_ids = self.env["res.partner"]._journey_own_partner_ids()
        for interest in self:
            customer = interest.partner_id.display_name
            if not interest.product_tmpl_id and not interest.categ_id:
                raise ValidationError(
                    _(
                        "Missing Product and Product Category on the interest of “%(customer)s”: "
                        "choose the product or the category the customer is interested in.",
                        customer=customer,
                    )
                )
            if interest.product_tmpl_id and interest.categ_id:
                raise ValidationError(
                    _(
                        "Both a Product and a Product Category on the interest of “%(customer)s”: "
                        "record one interest for the product and another for the category.",
                        customer=customer,
                    )
                )
            if interest.partner_id.id in own_ids:
                raise ValidationError(
                    _(
                        "Invalid Customer “%(customer)s” on a product interest: it is this "
                        "database's own organisation. Choose a customer company.",
                        customer=customer,
                    )
                )

    def _check_not_recorded(self, company_id, partner_id, product_id, categ_id):
        """Raise a ValidationError when this interest is recorded already.

        Runs before the insert or update, because the unique index would
        otherwise reject it with a database error.
        """
        duplicate = self.sudo().search(
            [
                ("id", "not in", self.ids),
                ("company_id", "=", company_id),
                ("partner_id", "=", partner_id),
                ("product_tmpl_id", "=", product_id or False),
                ("categ_id", "=", categ_id or False),
            ],
            limit=1,
        )
        if duplicate:
            raise ValidationError(
                _(
                    "“%(customer)s” already has an interest in %(subject)s. Change the date of "
                    "that interest instead of adding it again.",
                    customer=duplicate.partner_id.display_name,
                    subject=(duplicate.product_tmpl_id or duplicate.categ_id).display_name,
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
            self.browse()._check_not_recorded(
                vals.get("company_id") or self.env.company.id,
                vals.get("partner_id"),
                vals.get("product_tmpl_id"),
                vals.get("categ_id"),
            )
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("partner_id"):
            partner = self.env["res.partner"].browse(vals["partner_id"])
            vals = dict(vals, partner_id=partner.commercial_partner_id.id)
        if {"company_id", "partner_id", "product_tmpl_id", "categ_id"} & set(vals):
            for interest in self:
                interest._check_not_recorded(
                    vals.get("company_id", interest.company_id.id),
                    vals.get("partner_id", interest.partner_id.id),
                    vals.get("product_tmpl_id", interest.product_tmpl_id.id),
                    vals.get("categ_id", interest.categ_id.id),
                )
        return super().write(vals)

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
        company = (lead.company_id if lead else customer.company_id) or self.env.company
        Interest = self.sudo()
        existing = Interest.search(
            [
                ("company_id", "=", company.id),
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
            "company_id": company.id,
        }
        created = Interest.create(
            [dict(common, product_tmpl_id=product.id) for product in products - known_products]
            + [dict(common, categ_id=category.id) for category in categories - known_categories]
        )
        return existing | created
