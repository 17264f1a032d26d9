# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.tools import LazyTranslate

_lt = LazyTranslate(__name__)


class BaseImport(models.TransientModel):
    _inherit = "base_import.import"

    def execute_import(self, fields, columns, options, dryrun=False):
        # The imported records only see the context: pass them the file name.
        self = self.with_context(journey_import_file_name=self.file_name or "")
        return super().execute_import(fields, columns, options, dryrun=dryrun)


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if self.env.context.get("import_file"):
            partners._journey_record_import_touchpoints()
        return partners

    def _journey_record_import_touchpoints(self):
        """Record one inbound touchpoint per partner created by Odoo's standard import.

        Partners of the own organisation get none, because
        ``_record_touchpoints`` skips them. The source key keeps it to one
        per partner.
        """
        file_name = self.env.context.get("journey_import_file_name")
        summary = (
            _lt("Imported from list %(name)s", name=file_name) if file_name else _lt("Imported from a list")
        )
        self.env["customer.journey.touchpoint"]._record_touchpoints(
            [
                {
                    "name": summary,
                    "partner_id": partner.id,
                    "channel": "other",
                    "direction": "inbound",
                    "kind": "direct",
                    "origin": "import",
                    "res_model": "res.partner",
                    "res_id": partner.id,
                    "source_key": f"res.partner,{partner.id},imported",
                    "user_id": self.env.uid,
                }
                for partner in self
            ]
        )
