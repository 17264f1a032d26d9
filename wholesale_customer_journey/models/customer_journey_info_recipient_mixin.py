# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class CustomerJourneyInfoRecipientMixin(models.AbstractModel):
    """Product lines of the product information mail about a lead or a customer."""

    _name = "customer.journey.info.recipient.mixin"
    _description = "Product Information Recipient"

    def _journey_info_customer(self):
        """Return the customer company that the record is about."""
        self.ensure_one()
        partner = self.partner_id if self._name == "crm.lead" else self
        return partner.commercial_partner_id

    def _journey_info_company(self):
        """Return the company that sends the product information mail about the record.

        The rule's company in a run of the scheduled action, else the
        record's company, else the current one. The templates take the
        sender and the signature from it: the scheduled action runs as
        OdooBot, whose company is unrelated to the mail.
        """
        self.ensure_one()
        payload = self.env.context.get("journey_info_payload", {}).get(self.id)
        if payload:
            return self.env["customer.journey.info.rule"].sudo().browse(payload["rule_id"]).company_id
        return self.company_id or self.env.company

    def _journey_info_has_attachments(self):
        """Tell whether the product information mail about the record carries product documents."""
        self.ensure_one()
        payload = self.env.context.get("journey_info_payload", {}).get(self.id)
        return bool(payload and payload.get("attachment_ids"))

    def _journey_info_product_lines(self):
        """Return the product lines that the product information mail shows, in the current language.

        The scheduled action puts the products and prices of each record
        in the context (``journey_info_payload``). Without them, as in the
        template editor's preview, the lines show the customer's products of
        interest at the customer's prices.
        """
        self.ensure_one()
        Product = self.env["product.template"].sudo().with_context(lang=self.env.lang)
        payload = self.env.context.get("journey_info_payload", {}).get(self.id)
        if payload:
            rule = self.env["customer.journey.info.rule"].sudo().browse(payload["rule_id"])
            return Product.browse(payload["product_ids"])._journey_info_lines(
                payload["prices"], rule.company_id, links=payload.get("links")
            )
        customer = self._journey_info_customer()
        company = self.company_id or customer.company_id or self.env.company
        products = self.env["customer.journey.interest"].sudo().search(
            [
                ("partner_id", "=", customer.id),
                ("product_tmpl_id", "!=", False),
                # As superuser: only what the company that renders the preview may show.
                ("company_id", "=", company.id),
                ("product_tmpl_id.company_id", "in", [company.id, False]),
            ],
            limit=5,
        ).product_tmpl_id
        if self._name == "crm.lead":
            products = (self.journey_interest_product_ids | products)[:5]
        products = Product.browse(products.ids)
        prices = products.with_company(company)._journey_info_prices(Product._journey_info_pricelist(customer, company))
        return products._journey_info_lines(prices, company)
