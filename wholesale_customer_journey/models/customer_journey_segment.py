# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime, safe_eval, time as safe_time

from .res_partner import PREFERRED_CHANNELS

TARGETS = [
    ("company", "Customer Companies"),
    ("contact", "Contacts"),
    ("lead", "Leads / Opportunities"),
]
TARGET_MODELS = {"company": "res.partner", "contact": "res.partner", "lead": "crm.lead"}
# Field path from a record of the target model to its customer company (commercial partner).
CUSTOMER_PATHS = {"company": "id", "contact": "commercial_partner_id", "lead": "partner_id.commercial_partner_id"}

# Maximum period of the day criteria: 100 years. A longer one counts back to before
# year 1, where Python dates end, or does not fit PostgreSQL's integer column.
MAX_SEGMENT_DAYS = 36500
DAY_FIELDS = ("bought_days", "no_order_days", "touchpoint_days")

EXPORT_ORDERS = [
    ("name", "Name"),
    ("company", "Company"),
    ("email", "Email"),
    ("country", "Country"),
    ("stage", "Journey Stage"),
    ("channel", "Preferred Contact Channel"),
]
# Columns of the address export and the members list, per target model.
EXPORT_FIELDS = {
    "res.partner": [
        "name", "commercial_company_name", "email", "phone", "country_id",
        "journey_stage_id", "journey_preferred_channel",
    ],
    "crm.lead": [
        "contact_name", "partner_name", "email_from", "phone", "country_id",
        "journey_stage_id", "journey_preferred_channel", "name",
    ],
}
# The company column of the address export. It is headed "Company", because the field
# labels ("Company Name Entity", "Company Name") are unclear in a file.
EXPORT_COMPANY_FIELDS = {"res.partner": "commercial_company_name", "crm.lead": "partner_name"}
# ORDER BY of the address export per export order, for the stored fields.
# The journey stage and channel of a lead come from its customer and are sorted in Python.
EXPORT_ORDER_CLAUSES = {
    "res.partner": {
        "name": "name",
        "company": "commercial_company_name",
        "email": "email",
        "country": "country_id",
        "stage": "journey_stage_id",
        "channel": "journey_preferred_channel",
    },
    "crm.lead": {
        "name": "contact_name",
        "company": "partner_name",
        "email": "email_from",
        "country": "country_id",
    },
}


