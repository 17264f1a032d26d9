# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, models
from odoo.tools import format_amount


class ProductTemplate(models.Model):
    """Product information for the mails and activities of product information rules."""

    _inherit = "product.template"

    @api.model
    def _journey_info_pricelist(self, customer, company):
        """Return the pricelist of ``customer`` in ``company``, or the company's first pricelist."""
        pricelist = customer.with_company(company).property_product_pricelist if customer else False
        if pricelist:
            return pricelist
        return self.env["product.pricelist"].sudo().search(
            [("active", "=", True), ("company_id", "in", [company.id, False])], limit=1
        )

    def _journey_info_prices(self, pricelist):
        """Return {template id: (unit price, currency id)} of ``self`` in ``pricelist``, for one unit.

        Without pricelist the price is the sales price in the company's currency.
        """
        currency = pricelist.currency_id or self.env.company.currency_id
        prices = pricelist._get_products_price(self, 1.0, currency=currency)
        return {template.id: (prices.get(template.id, template.list_price), currency.id) for template in self}

    def _journey_info_availability(self):
        """Return the availability of the product as a sentence in the current language.

        With Inventory installed, a storable product is in stock when a
        variant has a free quantity, and otherwise delivered after its
        customer lead time. Without Inventory the stock is unknown.
        """
        self.ensure_one()
        env = self.env
        if "is_storable" in self._fields and self.is_storable:
            if sum(self.product_variant_ids.mapped("free_qty")) > 0:
                return env._("In stock")
            if self.sale_delay:
                return env._("Delivered in %(days)s days", days=int(self.sale_delay))
            return env._("On order")
        if self.type == "service":
            return env._("Available")
        return env._("Availability on request")

    @api.model
    def _journey_info_document_records(self, template_ids):
        """Return the product documents of ``template_ids`` that customers may receive.

        Those are the active documents whose Sale visibility is "On quote",
        of the product or one of its variants.
        """
        templates = self.sudo().browse(template_ids)
        return self.env["product.document"].sudo().search(
            [
                ("attached_on_sale", "=", "quotation"),
                "|",
                "&", ("res_model", "=", "product.template"), ("res_id", "in", templates.ids),
                "&", ("res_model", "=", "product.product"), ("res_id", "in", templates.product_variant_ids.ids),
            ]
        )

    @api.model
    def _journey_info_documents(self, template_ids):
        """Return the documents of ``template_ids`` to send, with one search.

        :return: ({template id: [attachment ids of the files]},
            {template id: [(name, url) of the links]})
        """
        templates = self.sudo().browse(template_ids)
        variant_templates = {variant.id: variant.product_tmpl_id.id for variant in templates.product_variant_ids}
        attachments, links = defaultdict(list), defaultdict(list)
        for document in self._journey_info_document_records(templates.ids):
            if document.res_model == "product.template":
                template_id = document.res_id
            else:
                template_id = variant_templates.get(document.res_id)
            if not template_id:
                continue
            if document.type == "binary":
                attachments[template_id].append(document.ir_attachment_id.id)
            elif document.url:
                links[template_id].append((document.name, document.url))
        return dict(attachments), dict(links)

    def _journey_info_lines(self, prices, company, links=None):
        """Return the product information of ``self`` as dicts, in the current language.

        :param prices: {template id: (unit price, currency id)}
        :param links: {template id: [(name, url)]} read for a whole batch, or
            None to read the link documents of ``self``
        :return: [{product, name, description, price, uom, availability, links}]
        """
        if links is None:
            links = self._journey_info_documents(self.ids)[1]
        lines = []
        for template in self:
            price, currency_id = prices.get(template.id, (template.list_price, company.currency_id.id))
            currency = self.env["res.currency"].browse(currency_id)
            lines.append(
                {
                    "product": template,
                    "name": template.display_name,
                    "description": template.description_sale or "",
                    "price": format_amount(self.env, price, currency, lang_code=self.env.lang),
                    "uom": template.uom_id.name,
                    "availability": template._journey_info_availability(),
                    "links": links.get(template.id, []),
                }
            )
        return lines
