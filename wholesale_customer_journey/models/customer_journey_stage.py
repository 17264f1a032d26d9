# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CustomerJourneyStage(models.Model):
    """Phase of the customer journey, ordered by sequence.

    A customer only moves to a stage with a higher sequence on its own, so the
    sequence is the journey order and must be unique among active stages.
    """

    _name = "customer.journey.stage"
    _description = "Customer Journey Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    description = fields.Text(
        translate=True,
        help="What a customer in this stage has done, shown to users as a tooltip.",
    )
    sequence = fields.Integer(
        required=True,
        default=10,
        help="Position in the journey. Customers never move to a stage with a "
        "lower sequence unless a manager sets it by hand.",
    )
    fold = fields.Boolean(
        string="Folded in Kanban",
        help="Fold this stage's column in the customers kanban.",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)
    partner_count = fields.Integer(
        string="Customers", compute="_compute_partner_count"
    )

    def _compute_partner_count(self):
        counts = dict(
            self.env["res.partner"]._read_group(
                [("journey_stage_id", "in", self.ids), ("journey_is_company", "=", True)],
                ["journey_stage_id"],
                ["__count"],
            )
        )
        for stage in self:
            stage.partner_count = counts.get(stage, 0)

    @api.constrains("sequence", "active")
    def _check_sequence_unique(self):
        for stage in self.filtered("active"):
            twin = self.search(
                [("sequence", "=", stage.sequence), ("id", "!=", stage.id)], limit=1
            )
            if twin:
                raise ValidationError(
                    _(
                        "Invalid Sequence %(sequence)s on stage “%(stage)s”: stage "
                        "“%(twin)s” already has it, so the journey order would be "
                        "ambiguous. Give each active stage its own sequence.",
                        sequence=stage.sequence,
                        stage=stage.display_name,
                        twin=twin.display_name,
                    )
                )

    # The foreign keys to stages cascade or set null, so that uninstalling
    # the addon can delete its stages. This check keeps users from it.
    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        Partner = self.env["res.partner"].with_context(active_test=False)
        for stage in self:
            count = Partner.search_count([("journey_stage_id", "=", stage.id)])
            history = self.env["customer.journey.history"].search_count(
                ["|", ("stage_id", "=", stage.id), ("previous_stage_id", "=", stage.id)]
            )
            rules = self.env["customer.journey.rule"].with_context(active_test=False).search_count(
                [("stage_id", "=", stage.id)]
            )
            if count or history or rules:
                raise UserError(
                    _(
                        "Stage “%(stage)s” is in use and cannot be deleted (contacts "
                        "in this stage: %(count)s, stage history rows: %(history)s, "
                        "journey rules: %(rules)s). Archive the stage instead, or move "
                        "its customers and rules to another stage first.",
                        stage=stage.display_name,
                        count=count,
                        history=history,
                        rules=rules,
                    )
                )

    def action_open_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wholesale_customer_journey.action_journey_customers"
        )
        action["domain"] = [("journey_stage_id", "=", self.id), ("journey_is_company", "=", True)]
        return action
