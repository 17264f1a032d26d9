# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


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
        copy=False,
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

    # ------------------------------------------------------------
    # TRACKING MAILINGS OF PRODUCT INFORMATION RULES
    # ------------------------------------------------------------

    def _journey_check_not_info_mailing(self):
        """Raise a UserError for a tracking mailing of a product information rule.

        Such a mailing has no body and an empty audience. Sent, retried or
        scheduled as a mass mailing, it would mail empty messages.
        """
        mailing = self.filtered("journey_info_rule_id")[:1]
        if mailing:
            raise UserError(
                _(
                    "The mailing “%(mailing)s” only tracks the mails of product information rule "
                    "“%(rule)s”: it cannot be sent, tested, scheduled or retried. The rule's "
                    "scheduled action sends its mails; use Send Test to Me on the rule to try it.",
                    mailing=mailing.display_name,
                    rule=mailing.journey_info_rule_id.name,
                )
            )

    def action_test(self):
        self._journey_check_not_info_mailing()
        return super().action_test()

    def action_launch(self):
        self._journey_check_not_info_mailing()
        return super().action_launch()

    def action_schedule(self):
        self._journey_check_not_info_mailing()
        return super().action_schedule()

    def action_put_in_queue(self):
        self._journey_check_not_info_mailing()
        return super().action_put_in_queue()

    def action_retry_failed(self):
        self._journey_check_not_info_mailing()
        return super().action_retry_failed()

    def action_send_mail(self, res_ids=None):
        self._journey_check_not_info_mailing()
        return super().action_send_mail(res_ids=res_ids)

    def _action_send_mail(self, res_ids=None):
        # The mass mailing queue calls this directly: a tracking mailing that got
        # into the queue anyway is taken out, never sent.
        info_mailings = self.filtered("journey_info_rule_id")
        if info_mailings:
            _logger.warning(
                "Mailings %s track product information rules and are not sent as mass mailings",
                info_mailings.ids,
            )
            info_mailings.write({"state": "done"})
        return super(MailingMailing, self - info_mailings)._action_send_mail(res_ids=res_ids)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_info_mailing(self):
        mailing = self.filtered("journey_info_rule_id")[:1]
        if mailing:
            raise UserError(
                _(
                    "The mailing “%(mailing)s” tracks the mails of product information rule "
                    "“%(rule)s” and cannot be deleted. Archive or delete the rule instead.",
                    mailing=mailing.display_name,
                    rule=mailing.journey_info_rule_id.name,
                )
            )
