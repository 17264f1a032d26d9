# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# Events raised by code. Which stage each one leads to is configured in rules.
JOURNEY_EVENTS = [
    ("lead_created", "Lead or opportunity created"),
    ("lead_created_campaign", "Lead or opportunity created from a campaign"),
    ("crm_stage", "Opportunity reached a CRM stage"),
    ("quotation_sent", "Quotation sent"),
    ("order_confirmed", "Order confirmed"),
    ("order_delivered", "First order delivered"),
    ("order_paid", "First order invoiced and paid"),
    ("campaign_response", "Campaign mailing clicked or replied to"),
]


class CustomerJourneyRule(models.Model):
    """Mapping from an ERP event to the journey stage it moves a customer to."""

    _name = "customer.journey.rule"
    _description = "Customer Journey Rule"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    event_code = fields.Selection(JOURNEY_EVENTS, string="Event", required=True)
    crm_stage_id = fields.Many2one(
        "crm.stage",
        string="CRM Stage",
        ondelete="cascade",
        help="For the event “Opportunity reached a CRM stage”: the pipeline stage "
        "that moves the customer.",
    )
    stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Journey Stage",
        required=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to apply the rule in every company. A rule of the "
        "event's company takes precedence over a rule without company.",
    )

    _sql_constraints = [
        (
            "event_unique",
            "unique(event_code, crm_stage_id, company_id)",
            "An event can lead to only one journey stage per CRM stage and company.",
        ),
    ]

    @api.constrains("event_code", "crm_stage_id")
    def _check_crm_stage(self):
        for rule in self:
            if rule.event_code == "crm_stage" and not rule.crm_stage_id:
                raise ValidationError(
                    _(
                        "Missing CRM Stage on the rule for “%(event)s”: choose the "
                        "pipeline stage that moves the customer.",
                        event=rule._fields["event_code"].convert_to_export(
                            rule.event_code, rule
                        ),
                    )
                )
            if rule.event_code != "crm_stage" and rule.crm_stage_id:
                raise ValidationError(
                    _(
                        "Invalid CRM Stage on the rule for “%(event)s”: only the "
                        "event “Opportunity reached a CRM stage” uses it. Clear the "
                        "CRM Stage field.",
                        event=rule._fields["event_code"].convert_to_export(
                            rule.event_code, rule
                        ),
                    )
                )

    def _compute_display_name(self):
        for rule in self:
            event = dict(self._fields["event_code"]._description_selection(self.env)).get(
                rule.event_code, ""
            )
            if rule.crm_stage_id:
                event = f"{event} ({rule.crm_stage_id.name})"
            rule.display_name = f"{event} → {rule.stage_id.name or ''}"

    @api.model
    def _get_stage_map(self, event_code, companies):
        """Return {(company_id, crm_stage_id): stage} for an event.

        Company-specific rules override rules without a company. The key's
        crm_stage_id is False for events other than ``crm_stage``.
        """
        rules = self.search(
            [
                ("event_code", "=", event_code),
                ("company_id", "in", [False, *companies.ids]),
            ],
        )
        # Company-specific rules first, so that they win over shared ones.
        rules = rules.sorted(lambda rule: (not rule.company_id, rule.sequence, rule.id))
        result = {}
        for company in companies:
            for rule in rules:
                if rule.company_id and rule.company_id != company:
                    continue
                result.setdefault((company.id, rule.crm_stage_id.id), rule.stage_id)
        return result
