# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.translate import LazyGettext

_logger = logging.getLogger(__name__)

CHANNELS = [
    ("email", "Email"),
    ("phone", "Phone"),
    ("meeting", "Meeting / Visit"),
    ("website", "Website"),
    ("social", "Social Media"),
    ("trade_fair", "Trade Fair"),
    ("mailing", "Mailing"),
    ("review", "Review"),
    ("third_party", "Third-Party Opinion"),
    ("other", "Other"),
]
INDIRECT_CHANNELS = ("review", "third_party")
# Fields that an automatic touchpoint records of its event; only managers change them.
CAPTURED_FIELDS = {
    "date", "partner_id", "contact_id", "channel", "direction", "kind", "origin",
    "res_model", "res_id", "source_key", "company_id",
}

# Other spellings that callers and imported files use for a channel.
CHANNEL_ALIASES = {
    "mail": "email",
    "e-mail": "email",
    "call": "phone",
    "phonecall": "phone",
    "visit": "meeting",
    "social_media": "social",
    "fair": "trade_fair",
    "mass_mailing": "mailing",
    "opinion": "third_party",
}


class CustomerJourneyTouchpoint(models.Model):
    """Contact moment between the company and a customer, direct or indirect.

    Every source creates touchpoints through ``_record_touchpoints``, which
    normalises the values and skips a source already recorded (``source_key``).
    """

    _name = "customer.journey.touchpoint"
    _description = "Customer Journey Touchpoint"
    _inherit = ["utm.mixin"]
    _order = "date desc, id desc"

    name = fields.Char(
        string="Summary",
        required=True,
        translate=True,
        help="Automatic touchpoints are summarised in every installed language.",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        index=True,
        ondelete="cascade",
        domain="[('journey_is_company', '=', True)]",
        help="The customer company. Touchpoints of a lead without customer get "
        "one when the lead is linked to a customer.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Contact",
        index="btree_not_null",
        ondelete="set null",
        domain="[('commercial_partner_id', '=', partner_id)]",
    )
    channel = fields.Selection(CHANNELS, required=True, default="other")
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="outbound",
        help="Inbound: the customer or a third party reached out. Outbound: the "
        "company did.",
    )
    kind = fields.Selection(
        [("direct", "Direct"), ("indirect", "Indirect")],
        required=True,
        default="direct",
        help="Direct: between the company and the customer (mail, call, visit, "
        "order). Indirect: about the company, from elsewhere (a review, a "
        "competitor's or colleague's opinion).",
    )
    origin = fields.Selection(
        [
            ("lead", "Lead Created"),
            ("lead_stage", "Pipeline Stage Changed"),
            ("quotation", "Quotation Sent"),
            ("order", "Order Confirmed"),
            ("message", "Message"),
            ("activity", "Activity Done"),
            ("manual", "Logged by Hand"),
            ("import", "Imported"),
            ("mailing_open", "Mailing Opened"),
            ("mailing_click", "Mailing Link Clicked"),
            ("mailing_reply", "Mailing Replied"),
            ("mailing_bounce", "Mailing Bounced"),
            ("info_mail", "Product Information Sent"),
        ],
        string="Origin",
        required=True,
        default="manual",
    )
    rating = fields.Selection(
        # The priority widget shows no star for the first value, so "0" gives
        # five stars for 1 to 5. "0" is stored as no rating.
        [("0", "No Rating"), ("1", "Very Poor"), ("2", "Poor"), ("3", "Average"), ("4", "Good"), ("5", "Excellent")],
        help="Score from 1 to 5, for reviews and opinions.",
    )
    author_name = fields.Char(
        string="Opinion Of",
        help="Who gave an indirect opinion: a review site, a competitor, a colleague.",
    )
    note = fields.Html(string="Details", sanitize=True)
    user_id = fields.Many2one(
        "res.users", string="Salesperson", index="btree_not_null", default=lambda self: self.env.user
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Journey Stage",
        ondelete="set null",
        help="The customer's journey stage when the touchpoint happened.",
    )
    res_model = fields.Char(string="Source Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Source ID", model_field="res_model", readonly=True)
    source_ref = fields.Reference(
        selection="_selection_source_ref", string="Source Document", compute="_compute_source_ref"
    )
    source_key = fields.Char(
        readonly=True,
        copy=False,
        help="Identifies the event that created the touchpoint, so that it is recorded once.",
    )

    _sql_constraints = [
        ("source_key_unique", "unique(source_key)", "This event is already recorded as a touchpoint."),
        ("rating_range", "CHECK(rating IS NULL OR rating IN ('1', '2', '3', '4', '5'))", "The rating is a score from 1 to 5."),
    ]

    def init(self):
        # The product information triggers read, per customer, the latest touchpoint
        # (no touchpoint for N days) and, per quotation, when it was sent.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS customer_journey_touchpoint_latest_idx
                ON customer_journey_touchpoint (company_id, partner_id, date DESC, id DESC)
             WHERE partner_id IS NOT NULL
            """
        )
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS customer_journey_touchpoint_quotation_idx
                ON customer_journey_touchpoint (res_id)
             WHERE origin = 'quotation' AND res_model = 'sale.order'
            """
        )

    @api.model
    def _selection_source_ref(self):
        return [
            (model.model, model.name)
            for model in self.env["ir.model"].sudo().search(
                [("model", "in", ["res.partner", "crm.lead", "sale.order", "mail.message", "mailing.trace"])]
            )
        ]

    @api.depends("res_model", "res_id")
    def _compute_source_ref(self):
        for touchpoint in self:
            if touchpoint.res_model in self.env and touchpoint.res_id:
                touchpoint.source_ref = f"{touchpoint.res_model},{touchpoint.res_id}"
            else:
                touchpoint.source_ref = False

    @api.constrains("rating", "channel")
    def _check_rating(self):
        for touchpoint in self:
            if touchpoint.rating and touchpoint.channel not in INDIRECT_CHANNELS:
                raise ValidationError(
                    _(
                        "Invalid Rating on touchpoint “%(name)s”: only reviews and "
                        "third-party opinions have a rating. Set the Channel to "
                        "Review or Third-Party Opinion, or clear the Rating.",
                        name=touchpoint.name,
                    )
                )

    @api.constrains("partner_id", "contact_id")
    def _check_contact(self):
        for touchpoint in self:
            contact = touchpoint.contact_id
            if contact and touchpoint.partner_id and contact.commercial_partner_id != touchpoint.partner_id:
                raise ValidationError(
                    _(
                        "Invalid Contact “%(contact)s”: it does not belong to customer "
                        "“%(customer)s”. Choose a contact of that customer.",
                        contact=contact.display_name,
                        customer=touchpoint.partner_id.display_name,
                    )
                )

    @api.constrains("partner_id")
    def _check_customer_not_own(self):
        own_ids = self.env["res.partner"]._journey_own_partner_ids()
        for touchpoint in self:
            if touchpoint.partner_id.id in own_ids:
                raise ValidationError(
                    _(
                        "Invalid Customer “%(customer)s”: your own company and internal "
                        "users have no customer journey. Choose a customer.",
                        customer=touchpoint.partner_id.display_name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Create touchpoints; a summary may be a lazy translation (``_lt``).

        Such a summary is stored translated in every installed language, so
        that each reader sees it in their own language, whether a user, a
        scheduled action or an import caused the event.
        """
        vals_list = [self._normalize_vals(vals) for vals in vals_list]
        lazy_names = {}
        for index, vals in enumerate(vals_list):
            if isinstance(vals.get("name"), LazyGettext):
                lazy_names[index] = vals["name"]
                vals["name"] = vals["name"]._translate("en_US")
        touchpoints = super().create(vals_list)
        if lazy_names:
            touchpoints._store_summary_translations(
                {touchpoints[index].id: summary for index, summary in lazy_names.items()}
            )
        return touchpoints

    @api.model
    def _summary_translations(self, summary):
        """Return {language code: text} of a lazy summary, for English and every installed language."""
        langs = {code for code, _name in self.env["res.lang"].get_installed()} | {"en_US"}
        return {lang: summary._translate(lang) for lang in sorted(langs)}

    def _store_summary_translations(self, summaries):
        """Store each lazy summary in all installed languages, in one query.

        :param summaries: {touchpoint id: LazyGettext}
        """
        if {code for code, _name in self.env["res.lang"].get_installed()} <= {"en_US"}:
            return
        ids = list(summaries)
        names = [json.dumps(self._summary_translations(summaries[touchpoint_id])) for touchpoint_id in ids]
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_touchpoint t
                   SET name = v.name
                  FROM (SELECT UNNEST(%s::integer[]) AS id, UNNEST(%s::jsonb[]) AS name) v
                 WHERE t.id = v.id
                """,
                ids,
                names,
            )
        )
        self.browse(ids).invalidate_recordset(["name"])

    @api.model
    def _normalize_vals(self, vals):
        """Return ``vals`` completed: customer company, kind, stage, company.

        Values given by the caller, in ``vals`` or as context defaults, win
        over the derived ones. Other defaults are left to ``create``.
        """
        context = self.env.context
        explicit_fields = set(vals) | {
            key.removeprefix("default_") for key in context if key.startswith("default_")
        }
        vals = dict(vals)

        def given(field):
            return vals.get(field, context.get(f"default_{field}"))

        channel = given("channel")
        if channel:
            vals["channel"] = CHANNEL_ALIASES.get(channel, channel)
        if vals.get("rating") == "0":
            vals["rating"] = False
        if vals.get("channel") in INDIRECT_CHANNELS and "kind" not in explicit_fields:
            vals["kind"] = "indirect"
        Partner = self.env["res.partner"].sudo()
        contact = Partner.browse(given("contact_id") or [])
        partner = Partner.browse(given("partner_id") or [])
        if not partner and contact:
            partner = contact.commercial_partner_id
        if partner and partner.commercial_partner_id != partner:
            # A contact given as customer: keep it as contact of its company.
            contact = contact or partner
            partner = partner.commercial_partner_id
        if contact == partner:
            contact = Partner
        if partner or "partner_id" in vals:
            vals["partner_id"] = partner.id or False
        if contact or "contact_id" in explicit_fields:
            vals["contact_id"] = contact.id or False
        if partner and "stage_id" not in explicit_fields:
            vals["stage_id"] = partner.journey_stage_id.id or False
        if partner and "company_id" not in explicit_fields and partner.company_id:
            vals["company_id"] = partner.company_id.id
        return vals

    def write(self, vals):
        captured_fields = set(vals) & CAPTURED_FIELDS
        if (
            captured_fields
            and not self.env.su
            and not self.env.user.has_group("wholesale_customer_journey.group_journey_manager")
            and any(touchpoint.origin != "manual" for touchpoint in self)
        ):
            raise UserError(
                _(
                    "Touchpoints recorded from an event keep their %(fields)s: only Customer "
                    "Journey managers can change them. Add a note instead, or log a new touchpoint.",
                    fields=", ".join(self._fields[name].get_description(self.env)["string"]
                                     for name in sorted(captured_fields)),
                )
            )
        if vals.get("rating") == "0":
            vals = dict(vals, rating=False)
        return super().write(vals)

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _record_touchpoints(self, vals_list):
        """Create touchpoints for events, each at most once.

        This is the single entry point for automatic capture. A value dict
        whose ``source_key`` is already recorded is skipped, so replaying an
        event creates one row. When another transaction records the same key
        at the same time, the unique index makes this one wait and then skip
        that row. Runs as superuser because the user who causes an event need
        not have the right to write journey data.
        """
        keys = [vals["source_key"] for vals in vals_list if vals.get("source_key")]
        existing = set()
        if keys:
            existing = set(
                self.sudo().with_context(active_test=False).search([("source_key", "in", keys)]).mapped("source_key")
            )
        own_ids = self.env["res.partner"]._journey_own_partner_ids()
        todo, seen = [], set()
        for vals in vals_list:
            key = vals.get("source_key")
            if key and (key in existing or key in seen):
                continue
            if vals.get("partner_id") in own_ids:
                # A mail to a colleague or an order of the own company is not a customer contact.
                continue
            seen.add(key)
            todo.append(vals)
        if not todo:
            return self.browse()
        Touchpoint = self.sudo()
        try:
            # No flush: a rollback to this savepoint only drops these inserts.
            with self.env.cr.savepoint(flush=False):
                return Touchpoint.create(todo)
        except psycopg2.errors.UniqueViolation:
            # Another transaction committed one of these keys meanwhile.
            created = Touchpoint.browse()
            for vals in todo:
                try:
                    with self.env.cr.savepoint(flush=False):
                        created |= Touchpoint.create(vals)
                except psycopg2.errors.UniqueViolation:
                    _logger.info("Touchpoint %s already recorded by another transaction", vals.get("source_key"))
            return created

    @api.model
    def _customer_of(self, record):
        """Return the partner that a customer, lead or order is about."""
        return record if record._name == "res.partner" else record.partner_id

    @api.model
    def _company_id_of(self, record):
        """Return the id of ``record``'s company, or of the current company when it has none."""
        if "company_id" in record._fields and record.company_id:
            return record.company_id.id
        return self.env.company.id

    @api.model
    def _attach_to_partner(self, res_model, res_ids, partner):
        """Give touchpoints of records that had no customer their customer."""
        if partner.commercial_partner_id.id in self.env["res.partner"]._journey_own_partner_ids():
            return
        orphans = self.sudo().search(
            [("res_model", "=", res_model), ("res_id", "in", res_ids), ("partner_id", "=", False)]
        )
        if orphans:
            orphans.write(
                {
                    "partner_id": partner.commercial_partner_id.id,
                    "contact_id": partner.id if partner.commercial_partner_id != partner else False,
                }
            )