class CustomerJourneySegment(models.Model):
    """Customers, contacts or leads selected by journey criteria, without code.

    The criteria combine with AND, the values inside one criterion with OR.
    ``_get_member_domain`` turns them into one domain on the target model
    whose order and touchpoint criteria are SQL subqueries, so that counting
    the members is one SQL query. The customer companies of the members are
    stored in ``customer_journey_segment_member`` at each refresh (a sync, or
    the nightly scheduled action), for reports that group by segment.
    """

    _name = "customer.journey.segment"
    _description = "Customer Journey Segment"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="Only customers, leads, orders and touchpoints of this company count. "
        "Leave empty to select across all companies.",
    )
    description = fields.Text(translate=True)
    target = fields.Selection(
        TARGETS,
        string="Members",
        required=True,
        default="company",
        tracking=True,
        help="Customer Companies: the customers themselves. Contacts: the persons "
        "with an email address of the matching customers. Leads / Opportunities: "
        "the open leads and opportunities of the matching customers.",
    )
    target_model = fields.Char(string="Target Model", compute="_compute_target_model")

    # Criteria
    stage_ids = fields.Many2many(
        "customer.journey.stage",
        "customer_journey_segment_stage_rel",
        "segment_id",
        "stage_id",
        string="Journey Stages",
        help="The customer is in one of these journey stages.",
    )
    preferred_channel = fields.Selection(
        PREFERRED_CHANNELS,
        string="Preferred Contact Channel",
        help="For contacts and leads, the contact's own preference counts. A "
        "contact without preference takes the customer company's.",
    )
    country_ids = fields.Many2many(
        "res.country",
        "customer_journey_segment_country_rel",
        "segment_id",
        "country_id",
        string="Countries",
        help="The customer is in one of these countries or in one of the regions "
        "below. A lead without customer counts with its own country and region.",
    )
    state_ids = fields.Many2many(
        "res.country.state",
        "customer_journey_segment_state_rel",
        "segment_id",
        "state_id",
        string="Regions",
    )
    tag_ids = fields.Many2many(
        "res.partner.category",
        "customer_journey_segment_tag_rel",
        "segment_id",
        "tag_id",
        string="Customer Tags",
        help="The customer company has one of these tags or one of their sub-tags.",
    )
    product_category_ids = fields.Many2many(
        "product.category",
        "customer_journey_segment_product_category_rel",
        "segment_id",
        "category_id",
        string="Bought Product Categories",
        help="The customer has a confirmed order with a product of one of these "
        "categories, or of their sub-categories, in the last number of days below.",
    )
    bought_days = fields.Integer(
        string="Bought in the Last (Days)",
        default=365,
        help="Number of days, counted back from today, for the bought product categories.",
    )
    no_order_days = fields.Integer(
        string="No Order for (Days)",
        help="The customer has no confirmed order dated in this many days, counted "
        "back from today. Customers that never ordered count too. 0: not used.",
    )
    touchpoint_days = fields.Integer(
        string="Touchpoints in the Last (Days)",
        help="The customer has at least the minimum number of touchpoints below in "
        "this many days, counted back from today. 0: not used.",
    )
    touchpoint_min_count = fields.Integer(
        string="Minimum Touchpoints",
        default=1,
        help="How many touchpoints the customer needs in that period.",
    )
    domain = fields.Char(
        string="Extra Filter",
        default="[]",
        help="A filter on the members (customers, contacts or leads), combined with "
        "the criteria above.",
    )

    # Members
    member_count = fields.Integer(
        string="Member Count",
        compute="_compute_member_count",
        help="Live count of the records that match the criteria now.",
    )
    member_partner_ids = fields.Many2many(
        "res.partner",
        "customer_journey_segment_member",
        "segment_id",
        "partner_id",
        string="Member Customers",
        readonly=True,
        copy=False,
        help="The customer companies of the members at the last refresh: a sync, or "
        "the nightly scheduled action.",
    )
    refresh_date = fields.Datetime(string="Last Refresh", readonly=True, copy=False)
    refresh_member_count = fields.Integer(
        string="Members at Last Refresh",
        readonly=True,
        copy=False,
    )

    # Mailing list
    mailing_list_id = fields.Many2one(
        "mailing.list",
        string="Mailing List",
        ondelete="set null",
        copy=False,
        tracking=True,
        help="The mailing list that “Sync to Mailing List” and the nightly scheduled "
        "action keep in step with the members that have an email address.",
    )
    sync_date = fields.Datetime(string="Last Sync", readonly=True, copy=False)
    sync_added_count = fields.Integer(string="Added at Last Sync", readonly=True, copy=False)
    sync_removed_count = fields.Integer(string="Removed at Last Sync", readonly=True, copy=False)
    sync_skipped_count = fields.Integer(
        string="Skipped at Last Sync",
        readonly=True,
        copy=False,
        help="Members without a valid email address, blacklisted, or opted out of the mailing list.",
    )

    # Export
    export_order = fields.Selection(
        EXPORT_ORDERS,
        string="Sort Addresses By",
        required=True,
        default="name",
        help="Order of the rows in “Export Addresses”.",
    )
    export_descending = fields.Boolean(string="Descending")
    export_format = fields.Selection(
        [("xlsx", "Excel (XLSX)"), ("csv", "CSV")],
        string="Export Format",
        required=True,
        default="xlsx",
    )

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    @api.depends("target")
    def _compute_target_model(self):
        for segment in self:
            segment.target_model = TARGET_MODELS.get(segment.target, "res.partner")

    @api.depends(
        "target", "company_id", "stage_ids", "preferred_channel", "country_ids", "state_ids", "tag_ids",
        "product_category_ids", "bought_days", "no_order_days", "touchpoint_days", "touchpoint_min_count",
        "domain",
    )
    def _compute_member_count(self):
        for segment in self:
            try:
                domain = segment._get_member_domain()
            except ValidationError:
                # The filter or a period is invalid while the user edits it. Saving shows the error.
                segment.member_count = 0
                continue
            segment.member_count = self.env[segment.target_model].search_count(domain)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains(
        "target", "product_category_ids", "bought_days", "no_order_days", "touchpoint_days",
        "touchpoint_min_count", "domain",
    )
    def _check_criteria(self):
        for segment in self:
            segment._check_day_criteria()
            filter_domain = segment._get_filter_domain()
            segment._check_filter_applies(filter_domain)

    def _check_day_criteria(self):
        self.ensure_one()
        if self.product_category_ids and self.bought_days <= 0:
            raise ValidationError(
                _(
                    "Invalid Bought in the Last (Days) on segment “%(name)s”: %(days)s. "
                    "Enter a number of days above 0, or clear the Bought Product Categories.",
                    name=self.name,
                    days=self.bought_days,
                )
            )
        for field_name in ("no_order_days", "touchpoint_days"):
            if self[field_name] < 0:
                raise ValidationError(
                    _(
                        "Invalid %(field)s on segment “%(name)s”: %(days)s. Enter a number of "
                        "days above 0, or 0 to leave the criterion out.",
                        field=self._fields[field_name].get_description(self.env)["string"],
                        name=self.name,
                        days=self[field_name],
                    )
                )
        self._check_day_ranges()
        if self.touchpoint_min_count < 1:
            raise ValidationError(
                _(
                    "Invalid Minimum Touchpoints on segment “%(name)s”: %(count)s. Enter 1 or more.",
                    name=self.name,
                    count=self.touchpoint_min_count,
                )
            )
        if self.touchpoint_min_count > 1 and not self.touchpoint_days:
            raise ValidationError(
                _(
                    "Missing Touchpoints in the Last (Days) on segment “%(name)s”: a Minimum "
                    "Touchpoints of %(count)s needs a period. Enter a number of days above 0, "
                    "or set the Minimum Touchpoints back to 1.",
                    name=self.name,
                    count=self.touchpoint_min_count,
                )
            )

    def _check_day_ranges(self):
        """Raise a ValidationError when a day criterion is longer than ``MAX_SEGMENT_DAYS``."""
        self.ensure_one()
        for field_name in DAY_FIELDS:
            self._check_day_range(field_name, self[field_name], self.name)

    def _check_day_range(self, field_name, days, name):
        """Raise a ValidationError when ``days`` of ``field_name`` is beyond ``MAX_SEGMENT_DAYS``.

        A longer period counts back to before year 1, which Python dates do
        not reach, or does not fit PostgreSQL's integer column. Rejected
        here, it never gets as far as the member count, the refresh or the
        nightly sync, which would fail on it with an OverflowError.
        """
        if not isinstance(days, int) or abs(days) <= MAX_SEGMENT_DAYS:
            return
        raise ValidationError(
            _(
                "Invalid %(field)s on segment “%(name)s”: %(days)s. Enter a number of days up "
                "to %(max)s (100 years).",
                field=self._fields[field_name].get_description(self.env)["string"],
                name=name or "",
                days=days,
                max=MAX_SEGMENT_DAYS,
            )
        )

    def _check_filter_applies(self, filter_domain):
        """Raise a ValidationError when the Extra Filter does not apply to the target model."""
        self.ensure_one()
        if not filter_domain:
            return
        Target = self.env[self.target_model].sudo()
        try:
            query = Target._search(filter_domain, limit=1)
            # Run it once (LIMIT 1), because some errors only show in PostgreSQL.
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(query.select())
        except (ValueError, TypeError, KeyError, AssertionError, psycopg2.Error) as error:
            raise ValidationError(
                _(
                    "Invalid Extra Filter on segment “%(name)s”: it does not apply to %(model)s "
                    "(%(error)s). Edit the filter with the filter editor, or clear it.",
                    name=self.name,
                    model=self.env["ir.model"]._get(self.target_model).name,
                    error=error,
                )
            ) from error

    @api.constrains("company_id")
    def _check_company_id(self):
        self._check_company_scope()

    def _check_company_scope(self):
        """Raise a UserError when a segment selects from companies the user does not work in.

        A segment without company counts, stores and syncs the members of
        every company, as superuser. Only a user who works in all companies
        may create or run one.
        """
        if self.env.su or not self.filtered(lambda segment: not segment.company_id):
            return
        if self.env["res.company"].sudo().search([("id", "not in", self.env.user.company_ids.ids)], limit=1):
            raise UserError(
                _(
                    "Missing Company on segment “%(name)s”: without a company it selects customers, "
                    "leads and orders of every company, and you do not work in all of them. Choose "
                    "one of your companies.",
                    name=self.filtered(lambda segment: not segment.company_id)[:1].name,
                )
            )

    def _check_mailing_list_rights(self):
        """Raise a UserError unless the user may manage mailing lists (Email Marketing)."""
        if self.env.su or self.env.user.has_group("mass_mailing.group_mass_mailing_user"):
            return
        raise UserError(
            _(
                "Only Email Marketing users can set or sync the Mailing List of a segment. Ask an "
                "administrator for the Email Marketing access right, or ask a marketing colleague "
                "to sync the segment.",
            )
        )

    @api.onchange("target")
    def _onchange_target(self):
        # A filter written for the other model no longer applies.
        try:
            self._check_filter_applies(self._get_filter_domain())
        except ValidationError:
            self.domain = "[]"

    # ------------------------------------------------------------
    # DOMAIN
    # ------------------------------------------------------------

    def _get_member_domain(self):
        """Return the domain on the target model that selects the members.

        The criteria combine with AND, and the values inside one criterion
        with OR. The order and touchpoint criteria are SQL subqueries on the
        customer company, so the domain does not survive serialisation: use
        ``journey_segment_match_ids`` in domains sent to the web client.
        """
        self.ensure_one()
        # Also for a segment stored before the limit, or while the user edits the form.
        self._check_day_ranges()
        target = self.target
        domains = [self._get_target_base_domain()]
        if self.stage_ids:
            domains.append([self._customer_leaf("journey_stage_id", "in", self.stage_ids.ids)])
        if self.preferred_channel:
            domains.append(self._get_channel_domain())
        if self.country_ids or self.state_ids:
            domains.append(self._get_region_domain())
        if self.tag_ids:
            tags = self.env["res.partner.category"].sudo().search([("id", "child_of", self.tag_ids.ids)])
            domains.append([self._customer_leaf("category_id", "in", tags.ids)])
        if self.product_category_ids:
            domains.append([(CUSTOMER_PATHS[target], "in", self._get_bought_categories_query())])
        if self.no_order_days > 0:
            no_recent_order = [(CUSTOMER_PATHS[target], "not in", self._get_recent_buyers_query(self.no_order_days))]
            if target == "lead":
                # A lead without customer has never ordered.
                no_recent_order = expression.OR([[("partner_id", "=", False)], no_recent_order])
            domains.append(no_recent_order)
        if self.touchpoint_days > 0:
            domains.append([(CUSTOMER_PATHS[target], "in", self._get_touchpoint_query())])
        domains.append(self._get_filter_domain())
        return expression.AND(domains)

    def _customer_leaf(self, field_name, operator, value):
        """Return a domain leaf on a field of the member's customer company."""
        if self.target == "company":
            return (field_name, operator, value)
        return (f"{CUSTOMER_PATHS[self.target]}.{field_name}", operator, value)

    def _get_target_base_domain(self):
        """Return the domain of the records that can be members at all."""
        own_partners = SQL("(%s)", self.env["res.partner"]._journey_own_partner_query())
        company_ids = [False, self.company_id.id] if self.company_id else None
        if self.target == "company":
            domain = [("journey_is_company", "=", True), ("id", "not in", own_partners)]
        elif self.target == "contact":
            domain = [
                ("is_company", "=", False),
                ("type", "=", "contact"),
                ("email", "!=", False),
                ("commercial_partner_id", "not in", own_partners),
            ]
        else:
            domain = [
                "|", ("partner_id", "=", False), ("partner_id.commercial_partner_id", "not in", own_partners),
                # Open leads only: a won opportunity is no one to approach again as a lead.
                "|", ("stage_id", "=", False), ("stage_id.is_won", "=", False),
            ]
        if company_ids:
            domain = expression.AND([domain, [("company_id", "in", company_ids)]])
        return domain

    def _get_channel_domain(self):
        channel = self.preferred_channel

        def channel_is(path):
            if channel == "none":
                return [(f"{path}journey_preferred_channel", "in", ["none", False])]
            return [(f"{path}journey_preferred_channel", "=", channel)]

        if self.target == "company":
            return channel_is("")
        person = "" if self.target == "contact" else "partner_id."
        company = f"{CUSTOMER_PATHS[self.target]}."
        person_without = [(f"{person}journey_preferred_channel", "in", ["none", False])]
        if channel == "none":
            return expression.AND([person_without, channel_is(company)])
        return expression.OR([channel_is(person), expression.AND([person_without, channel_is(company)])])

    def _get_region_domain(self):
        def region(path):
            domains = []
            if self.country_ids:
                domains.append([(f"{path}country_id", "in", self.country_ids.ids)])
            if self.state_ids:
                domains.append([(f"{path}state_id", "in", self.state_ids.ids)])
            return expression.OR(domains)

        if self.target == "company":
            return region("")
        customer_region = region(f"{CUSTOMER_PATHS[self.target]}.")
        if self.target == "contact":
            return customer_region
        # A lead without customer has only its own address.
        return expression.OR(
            [
                expression.AND([[("partner_id", "!=", False)], customer_region]),
                expression.AND([[("partner_id", "=", False)], region("")]),
            ]
        )

    def _get_cutoff(self, days):
        return fields.Datetime.now() - timedelta(days=days)

    def _get_order_company_condition(self, alias):
        if not self.company_id:
            return SQL()
        return SQL(" AND %s = %s", SQL.identifier(alias, "company_id"), self.company_id.id)

    def _get_bought_categories_query(self):
        """Return the SQL subquery of the customers that bought in the categories lately."""
        self._flush_order_tables()
        categories = self.env["product.category"].sudo().search([("id", "child_of", self.product_category_ids.ids)])
        return SQL(
            """(SELECT p.commercial_partner_id
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' AND so.date_order >= %(cutoff)s%(company)s
                   AND EXISTS (SELECT 1
                                 FROM sale_order_line sol
                                 JOIN product_product pp ON pp.id = sol.product_id
                                 JOIN product_template pt ON pt.id = pp.product_tmpl_id
                                WHERE sol.order_id = so.id AND pt.categ_id IN %(categories)s))""",
            cutoff=self._get_cutoff(self.bought_days),
            company=self._get_order_company_condition("so"),
            categories=tuple(categories.ids),
        )

    def _get_recent_buyers_query(self, days):
        """Return the SQL subquery of the customers with a confirmed order in the last ``days``."""
        self._flush_order_tables()
        return SQL(
            """(SELECT p.commercial_partner_id
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' AND so.date_order >= %(cutoff)s%(company)s
                   AND p.commercial_partner_id IS NOT NULL)""",
            cutoff=self._get_cutoff(days),
            company=self._get_order_company_condition("so"),
        )

    def _get_touchpoint_query(self):
        """Return the SQL subquery of the customers with enough touchpoints lately."""
        self.env["customer.journey.touchpoint"].flush_model(["partner_id", "date", "company_id"])
        return SQL(
            """(SELECT t.partner_id
                  FROM customer_journey_touchpoint t
                 WHERE t.partner_id IS NOT NULL AND t.date >= %(cutoff)s%(company)s
              GROUP BY t.partner_id
                HAVING COUNT(*) >= %(min_count)s)""",
            cutoff=self._get_cutoff(self.touchpoint_days),
            company=self._get_order_company_condition("t"),
            min_count=self.touchpoint_min_count,
        )

    def _flush_order_tables(self):
        self.env["sale.order"].flush_model(["state", "date_order", "partner_id", "company_id"])
        self.env["sale.order.line"].flush_model(["order_id", "product_id"])
        self.env["product.product"].flush_model(["product_tmpl_id"])
        self.env["product.template"].flush_model(["categ_id"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])

    def _get_filter_domain(self):
        """Return the Extra Filter as a domain list, or raise a ValidationError."""
        self.ensure_one()
        text = (self.domain or "").strip()
        if not text or text == "[]":
            return []
        try:
            domain = safe_eval(text, self._get_filter_eval_context())
        except (ValueError, SyntaxError, NameError, TypeError) as error:
            raise ValidationError(
                _(
                    "Invalid Extra Filter on segment “%(name)s”: %(error)s. Edit the filter "
                    "with the filter editor, or clear it.",
                    name=self.name,
                    error=error,
                )
            ) from error
        if not isinstance(domain, (list, tuple)):
            raise ValidationError(
                _(
                    "Invalid Extra Filter on segment “%(name)s”: %(filter)s is not a list of "
                    "conditions. Edit the filter with the filter editor, or clear it.",
                    name=self.name,
                    filter=text,
                )
            )
        try:
            return expression.normalize_domain(list(domain))
        except (ValueError, TypeError, IndexError) as error:
            raise ValidationError(
                _(
                    "Invalid Extra Filter on segment “%(name)s”: %(error)s. Edit the filter "
                    "with the filter editor, or clear it.",
                    name=self.name,
                    error=error,
                )
            ) from error

    def _get_filter_eval_context(self):
        """Return the names a filter of the domain editor may use.

        Only values, never records: the filter text is evaluated for every
        count and by the nightly scheduled action as superuser, and a record
        would let the text call its methods (``user.sudo().write(...)``).
        """
        return {
            "uid": self.env.uid,
            "time": safe_time,
            "datetime": safe_datetime,
            "relativedelta": relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
            "company_id": self.env.company.id,
            "company_ids": self.env.companies.ids,
        }

    def _get_member_query(self):
        """Return the ``Query`` of the members, as superuser (the company restriction is in the domain).

        Pending ORM writes are flushed first, because the caller runs the query in SQL.
        """
        self.ensure_one()
        self.env.flush_all()
        return self.env[self.target_model].sudo()._search(self._get_member_domain())

    def _get_member_customers_sql(self):
        """Return the SQL that selects the distinct customer companies of the members."""
        query = self._get_member_query()
        if self.target_model == "res.partner":
            return SQL(
                "SELECT DISTINCT p.commercial_partner_id AS partner_id FROM res_partner p WHERE p.id IN %s",
                query.subselect(),
            )
        return SQL(
            "SELECT DISTINCT p.commercial_partner_id AS partner_id FROM res_partner p WHERE p.id IN %s",
            query.subselect(SQL.identifier(query.table, "partner_id")),
        )

    @api.model
    def _get_matching_segments(self, records):
        """Return {record id: segments whose criteria the record matches now}, one search per segment."""
        matches = {record.id: self.browse() for record in records}
        real_ids = [record_id for record_id in matches if isinstance(record_id, int)]
        if not real_ids:
            return matches
        targets = [target for target, model in TARGET_MODELS.items() if model == records._name]
        for segment in self.search([("target", "in", targets)]):
            domain = expression.AND([[("id", "in", real_ids)], segment._get_member_domain()])
            for record in records.search(domain):
                matches[record.id] |= segment
        return matches

    @api.model
    def _search_matching_records(self, model_name, operator, value):
        """Return the domain on ``model_name`` of the records that match the given segments now.

        Supports ``in`` and ``=`` with segment ids. A segment whose members
        are of another model matches nothing.
        """
        if operator not in ("in", "="):
            return NotImplemented
        segment_ids = [value] if isinstance(value, int) else list(value or [])
        domains = [
            segment._get_member_domain()
            for segment in self.browse(segment_ids).exists()
            if segment.target_model == model_name
        ]
        return expression.OR(domains) if domains else expression.FALSE_DOMAIN

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("mailing_list_id") for vals in vals_list):
            self._check_mailing_list_rights()
        # Before the INSERT: beyond PostgreSQL's integer range, the constraint comes too late.
        for vals in vals_list:
            for field_name in DAY_FIELDS:
                if field_name in vals:
                    self._check_day_range(field_name, vals[field_name], vals.get("name"))
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("mailing_list_id"):
            self._check_mailing_list_rights()
        # The nightly sync runs a segment without company as superuser, so
        # editing one is as much as running it.
        self._check_company_scope()
        for field_name in DAY_FIELDS:
            if field_name in vals:
                self._check_day_range(field_name, vals[field_name], vals.get("name", self[:1].name))
        return super().write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_members(self):
        """Open the members, live, in a list with their addresses."""
        self.ensure_one()
        if self.target_model == "crm.lead":
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "wholesale_customer_journey.action_customer_journey_segment_members_lead"
            )
        else:
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "wholesale_customer_journey.action_customer_journey_segment_members_partner"
            )
        action["name"] = _("Members of %(segment)s", segment=self.name)
        action["domain"] = [("journey_segment_match_ids", "in", self.ids)]
        action["context"] = {"create": False}
        return action

    def action_sync_mailing_list(self):
        """Refresh the members and bring the mailing list in step, creating the list when empty.

        The sync runs as superuser, so the user's rights are checked first:
        write access to the segment, Email Marketing rights for the mailing
        list, and access to every company that the segment selects from.
        """
        self.check_access("write")
        self._check_mailing_list_rights()
        self._check_company_scope()
        for segment in self:
            segment.sudo()._sync_mailing_list(create_list=True)
        return True

    def action_refresh_members(self):
        self.check_access("write")
        self._check_company_scope()
        self.sudo()._refresh_members()
        return True

    def action_export_addresses(self):
        """Download the members' addresses, in the segment's order and format."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/wholesale_customer_journey/segment/{self.id}/addresses",
            "target": "download",
        }

    # ------------------------------------------------------------
    # BUSINESS: membership
    # ------------------------------------------------------------

    def _refresh_members(self):
        """Store the customer companies of the members in ``customer_journey_segment_member``.

        Runs in SQL: one statement removes the customers that left and adds
        those that joined. Returns {segment id: (added, removed, members)}.
        """
        result = {}
        for segment in self:
            customers_sql = segment._get_member_customers_sql()
            member_query = segment._get_member_query()
            self.env.cr.execute(
                SQL(
                    """
                    WITH members AS (%(customers)s),
                    removed AS (
                        DELETE FROM customer_journey_segment_member m
                         WHERE m.segment_id = %(segment)s
                           AND NOT EXISTS (SELECT 1 FROM members WHERE members.partner_id = m.partner_id)
                     RETURNING 1
                    ),
                    added AS (
                        INSERT INTO customer_journey_segment_member (segment_id, partner_id)
                        SELECT %(segment)s, members.partner_id FROM members
                            ON CONFLICT DO NOTHING
                     RETURNING 1
                    )
                    SELECT (SELECT COUNT(*) FROM added), (SELECT COUNT(*) FROM removed),
                           (SELECT COUNT(*) FROM %(members)s AS target(id))
                    """,
                    customers=customers_sql,
                    segment=segment.id,
                    members=member_query.subselect(),
                )
            )
            added, removed, count = self.env.cr.fetchone()
            segment.invalidate_recordset(["member_partner_ids"])
            self.env["res.partner"].invalidate_model(["journey_segment_ids"])
            segment.write({"refresh_date": fields.Datetime.now(), "refresh_member_count": count})
            result[segment.id] = (added, removed, count)
        return result

    # ------------------------------------------------------------
    # BUSINESS: address export
    # ------------------------------------------------------------

    def _get_export_records(self):
        """Return the members, as the current user sees them, in the segment's export order.

        Members without a value for the sort field come last in both
        directions: a descending sort by stage starts with the customers
        furthest in their journey, not with those without a stage.
        """
        self.ensure_one()
        Target = self.env[self.target_model]
        direction = "DESC" if self.export_descending else "ASC"
        clause = EXPORT_ORDER_CLAUSES[self.target_model].get(self.export_order)
        tie_breaker = "name, id" if self.target_model == "res.partner" else "contact_name, partner_name, id"
        if clause:
            return Target.search(
                self._get_member_domain(), order=f"{clause} {direction} NULLS LAST, {tie_breaker}"
            )
        records = Target.search(self._get_member_domain(), order=tie_breaker)
        if self.export_order == "stage":
            def key(lead):
                return lead.journey_stage_id.sequence

            def has_value(lead):
                return bool(lead.journey_stage_id)
        else:
            def key(lead):
                return lead.journey_preferred_channel

            def has_value(lead):
                return bool(lead.journey_preferred_channel)
        with_value = records.filtered(has_value)
        # sorted() is stable, so the tie-breaker order stays within equal keys.
        return with_value.sorted(key, reverse=self.export_descending) + (records - with_value)

    def _get_export_data(self):
        """Return the address export as Odoo's export writers take it.

        :return: (fields [{name, label, type}], column headers, rows)
        """
        self.ensure_one()
        Target = self.env[self.target_model]
        field_names = EXPORT_FIELDS[self.target_model]
        descriptions = Target.fields_get(field_names, attributes=["string", "type"])
        labels = {name: descriptions[name]["string"] for name in field_names}
        labels[EXPORT_COMPANY_FIELDS[self.target_model]] = _("Company")
        fields_info = [
            {"name": name, "label": labels[name], "type": descriptions[name]["type"]}
            for name in field_names
        ]
        records = self._get_export_records()
        rows = records.export_data(field_names).get("datas", [])
        return fields_info, [info["label"] for info in fields_info], rows
