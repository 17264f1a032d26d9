# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import LazyTranslate

from .res_partner import PREFERRED_CHANNELS

_lt = LazyTranslate(__name__)

# utm.medium names that tell the channel of a lead, lower-cased.
MEDIUM_CHANNELS = {
    "email": "email",
    "e-mail": "email",
    "phone": "phone",
    "website": "website",
    "social": "social",
    "social media": "social",
    "facebook": "social",
    "linkedin": "social",
    "twitter": "social",
    "x": "social",
    "instagram": "social",
    "trade fair": "trade_fair",
}


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "customer.journey.document.mixin"]

    journey_stage_id = fields.Many2one(
        related="partner_id.commercial_partner_id.journey_stage_id",
        string="Customer Journey Stage",
        groups="base.group_user",
    )
    journey_stage_snapshot_id = fields.Many2one(
        string="Journey Stage of the Lead",
        help="The customer's journey stage after this lead's latest event "
        "(creation or pipeline stage change).",
    )
    journey_dropoff_stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Dropped Off at Stage",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        groups="base.group_user",
        help="The customer's journey stage when this opportunity was marked lost.",
    )
    journey_preferred_channel = fields.Selection(
        PREFERRED_CHANNELS,
        string="Preferred Contact Channel",
        compute="_compute_journey_preferred_channel",
        groups="base.group_user",
    )
    journey_interest_product_ids = fields.Many2many(
        "product.template",
        "crm_lead_journey_interest_product_rel",
        "lead_id",
        "product_tmpl_id",
        string="Products of Interest",
        copy=False,
        help="Products the customer asked about. Each one is recorded as a product interest "
        "of the customer company.",
    )
    journey_interest_categ_ids = fields.Many2many(
        "product.category",
        "crm_lead_journey_interest_categ_rel",
        "lead_id",
        "categ_id",
        string="Categories of Interest",
        copy=False,
        help="Product categories the customer asked about. Each one is recorded as a product "
        "interest of the customer company.",
    )

    @api.depends("partner_id.journey_preferred_channel", "partner_id.commercial_partner_id")
    def _compute_journey_preferred_channel(self):
        for lead in self:
            partner = lead.partner_id
            channel = partner.journey_preferred_channel
            if (not channel or channel == "none") and partner:
                channel = partner.commercial_partner_id.journey_preferred_channel
            lead.journey_preferred_channel = channel or "none"

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if not self.env.context.get("journey_no_capture"):
            leads._journey_on_created()
            for lead in leads:
                lead._journey_record_interest(lead.journey_interest_product_ids, lead.journey_interest_categ_ids)
        return leads

    def write(self, vals):
        stage_changed = self.browse()
        if "stage_id" in vals:
            stage_changed = self.filtered(lambda lead: lead.stage_id.id != vals["stage_id"])
        partner_set = self.browse()
        customer_changed = self.browse()
        if vals.get("partner_id"):
            partner_set = self.filtered(lambda lead: not lead.partner_id)
            new_customer = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id
            customer_changed = self.filtered(
                lambda lead: lead.partner_id and lead.partner_id.commercial_partner_id != new_customer
            )
        interests_before = {}
        if {"journey_interest_product_ids", "journey_interest_categ_ids"} & set(vals):
            interests_before = {
                lead.id: (lead.journey_interest_product_ids, lead.journey_interest_categ_ids) for lead in self
            }
        res = super().write(vals)
        if self.env.context.get("journey_no_capture"):
            return res
        for lead in self:
            if lead in partner_set or lead in customer_changed:
                # The interests the lead collected before it had this customer.
                lead._journey_record_interest(lead.journey_interest_product_ids, lead.journey_interest_categ_ids)
            elif lead.id in interests_before:
                products, categories = interests_before[lead.id]
                lead._journey_record_interest(
                    lead.journey_interest_product_ids - products, lead.journey_interest_categ_ids - categories
                )
        if partner_set:
            # Touchpoints and stage of a lead captured before it had a customer.
            touchpoints = self.env["customer.journey.touchpoint"]
            touchpoints._attach_to_partner(
                "crm.lead", partner_set.ids, self.env["res.partner"].browse(vals["partner_id"])
            )
            partner_set._journey_on_created(touchpoint=False)
        if stage_changed:
            stage_changed._journey_on_stage_changed()
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_lost(self, **additional_values):
        for lead in self:
            stage = lead.partner_id.commercial_partner_id.journey_stage_id
            if stage:
                lead.sudo().journey_dropoff_stage_id = stage
        return super().action_set_lost(**additional_values)

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _journey_record_interest(self, products, categories):
        """Record ``products`` and ``categories`` as interests of the lead's customer company."""
        self.ensure_one()
        if self.partner_id and (products or categories):
            self.env["customer.journey.interest"]._record_interest(
                self.partner_id, products=products, categories=categories, lead=self
            )

    def _journey_channel(self):
        medium = (self.medium_id.name or "").strip().lower()
        return MEDIUM_CHANNELS.get(medium, "other")

    def _journey_on_created(self, touchpoint=True):
        Partner = self.env["res.partner"]
        from_campaign = self.filtered("campaign_id")
        Partner._journey_event("lead_created_campaign", from_campaign)
        Partner._journey_event("lead_created", self - from_campaign)
        Partner._journey_event("crm_stage", self.filtered("stage_id"))
        if touchpoint:
            self.env["customer.journey.touchpoint"]._record_touchpoints(
                [
                    lead._journey_touchpoint_vals(
                        "lead",
                        _lt("Opportunity created: %(name)s", name=lead.name)
                        if lead.type == "opportunity"
                        else _lt("Lead created: %(name)s", name=lead.name),
                        f"crm.lead,{lead.id},created",
                        channel=lead._journey_channel(),
                        direction="inbound",
                    )
                    for lead in self
                ]
            )
        self._journey_snapshot()

    def _journey_on_stage_changed(self):
        self.env["res.partner"]._journey_event("crm_stage", self)
        self.env["customer.journey.touchpoint"]._record_touchpoints(
            [
                lead._journey_touchpoint_vals(
                    "lead_stage",
                    _lt("%(lead)s moved to %(stage)s", lead=lead.name, stage=lead.stage_id.name),
                    f"crm.lead,{lead.id},stage,{lead.stage_id.id},{fields.Datetime.now().isoformat()}",
                    channel=lead._journey_channel(),
                    direction="outbound",
                )
                for lead in self
            ]
        )
        self._journey_snapshot()
