# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CustomerJourneyAssignmentRule(models.Model):
    """Sales team and salesperson for the leads that campaign responses create.

    The rules are tried in sequence and the first one whose criteria all
    match the customer decides. An empty criterion matches any customer.
    """

    _name = "customer.journey.assignment.rule"
    _description = "Customer Journey Lead Assignment Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to apply the rule in every company.",
    )
    country_ids = fields.Many2many(
        "res.country",
        string="Countries",
        help="Customers in one of these countries. Empty: any country.",
    )
    state_ids = fields.Many2many(
        "res.country.state",
        string="States",
        help="Customers in one of these states or provinces. Empty: any state.",
    )
    stage_ids = fields.Many2many(
        "customer.journey.stage",
        string="Journey Stages",
        help="Customers in one of these journey stages when the response arrives. "
        "Empty: any stage, and also customers without a stage.",
    )
    category_ids = fields.Many2many(
        "res.partner.category",
        string="Customer Tags",
        help="Customers (company or responding contact) with one of these tags. Empty: any tags.",
    )
    campaign_ids = fields.Many2many(
        "utm.campaign",
        string="Campaigns",
        help="Responses to mailings of one of these campaigns. Empty: any campaign.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", ondelete="cascade")
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        domain="[('share', '=', False)]",
        ondelete="cascade",
    )

    # "name" makes the check run on create, also when neither result is given.
    @api.constrains("name", "team_id", "user_id")
    def _check_result(self):
        for rule in self:
            if not rule.team_id and not rule.user_id:
                raise ValidationError(
                    _(
                        "Missing Sales Team and Salesperson on the assignment rule “%(rule)s”: "
                        "set at least one of them.",
                        rule=rule.name,
                    )
                )
            if rule.user_id.share:
                raise ValidationError(
                    _(
                        "Invalid Salesperson “%(user)s” on the assignment rule “%(rule)s”: "
                        "only internal users can own leads. Choose an internal user.",
                        user=rule.user_id.name,
                        rule=rule.name,
                    )
                )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _find_assignment(self, company, contact, customer, campaign):
        """Return (team, user) for a lead from a campaign response.

        The first active rule of ``company`` (or without company) that
        matches decides. Without a matching rule, the salesperson of the
        contact, else of the customer company, with no team: the lead then
        gets that salesperson's team, as Odoo assigns it. Either or both may
        be empty, and the lead is left to Odoo's own assignment (the sales
        teams' assignment rules, when enabled).

        :param contact: the partner who responded, or an empty recordset
        :param customer: its commercial partner, or an empty recordset
        """
        rules = self.sudo().search([("company_id", "in", [False, company.id])])
        for rule in rules:
            if rule._matches(contact, customer, campaign):
                return rule.team_id, rule.user_id
        user = (contact.user_id or customer.user_id).filtered(lambda partner_user: not partner_user.share)
        return self.env["crm.team"], user

    def _matches(self, contact, customer, campaign):
        self.ensure_one()
        partners = contact | customer
        country = customer.country_id or contact.country_id
        state = customer.state_id or contact.state_id
        checks = (
            (self.country_ids, country),
            (self.state_ids, state),
            (self.stage_ids, customer.journey_stage_id),
            (self.category_ids, partners.category_id),
            (self.campaign_ids, campaign),
        )
        return all(not criterion or criterion & value for criterion, value in checks)
