# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

import psycopg2.errors

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

TRIGGERS = [
    ("stage", "Journey Stage Reached"),
    ("interest", "Product Interest Recorded"),
    ("campaign_lead", "Lead Created from a Campaign"),
    ("no_touchpoint", "No Touchpoint for a Number of Days"),
    ("quotation", "Quotation Sent, Not Confirmed"),
]
# Triggers that wait a number of days after their event.
DAY_TRIGGERS = ("no_touchpoint", "quotation")
TARGET_MODELS = {"lead": "crm.lead", "customer": "res.partner"}
# Segment members that stand for each audience.
SEGMENT_TARGETS = {"lead": ("lead",), "customer": ("company", "contact")}
# Maximum delay, waiting period or frequency cap: 10 years. A longer one is a typing error.
MAX_RULE_DAYS = 3650
# A customer receives no more product information than this many products in one mail.
MAX_PRODUCTS_LIMIT = 50
# Due pairs that Send Test to Me reads to find one whose record the user may read.
SAMPLE_CANDIDATES = 50
# Send states that count for the frequency cap: sent or about to be.
CAPPED_STATES = ("pending", "mail", "activity")
# Key of the transaction-level advisory lock that lets one worker at a time
# select due pairs of a company: two selections at once could each queue a
# mail for the same customer and break the frequency cap.
SELECT_LOCK_KEY = 72184001


