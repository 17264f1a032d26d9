# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError


class CustomerJourneyStageSet(models.TransientModel):
    """Manual stage override, with the reason kept in the stage history."""

    _name = "customer.journey.stage.set"
    _description = "Set Customer Journey Stage"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    stage_id = fields.Many2one("customer.journey.stage", string="New Stage", required=True)
    reason = fields.Text(required=True, help="Why the stage is set by hand; kept in the stage history.")

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_manager"):
            raise AccessError(_("Only Customer Journey managers can set a stage by hand."))
        if not (self.reason or "").strip():
            raise UserError(_("Missing Reason: say why the stage is set by hand."))
        partners = self.partner_ids.commercial_partner_id
        own = partners.filtered(lambda partner: partner.id in partners._journey_own_partner_ids())
        if own:
            raise UserError(
                _(
                    "%(names)s: your own company and internal users have no customer journey. "
                    "Remove them from the Customers.",
                    names=", ".join(own.mapped("display_name")),
                )
            )
        partners._journey_set_stage(self.stage_id, "manual", reason=self.reason.strip(), force=True)
        return {"type": "ir.actions.act_window_close"}
