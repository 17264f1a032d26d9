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

    @api.constrains("company_id", "team_id", "user_id")
    def _check_rule_company(self):
        """Reject a salesperson or a sales team of another company on a rule with a company.

        Odoo moves a lead to the company of its salesperson or team, so a
        rule of company A with a salesperson of company B only would move
        company A's response leads to company B.
        """
        for rule in self.sudo():
            company = rule.company_id
            if not company:
                continue
            if rule.user_id and company not in rule.user_id.company_ids:
                raise ValidationError(
                    _(
                        "Invalid Salesperson “%(user)s” on the assignment rule “%(rule)s”: they do not "
                        "work in %(company)s, the rule's company. Choose a salesperson of %(company)s, "
                        "or give them access to it.",
                        user=rule.user_id.name,
                        rule=rule.name,
                        company=company.name,
                    )
                )
            if rule.team_id.company_id and rule.team_id.company_id != company:
                raise ValidationError(
                    _(
                        "Invalid Sales Team “%(team)s” on the assignment rule “%(rule)s”: it belongs to "
                        "%(team_company)s, not to %(company)s, the rule's company. Choose a sales team "
                        "of %(company)s or one without company.",
                        team=rule.team_id.name,
                        rule=rule.name,
                        team_company=rule.team_id.company_id.name,
                        company=company.name,
                    )
                )

    @api.constrains("country_ids", "state_ids")
    def _check_states_in_countries(self):
        """Reject states outside the rule's countries: the rule could never match them."""
        for rule in self:
            if not rule.country_ids:
                continue
            outside = rule.state_ids.filtered(lambda state: state.country_id not in rule.country_ids)
            if outside:
                raise ValidationError(
                    _(
                        "Invalid States on the assignment rule “%(rule)s”: %(states)s lie outside its "
                        "Countries, so the rule can never match a customer there. Add their countries, "
                        "or remove these states.",
                        rule=rule.name,
                        states=", ".join(outside.mapped("display_name")),
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

        A rule (or a salesperson of the customer) that does not fit
        ``company`` is passed over: a salesperson who does not work in it, or
        a team of another company, would move the lead to another company.

        :param company: the company of the lead, the mailing's
        :param contact: the partner who responded, or an empty recordset
        :param customer: its commercial partner, or an empty recordset
        """
        rules = self.sudo().search([("company_id", "in", [False, company.id])])
        for rule in rules:
            if rule._fits_company(company) and rule._matches(contact, customer, campaign):
                return rule.team_id, rule.user_id
        for partner_user in (contact.user_id, customer.user_id):
            if partner_user and not partner_user.share and company in partner_user.company_ids:
                return self.env["crm.team"], partner_user
        return self.env["crm.team"], self.env["res.users"]

    def _fits_company(self, company):
        """Return whether the rule's salesperson and team may own a lead of ``company``."""
        self.ensure_one()
        if self.user_id and company not in self.user_id.company_ids:
            return False
        return not self.team_id.company_id or self.team_id.company_id == company

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
