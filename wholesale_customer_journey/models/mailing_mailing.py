# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    journey_lead_creation = fields.Selection(
        [("campaign", "As the Campaign"), ("on", "Always"), ("off", "Never")],
        string="Leads from Responses",
        required=True,
        default="campaign",
        help="As the Campaign: follow the campaign's Create Leads from Responses, also when "
        "it changes later. Always or Never: this mailing's own choice, whatever the "
        "campaign says.",
    )
    journey_info_rule_id = fields.Many2one(
        "customer.journey.info.rule",
        string="Product Information Rule",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The product information rule whose mails this mailing tracks. Such a mailing "
        "is never sent itself.",
    )
    journey_create_leads = fields.Boolean(
        string="Create Leads from Responses",
        compute="_compute_journey_create_leads",
        inverse="_inverse_journey_create_leads",
        search="_search_journey_create_leads",
        help="When a recipient clicks a link or replies, create a lead for the "
        "customer company, or update its open lead.",
    )

    @api.depends("journey_lead_creation", "campaign_id.journey_create_leads")
    def _compute_journey_create_leads(self):
        for mailing in self:
            if mailing.journey_lead_creation == "campaign":
                mailing.journey_create_leads = mailing.campaign_id.journey_create_leads
            else:
                mailing.journey_create_leads = mailing.journey_lead_creation == "on"

    def _inverse_journey_create_leads(self):
        # Setting the flag itself is the mailing's own choice from then on.
        for mailing in self:
            mailing.journey_lead_creation = "on" if mailing.journey_create_leads else "off"

    def _search_journey_create_leads(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        creates = [
            "|",
            ("journey_lead_creation", "=", "on"),
            "&",
            ("journey_lead_creation", "=", "campaign"),
            ("campaign_id.journey_create_leads", "=", True),
        ]
        return creates if (operator == "=") == value else ["!"] + creates
