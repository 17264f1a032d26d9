# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from lxml import etree

from odoo import models


class IrQWeb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        """Compile a raw template once for all product information mails of a batch.

        Odoo compiles the body of a mail template again for each record it
        renders, because a template given as an element has no cache. With a
        ``journey_info_qweb_cache`` dict in the context, which the product
        information batch passes, the records share one compiled template.
        The key contains the context values that Odoo's own template cache keys
        on, so the result is the same as a compilation per record.
        """
        cache = self.env.context.get("journey_info_qweb_cache")
        if cache is None or not isinstance(template, etree._Element):
            return super()._compile(template)
        key = (
            etree.tostring(template),
            tuple(self.env.context.get(key) for key in self._get_template_cache_keys()),
            self.env.context.get("raise_on_forbidden_code_for_model"),
        )
        if key not in cache:
            cache[key] = super()._compile(template)
        return cache[key]