class CustomerJourneyInfoRule(models.Model):
    """Send product information to interested leads or customers, unattended.

    A rule names a trigger (an event of the journey), an audience, the
    products whose information it sends, and a mail template. The scheduled
    action ``customer.journey.info.send._cron_send_info`` selects the due
    (rule, record, trigger occurrence) triples in SQL (``_get_due_sql``) and
    queues one send record per triple, then sends them in batches.
    """

    _name = "customer.journey.info.rule"
    _description = "Product Information Rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(
        default=10,
        help="When several rules are due for one customer, the rule with the lowest "
        "sequence sends first and the frequency cap holds back the others.",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Gets the activity when the customer prefers a call, visit or social media "
        "and the lead or customer has no salesperson.",
    )

    # Audience
    target = fields.Selection(
        [("lead", "Leads / Opportunities"), ("customer", "Customers")],
        string="Audience",
        required=True,
        default="lead",
        tracking=True,
        help="Leads: the mail goes to the lead's contact, about the lead. Customers: the "
        "mail goes to the customer company's address, or to its first contact with an "
        "email address.",
    )
    target_model = fields.Char(compute="_compute_target_model")
    segment_id = fields.Many2one(
        "customer.journey.segment",
        string="Segment",
        ondelete="restrict",
        tracking=True,
        help="Only members of this segment are reached. A lead audience takes a segment "
        "of leads, a customer audience a segment of customers or contacts.",
    )
    filter_domain = fields.Char(
        string="Extra Filter",
        help="Only the leads or customers that match this filter are reached. In the filter, "
        "the current user is the rule's Responsible and the current company is the rule's.",
    )

    # Trigger
    trigger = fields.Selection(TRIGGERS, required=True, default="interest", tracking=True)
    trigger_stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Stage Reached",
        ondelete="restrict",
        help="The rule sends when the customer reaches this journey stage.",
    )
    trigger_days = fields.Integer(
        string="After (Days)",
        default=14,
        help="No Touchpoint: days without any touchpoint of the customer. Quotation: days "
        "since the quotation was sent.",
    )
    campaign_ids = fields.Many2many(
        "utm.campaign",
        "customer_journey_info_rule_trigger_campaign_rel",
        "rule_id",
        "campaign_id",
        string="Campaigns",
        help="Only leads from these campaigns trigger the rule. Leave empty for leads of "
        "any campaign.",
    )
    delay_days = fields.Integer(
        string="Delay (Days)",
        default=0,
        tracking=True,
        help="Days between the trigger and the send.",
    )
    date_start = fields.Datetime(
        string="Events From",
        required=True,
        default=fields.Datetime.now,
        # A copy starts now: it would send again every event that the original sent.
        copy=False,
        help="Only events from this moment on trigger the rule, so that a new rule does "
        "not send for events of the past.",
    )
    stop_stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Stop at Stage",
        ondelete="restrict",
        default=lambda self: self.env.ref("wholesale_customer_journey.stage_conversion", raise_if_not_found=False),
        help="Nothing is sent to a customer who has reached this journey stage or a later "
        "one. Leave empty to send at any stage.",
    )

    # Content
    product_ids = fields.Many2many(
        "product.template",
        "customer_journey_info_rule_product_rel",
        "rule_id",
        "product_tmpl_id",
        string="Products",
        help="The mail shows these products, and the products of interest of the customer "
        "that belong to the categories below.",
    )
    categ_ids = fields.Many2many(
        "product.category",
        "customer_journey_info_rule_categ_rel",
        "rule_id",
        "categ_id",
        string="Product Categories",
        help="Products of these categories and their subcategories are in scope. The mail "
        "shows those the customer showed interest in, or else the first products of the "
        "categories.",
    )
    max_products = fields.Integer(
        string="Products per Mail",
        default=5,
        help="Maximum number of products that one mail shows.",
    )
    attach_documents = fields.Boolean(
        string="Attach Documents",
        default=True,
        help="Attach the documents of the products whose Sale visibility is 'On quote' "
        "(datasheets, brochures). Link documents are listed as links.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Mail Template",
        ondelete="restrict",
        domain="[('model', '=', target_model)]",
        help="Renders the mail in the recipient's language. The default templates show "
        "each product with its description, price and availability.",
    )
    campaign_id = fields.Many2one(
        "utm.campaign",
        string="Campaign",
        help="Campaign of the sent mails and of their tracked links.",
    )
    selection_error = fields.Text(
        readonly=True,
        copy=False,
        help="Why the last run of the scheduled action could not select this rule's due "
        "events. The other rules were not held back.",
    )
    mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Tracking Mailing",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The mailing that carries this rule's mails, for open and click tracking.",
    )

    # Pacing
    cap_days = fields.Integer(
        string="Frequency Cap (Days)",
        default=7,
        help="The rule waits while the customer got any product information, of any rule, "
        "in this many days. 0 sends regardless.",
    )
    conversion_days = fields.Integer(
        string="Conversion Window (Days)",
        default=30,
        help="A send counts as converted when the customer confirms an order within this "
        "many days.",
    )

    # Statistics
    send_ids = fields.One2many("customer.journey.info.send", "rule_id", string="Sends")
    pending_count = fields.Integer(string="Pending", compute="_compute_statistics")
    mail_count = fields.Integer(string="Mails Sent", compute="_compute_statistics")
    activity_count = fields.Integer(string="Activities", compute="_compute_statistics")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_statistics")
    opened_count = fields.Integer(string="Opened", compute="_compute_statistics")
    clicked_count = fields.Integer(string="Clicked", compute="_compute_statistics")
    converted_count = fields.Integer(string="Converted", compute="_compute_statistics")
    opened_ratio = fields.Float(string="Open Rate (%)", compute="_compute_statistics")
    clicked_ratio = fields.Float(string="Click Rate (%)", compute="_compute_statistics")
    converted_ratio = fields.Float(string="Conversion Rate (%)", compute="_compute_statistics")

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    @api.depends("target")
    def _compute_target_model(self):
        for rule in self:
            rule.target_model = TARGET_MODELS.get(rule.target)

    def _compute_statistics(self):
        stats = self.env["customer.journey.info.send"]._get_rule_statistics(self)
        for rule in self:
            values = stats.get(rule.id, {})
            for field_name in (
                "pending_count", "mail_count", "activity_count", "skipped_count",
                "opened_count", "clicked_count", "converted_count",
            ):
                rule[field_name] = values.get(field_name, 0)
            delivered = values.get("delivered_count", 0)
            sent = rule.mail_count + rule.activity_count
            rule.opened_ratio = 100.0 * rule.opened_count / delivered if delivered else 0.0
            rule.clicked_ratio = 100.0 * rule.clicked_count / delivered if delivered else 0.0
            rule.converted_ratio = 100.0 * rule.converted_count / sent if sent else 0.0

    @api.onchange("target")
    def _onchange_target(self):
        if self.mail_template_id and self.mail_template_id.model != self.target_model:
            self.mail_template_id = self._get_default_template(self.target)
        if self.segment_id and self.segment_id.target not in SEGMENT_TARGETS[self.target]:
            self.segment_id = False

    @api.model
    def _get_default_template(self, target):
        xmlid = f"wholesale_customer_journey.mail_template_info_{target}"
        return self.env.ref(xmlid, raise_if_not_found=False) or self.env["mail.template"]

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "mail_template_id" in fields_list and not values.get("mail_template_id"):
            values["mail_template_id"] = self._get_default_template(values.get("target") or "lead").id
        return values

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    def _field_label(self, field_name):
        return self._fields[field_name].get_description(self.env)["string"]

    @api.constrains(
        "name", "trigger", "trigger_stage_id", "trigger_days", "delay_days", "cap_days",
        "conversion_days", "max_products",
    )
    def _check_numbers(self):
        for rule in self:
            for field_name in ("delay_days", "trigger_days", "cap_days", "conversion_days"):
                days = rule[field_name]
                if days < 0 or days > MAX_RULE_DAYS:
                    raise ValidationError(
                        _(
                            "Invalid %(field)s on product information rule “%(name)s”: %(days)s. "
                            "Enter a number of days from 0 to %(max)s.",
                            field=rule._field_label(field_name),
                            name=rule.name,
                            days=days,
                            max=MAX_RULE_DAYS,
                        )
                    )
            if not 1 <= rule.max_products <= MAX_PRODUCTS_LIMIT:
                raise ValidationError(
                    _(
                        "Invalid %(field)s on product information rule “%(name)s”: %(count)s. "
                        "Enter a number from 1 to %(max)s.",
                        field=rule._field_label("max_products"),
                        name=rule.name,
                        count=rule.max_products,
                        max=MAX_PRODUCTS_LIMIT,
                    )
                )
            if rule.trigger in DAY_TRIGGERS and rule.trigger_days < 1:
                raise ValidationError(
                    _(
                        "Missing %(field)s on product information rule “%(name)s”: the trigger "
                        "“%(trigger)s” waits a number of days. Enter 1 or more.",
                        field=rule._field_label("trigger_days"),
                        name=rule.name,
                        trigger=dict(rule._fields["trigger"]._description_selection(rule.env))[rule.trigger],
                    )
                )

    @api.constrains("name", "trigger", "trigger_stage_id", "stop_stage_id")
    def _check_stages(self):
        for rule in self:
            if rule.trigger == "stage" and not rule.trigger_stage_id:
                raise ValidationError(
                    _(
                        "Missing %(field)s on product information rule “%(name)s”: choose the "
                        "journey stage whose arrival sends the mail.",
                        field=rule._field_label("trigger_stage_id"),
                        name=rule.name,
                    )
                )
            if (
                rule.trigger == "stage"
                and rule.stop_stage_id
                and rule.trigger_stage_id.sequence >= rule.stop_stage_id.sequence
            ):
                raise ValidationError(
                    _(
                        "Product information rule “%(name)s” would never send: it stops at stage "
                        "%(stop)s, which comes before or is the stage %(stage)s that triggers it. "
                        "Choose a later Stop at Stage, or clear it.",
                        name=rule.name,
                        stop=rule.stop_stage_id.name,
                        stage=rule.trigger_stage_id.name,
                    )
                )

    @api.constrains("name", "target", "mail_template_id")
    def _check_mail_template(self):
        for rule in self:
            if not rule.mail_template_id:
                raise ValidationError(
                    _(
                        "Missing %(field)s on product information rule “%(name)s”: choose a mail "
                        "template, for example the default “%(default)s”.",
                        field=rule._field_label("mail_template_id"),
                        name=rule.name,
                        default=rule._get_default_template(rule.target).name or "",
                    )
                )
            if rule.mail_template_id.model != rule.target_model:
                raise ValidationError(
                    _(
                        "The mail template “%(template)s” of product information rule “%(name)s” "
                        "is for %(template_model)s, but the rule reaches %(target_model)s. Choose "
                        "a template of %(target_model)s.",
                        template=rule.mail_template_id.name,
                        name=rule.name,
                        template_model=rule.mail_template_id.model_id.name,
                        target_model=self.env["ir.model"]._get(rule.target_model).name,
                    )
                )

    @api.constrains("name", "product_ids", "categ_ids")
    def _check_products(self):
        for rule in self:
            if rule.product_ids and not rule.categ_ids and not any(rule.product_ids.mapped("sale_ok")):
                raise ValidationError(
                    _(
                        "None of the products of product information rule “%(name)s” can be sold, so "
                        "every send would be skipped. Tick Can be Sold on the products, or choose "
                        "products that can be sold.",
                        name=rule.name,
                    )
                )
            if not rule.product_ids and not rule.categ_ids:
                raise ValidationError(
                    _(
                        "Product information rule “%(name)s” has no products: add products or "
                        "product categories whose information it sends.",
                        name=rule.name,
                    )
                )

    @api.constrains("name", "target", "segment_id", "company_id")
    def _check_segment(self):
        for rule in self.filtered("segment_id"):
            if rule.segment_id.target not in SEGMENT_TARGETS[rule.target]:
                raise ValidationError(
                    _(
                        "The segment “%(segment)s” of product information rule “%(name)s” has "
                        "members of another kind than the rule's audience. Choose a segment of "
                        "%(audience)s.",
                        segment=rule.segment_id.name,
                        name=rule.name,
                        audience=dict(rule._fields["target"]._description_selection(rule.env))[rule.target],
                    )
                )
            if rule.segment_id.company_id and rule.segment_id.company_id != rule.company_id:
                raise ValidationError(
                    _(
                        "The segment “%(segment)s” belongs to %(segment_company)s, but product "
                        "information rule “%(name)s” belongs to %(company)s. Choose a segment of "
                        "the rule's company, or one without company.",
                        segment=rule.segment_id.name,
                        segment_company=rule.segment_id.company_id.name,
                        name=rule.name,
                        company=rule.company_id.name,
                    )
                )

    @api.constrains("user_id", "company_id")
    def _check_responsible_company(self):
        for rule in self:
            if rule.user_id and rule.company_id not in rule.user_id.company_ids:
                raise ValidationError(
                    _(
                        "The Responsible %(user)s of product information rule “%(name)s” does not work "
                        "in %(company)s, the rule's company. Choose a user of that company.",
                        user=rule.user_id.name,
                        name=rule.name,
                        company=rule.company_id.name,
                    )
                )

    @api.constrains("name", "target", "filter_domain")
    def _check_filter_domain(self):
        for rule in self:
            rule._get_filter_query()

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("target") and "mail_template_id" not in vals:
                vals["mail_template_id"] = self._get_default_template(vals["target"]).id
        rules = super().create(vals_list)
        rules._sync_tracking_mailing()
        return rules

    def write(self, vals):
        if {"filter_domain", "segment_id", "target"} & set(vals):
            # The error of the last run is about the old audience.
            vals = dict(vals, selection_error=False)
        result = super().write(vals)
        if {"name", "target", "campaign_id"} & set(vals):
            self._sync_tracking_mailing()
        return result

    def _sync_tracking_mailing(self):
        """Create or update each rule's tracking mailing.

        The mails of a rule belong to one mailing of Odoo's Email Marketing,
        in state Sent, so that Odoo adds its open pixel, tracked links and
        unsubscribe link, and the mailing's statistics count them. The
        mailing is never sent itself: its state keeps it out of the mass
        mailing queue.
        """
        Mailing = self.env["mailing.mailing"].sudo()
        for rule in self:
            vals = {
                # Touchpoint summaries and mailing statistics show this subject. The
                # template's subject is unrendered inline code, so the rule's name is used.
                "subject": rule.name,
                "mailing_model_id": self.env["ir.model"]._get_id(rule.target_model),
                "campaign_id": rule.campaign_id.id,
                "journey_info_rule_id": rule.id,
                "journey_lead_creation": "off",
            }
            if rule.mailing_id:
                rule.mailing_id.sudo().write(vals)
                continue
            mailing = Mailing.create(
                dict(
                    vals,
                    name=_("Product information: %(rule)s", rule=rule.name),
                    state="done",
                    body_html=False,
                    # An empty audience: the scheduled action creates the mails, never this domain.
                    mailing_domain="[('id', '=', 0)]",
                    user_id=rule.user_id.id or self.env.user.id,
                )
            )
            rule.sudo().mailing_id = mailing

    # ------------------------------------------------------------
    # SELECTION
    # ------------------------------------------------------------

    def _get_filter_query(self):
        """Return the ``Query`` of the records that the Extra Filter keeps, or None without filter."""
        self.ensure_one()
        text = (self.filter_domain or "").strip()
        if not text or text == "[]":
            return None
        # The scheduled action and Preview Recipients must select the same records for
        # any user who runs them, so uid is the rule's Responsible and the company is the rule's.
        eval_context = dict(
            self.env["customer.journey.segment"]._get_filter_eval_context(),
            uid=self.user_id.id or SUPERUSER_ID,
            company_id=self.company_id.id,
            company_ids=self.company_id.ids,
        )
        try:
            domain = safe_eval(text, eval_context)
            if not isinstance(domain, (list, tuple)):
                raise ValueError(_("%(filter)s is not a list of conditions", filter=text))
            domain = expression.normalize_domain(list(domain))
            query = self.env[self.target_model].sudo()._search(domain)
            # Run it once (LIMIT 1): some errors only show in PostgreSQL.
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(SQL("%s LIMIT 1", query.select()))
        except (ValueError, SyntaxError, NameError, TypeError, KeyError, AssertionError, IndexError) as error:
            raise ValidationError(
                _(
                    "Invalid Extra Filter on product information rule “%(name)s”: %(error)s. Edit "
                    "the filter with the filter editor, or clear it.",
                    name=self.name,
                    error=error,
                )
            ) from error
        return query

    def _get_scope_categ_ids(self):
        """Return the ids of the rule's categories and of all their subcategories."""
        self.ensure_one()
        if not self.categ_ids:
            return []
        return self.env["product.category"].sudo().search([("id", "child_of", self.categ_ids.ids)]).ids

    def _get_occurrence_sql(self):
        """Return the SQL of the rule's trigger occurrences since ``date_start``.

        Columns: customer_id (the customer company, NULL for a lead without
        customer), lead_id (the lead the event is about, or NULL),
        occurrence_key (one event, unique per rule) and event_date.
        """
        self.ensure_one()
        company_id = self.company_id.id
        if self.trigger == "stage":
            return SQL(
                """
                SELECT h.partner_id AS customer_id, NULL::integer AS lead_id,
                       'history,' || h.id AS occurrence_key, h.date_start AS event_date
                  FROM customer_journey_history h
                 WHERE h.stage_id = %s AND h.date_start >= %s
                   AND (h.company_id = %s OR h.company_id IS NULL)
                """,
                self.trigger_stage_id.id,
                self.date_start,
                company_id,
            )
        if self.trigger == "interest":
            categ_ids = self._get_scope_categ_ids()
            return SQL(
                """
                SELECT i.partner_id AS customer_id, i.lead_id AS lead_id,
                       'interest,' || i.id AS occurrence_key, i.date AS event_date
                  FROM customer_journey_interest i
             LEFT JOIN product_template pt ON pt.id = i.product_tmpl_id
                 WHERE i.company_id = %(company)s AND i.date >= %(start)s
                   AND (i.product_tmpl_id = ANY(%(products)s)
                        OR pt.categ_id = ANY(%(categs)s)
                        OR i.categ_id = ANY(%(interest_categs)s))
                """,
                company=company_id,
                start=self.date_start,
                products=self.product_ids.ids,
                categs=categ_ids,
                # A category interest matches the rule's categories and the categories
                # of the rule's own products.
                interest_categs=list(set(categ_ids) | set(self.product_ids.sudo().categ_id.ids)),
            )
        if self.trigger == "campaign_lead":
            campaign_filter = SQL("TRUE")
            if self.campaign_ids:
                campaign_filter = SQL("l.campaign_id = ANY(%s)", self.campaign_ids.ids)
            return SQL(
                """
                SELECT lp.commercial_partner_id AS customer_id, l.id AS lead_id,
                       'crm.lead,' || l.id AS occurrence_key, l.create_date AS event_date
                  FROM crm_lead l
             LEFT JOIN res_partner lp ON lp.id = l.partner_id
                 WHERE l.campaign_id IS NOT NULL AND %s
                   AND l.create_date >= %s
                   AND (l.company_id = %s OR l.company_id IS NULL)
                """,
                campaign_filter,
                self.date_start,
                company_id,
            )
        if self.trigger == "no_touchpoint":
            # One occurrence per latest touchpoint: after the next touchpoint (this
            # rule's own mail, say) the customer must be silent again for the period.
            return SQL(
                """
                SELECT t.partner_id AS customer_id, NULL::integer AS lead_id,
                       'touchpoint,' || t.id AS occurrence_key,
                       t.date + make_interval(days => %(days)s) AS event_date
                  FROM (SELECT DISTINCT ON (partner_id) id, partner_id, date
                          FROM customer_journey_touchpoint
                         WHERE company_id = %(company)s AND partner_id IS NOT NULL
                      ORDER BY partner_id, date DESC, id DESC) t
                 WHERE t.date + make_interval(days => %(days)s) >= %(start)s
                """,
                days=self.trigger_days,
                company=company_id,
                start=self.date_start,
            )
        if self.trigger == "quotation":
            # Sent when the first "Quotation Sent" touchpoint was recorded, else
            # at the quotation date (a quotation marked sent without a mail).
            return SQL(
                """
                SELECT sp.commercial_partner_id AS customer_id, so.opportunity_id AS lead_id,
                       'sale.order,' || so.id AS occurrence_key,
                       COALESCE(q.sent_date, so.date_order) + make_interval(days => %(days)s) AS event_date
                  FROM sale_order so
                  JOIN res_partner sp ON sp.id = so.partner_id
             LEFT JOIN LATERAL (
                        SELECT MIN(t.date) AS sent_date
                          FROM customer_journey_touchpoint t
                         WHERE t.res_model = 'sale.order' AND t.res_id = so.id AND t.origin = 'quotation'
                       ) q ON TRUE
                 WHERE so.state = 'sent' AND so.company_id = %(company)s
                   AND COALESCE(q.sent_date, so.date_order) + make_interval(days => %(days)s) >= %(start)s
                """,
                days=self.trigger_days,
                company=company_id,
                start=self.date_start,
            )
        raise UserError(_("Unknown trigger %(trigger)s.", trigger=self.trigger))

    def _get_due_sql(self, now, limit=None, one_per_customer=True):
        """Return the SQL of the rule's due (record, occurrence) pairs, at most one per customer.

        Columns: occurrence_key, res_id (the lead or customer reached),
        customer_id, lead_id, event_date, due_date and capped (true when the
        frequency cap keeps the pair back for now). A pair is due once its
        event is ``delay_days`` old, no send of this rule exists for the
        occurrence, the record is in the audience, and the customer has not
        reached the stop stage. A lead audience reaches the lead of the event
        when it is open, else the customer's most recent open lead of the
        rule's company. The pairs of other companies' customers are kept, so
        that their sends are skipped with a reason.
        """
        self.ensure_one()
        self.env.flush_all()
        company_id = self.company_id.id
        own_ids = list(self.env["res.partner"]._journey_own_partner_ids()) or [0]
        open_lead = SQL(
            """
            %(alias)s.active AND COALESCE(%(alias)s.probability, 0) < 100
            AND (%(alias)s.company_id = %(company)s OR %(alias)s.company_id IS NULL)
            AND NOT EXISTS (SELECT 1 FROM crm_stage cs WHERE cs.id = %(alias)s.stage_id AND cs.is_won)
            """,
            alias=SQL.identifier("ol"),
            company=company_id,
        )
        latest_lead = SQL(
            """
            SELECT ol.id FROM crm_lead ol JOIN res_partner olp ON olp.id = ol.partner_id
             WHERE olp.commercial_partner_id = occ.customer_id AND %s
          ORDER BY ol.create_date DESC, ol.id DESC LIMIT 1
            """,
            open_lead,
        )
        if self.target == "lead":
            record = SQL(
                "COALESCE((SELECT ol.id FROM crm_lead ol WHERE ol.id = occ.lead_id AND %s), (%s))",
                open_lead,
                latest_lead,
            )
        else:
            record = SQL("occ.customer_id")

        audience = [SQL("TRUE")]
        if self.segment_id:
            segment = self.segment_id
            if self.target == "lead":
                query = segment._get_member_query()
                audience.append(SQL("c.res_id IN %s", query.subselect()))
            else:
                audience.append(SQL("c.res_id IN (%s)", segment._get_member_customers_sql()))
        filter_query = self._get_filter_query()
        if filter_query is not None:
            audience.append(SQL("c.res_id IN %s", filter_query.subselect()))

        stop = SQL("TRUE")
        if self.stop_stage_id:
            stop = SQL(
                """
                NOT EXISTS (
                    SELECT 1 FROM res_partner sc JOIN customer_journey_stage ss ON ss.id = sc.journey_stage_id
                     WHERE sc.id = c.customer_id AND ss.sequence >= %s)
                """,
                self.stop_stage_id.sequence,
            )
        cap_since = now - timedelta(days=self.cap_days)
        return SQL(
            """
            WITH occ AS (%(occurrences)s),
            c AS (
                SELECT occ.occurrence_key, occ.customer_id, occ.lead_id, occ.event_date,
                       occ.event_date + make_interval(days => %(delay)s) AS due_date,
                       %(record)s AS res_id
                  FROM occ
                 WHERE occ.event_date + make_interval(days => %(delay)s) <= %(now)s
                   AND (occ.customer_id IS NULL OR occ.customer_id != ALL(%(own_ids)s))
                   AND NOT EXISTS (
                        SELECT 1 FROM customer_journey_info_send s
                         WHERE s.rule_id = %(rule)s AND s.occurrence_key = occ.occurrence_key)
            ),
            due AS (
                SELECT %(distinct)s c.*,
                       CASE WHEN c.customer_id IS NOT NULL THEN EXISTS (
                           SELECT 1 FROM customer_journey_info_send s
                            WHERE s.partner_id = c.customer_id AND s.company_id = %(company)s
                              AND s.state IN %(capped_states)s
                              AND (s.state = 'pending' OR s.sent_date > %(cap_since)s))
                       ELSE EXISTS (
                           -- A lead without customer: the cap counts the sends about the lead.
                           SELECT 1 FROM customer_journey_info_send s
                            WHERE s.lead_id = c.res_id AND s.company_id = %(company)s
                              AND s.state IN %(capped_states)s
                              AND (s.state = 'pending' OR s.sent_date > %(cap_since)s))
                       END AS capped
                  FROM c
                 WHERE c.res_id IS NOT NULL AND %(audience)s AND %(stop)s
              ORDER BY COALESCE(c.customer_id, -c.res_id), c.event_date, c.occurrence_key
            )
            SELECT * FROM due ORDER BY capped, due_date, occurrence_key %(limit)s
            """,
            occurrences=self._get_occurrence_sql(),
            delay=self.delay_days,
            now=now,
            record=record,
            own_ids=own_ids,
            rule=self.id,
            company=company_id,
            capped_states=CAPPED_STATES,
            cap_since=cap_since,
            audience=SQL(" AND ").join(audience),
            stop=stop,
            limit=SQL("LIMIT %s", limit) if limit else SQL(""),
            distinct=SQL("DISTINCT ON (COALESCE(c.customer_id, -c.res_id))") if one_per_customer else SQL(""),
        )

    def _queue_due_sends(self, now=None):
        """Insert a pending send for each due, uncapped pair of the rules in ``self``.

        Rules run in sequence order, so a customer due for several rules gets
        the first, and the pending send keeps the others back. The unique
        index on (rule, occurrence) makes a pair that another transaction
        queued meanwhile a no-op. A rule whose selection fails (a filter on a
        field that no longer exists, say) is logged and keeps the error in
        ``selection_error``, and the other rules go on.

        :return: number of sends queued
        """
        now = now or fields.Datetime.now()
        queued = 0
        for rule in self.sorted(lambda rule: (rule.sequence, rule.id)):
            # Flush first: a write flushed inside the savepoint would be lost on its rollback.
            self.env.flush_all()
            try:
                with self.env.cr.savepoint(flush=False):
                    queued += rule._insert_due_sends(now)
            except (psycopg2.errors.TransactionRollbackError, psycopg2.OperationalError):
                raise
            except Exception as error:  # noqa: BLE001 - logged with traceback, the other rules go on
                _logger.exception("Product information: selection of rule %s failed: %s", rule.id, error)
                rule._set_selection_error(str(error))
            else:
                rule._set_selection_error(False)
        return queued

    def _set_selection_error(self, message):
        self.ensure_one()
        if (self.selection_error or False) != (message or False):
            self.sudo().selection_error = message

    def _insert_due_sends(self, now):
        """Queue the rule's due pairs, and mark the events that a queued mail covers.

        A customer who recorded several interests at once has one event per
        interest, but the first mail shows the customer's other interests of
        the rule too: those events are skipped as covered, not mailed again
        after the frequency cap.

        :return: number of sends queued
        """
        self.ensure_one()
        common = {
            "rule": self.id,
            "company": self.company_id.id,
            "model": self.target_model,
            "uid": self.env.uid,
            "now": now,
        }
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO customer_journey_info_send
                       (rule_id, company_id, occurrence_key, res_model, res_id, partner_id, lead_id,
                        trigger_date, due_date, state, create_uid, create_date, write_uid, write_date)
                SELECT %(rule)s, %(company)s, due.occurrence_key, %(model)s, due.res_id,
                       due.customer_id, CASE WHEN %(model)s = 'crm.lead' THEN due.res_id END,
                       due.event_date, due.due_date, 'pending', %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (%(due)s) due
                 WHERE NOT due.capped
                ON CONFLICT (rule_id, occurrence_key) DO NOTHING
                """,
                due=self._get_due_sql(now),
                **common,
            )
        )
        queued = self.env.cr.rowcount
        if queued and self.trigger == "interest":
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO customer_journey_info_send
                           (rule_id, company_id, occurrence_key, res_model, res_id, partner_id, lead_id,
                            trigger_date, due_date, state, skip_reason, skip_detail,
                            create_uid, create_date, write_uid, write_date)
                    SELECT %(rule)s, %(company)s, due.occurrence_key, %(model)s, due.res_id,
                           due.customer_id, CASE WHEN %(model)s = 'crm.lead' THEN due.res_id END,
                           due.event_date, due.due_date, 'skipped', 'covered', queued.occurrence_key,
                           %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM (%(due)s) due
                      JOIN customer_journey_info_send queued
                        ON queued.rule_id = %(rule)s AND queued.state = 'pending'
                       AND queued.create_date = %(now)s AND queued.partner_id = due.customer_id
                       AND queued.res_id = due.res_id
                    ON CONFLICT (rule_id, occurrence_key) DO NOTHING
                    """,
                    due=self._get_due_sql(now, one_per_customer=False),
                    **common,
                )
            )
        return queued

    def _get_sample_item(self):
        """Return a (record, occurrence) item to render a test mail for, or None.

        The first due pair whose record the current user may read, else the
        latest record of the audience that the user may read, with the
        customer's products of interest.
        """
        self.ensure_one()
        Target = self.env[self.target_model]
        self.env.cr.execute(self._get_due_sql(fields.Datetime.now(), limit=SAMPLE_CANDIDATES))
        rows = self.env.cr.dictfetchall()
        readable = set(Target.browse([row["res_id"] for row in rows])._filtered_access("read").ids)
        for row in rows:
            if row["res_id"] in readable:
                return {key: row[key] for key in ("res_id", "customer_id", "occurrence_key")}
        own_ids = list(self.env["res.partner"]._journey_own_partner_ids())
        if self.target == "lead":
            domain = [
                ("company_id", "in", [self.company_id.id, False]),
                ("partner_id.commercial_partner_id", "not in", own_ids),
            ]
        else:
            domain = [
                ("journey_is_company", "=", True),
                ("company_id", "in", [self.company_id.id, False]),
                ("id", "not in", own_ids),
            ]
        if self.segment_id and self.segment_id.target == "lead":
            domain = expression.AND([domain, self.segment_id._get_member_domain()])
        elif self.segment_id:
            members = self.segment_id._get_member_query()
            domain = expression.AND(
                [domain, [("id", "in", members.subselect(SQL.identifier(members.table, "commercial_partner_id")))]]
            )
        filter_query = self._get_filter_query()
        if filter_query is not None:
            domain = expression.AND([domain, [("id", "in", filter_query)]])
        # Without sudo: the user's record rules apply.
        record = Target.search(domain, order="id desc", limit=1)
        if not record:
            return None
        customer = record.partner_id.commercial_partner_id if self.target == "lead" else record
        return {"res_id": record.id, "customer_id": customer.id, "occurrence_key": "sample,0"}

    def _check_journey_user(self):
        """Raise an AccessError unless the current user is a journey user."""
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_user"):
            raise AccessError(
                _(
                    "Only Customer Journey users may preview or test product information rules. "
                    "Ask an administrator for the Customer Journey User access right."
                )
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_preview_recipients(self):
        """Open who the next run would reach, with the reason and the route of each."""
        self.ensure_one()
        self._check_journey_user()
        preview = self.env["customer.journey.info.preview"].create({"rule_id": self.id})
        preview._fill_lines()
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview Recipients: %(rule)s", rule=self.name),
            "res_model": "customer.journey.info.preview",
            "res_id": preview.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_send_test(self):
        """Send the rule's mail, rendered for its first due record, to the current user."""
        self.ensure_one()
        self._check_journey_user()
        self.env["customer.journey.info.send"]._send_test_mail(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("A test mail was sent to %(email)s.", email=self.env.user.email),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_sends(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wholesale_customer_journey.customer_journey_info_send_action"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"default_rule_id": self.id, "search_default_group_state": 1}
        return action

    def action_view_mails(self):
        action = self.action_view_sends()
        action["context"] = {"search_default_filter_mail": 1}
        return action

    def action_view_activities(self):
        action = self.action_view_sends()
        action["context"] = {"search_default_filter_activity": 1}
        return action

    def action_view_skipped(self):
        action = self.action_view_sends()
        action["context"] = {"search_default_filter_skipped": 1, "search_default_group_skip_reason": 1}
        return action
