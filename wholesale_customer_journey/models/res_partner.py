# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, plaintext2html
from odoo.tools.mail import generate_tracking_message_id


_logger = logging.getLogger(__name__)

PREFERRED_CHANNELS = [
    ("email", "Email"),
    ("phone", "Phone"),
    ("social", "Social Media"),
    ("visit", "Visit"),
    ("none", "No Preference"),
]

DEFAULT_STUCK_DAYS = 60

# Set on the commercial partner and copied to its contacts.
JOURNEY_COMMERCIAL_FIELDS = [
    "journey_stage_id",
    "journey_stage_date",
    "journey_service_user_id",
    "journey_service_team_id",
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    journey_is_company = fields.Boolean(
        string="Owns a Journey",
        compute="_compute_journey_is_company",
        store=True,
        index=True,
        help="Set on commercial entities (companies and contacts without a "
        "company), the partners that own a customer journey.",
    )
    journey_stage_id = fields.Many2one(
        "customer.journey.stage",
        string="Journey Stage",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        group_expand="_read_group_journey_stage_ids",
        groups="base.group_user",
        help="The customer company's phase in its journey. Contacts show their "
        "company's stage.",
    )
    journey_stage_date = fields.Datetime(
        string="In Stage Since", readonly=True, copy=False, groups="base.group_user"
    )
    journey_days_in_stage = fields.Integer(
        string="Days in Stage",
        compute="_compute_journey_days_in_stage",
        search="_search_journey_days_in_stage",
        groups="base.group_user",
    )
    journey_is_stuck = fields.Boolean(
        string="Stuck in Stage",
        compute="_compute_journey_days_in_stage",
        search="_search_journey_is_stuck",
        groups="base.group_user",
        help="In the same journey stage for longer than the number of days set "
        "in Settings > CRM > Customer Journey.",
    )
    journey_history_ids = fields.One2many(
        "customer.journey.history", "partner_id", string="Stage History", groups="base.group_user"
    )
    journey_touchpoint_ids = fields.One2many(
        "customer.journey.touchpoint", "partner_id", string="Touchpoints", groups="base.group_user"
    )
    journey_touchpoint_count = fields.Integer(
        string="Touchpoint Count", compute="_compute_journey_touchpoint_count", groups="base.group_user"
    )
    journey_reorder_cycle_count = fields.Integer(
        string="Re-order Cycles", compute="_compute_journey_reorder_cycle_count", groups="base.group_user"
    )
    journey_suggestion_count = fields.Integer(
        string="Suggestions", compute="_compute_journey_suggestion_count", groups="base.group_user"
    )
    journey_last_touchpoint_date = fields.Datetime(
        string="Last Touchpoint",
        compute="_compute_journey_touchpoint_count",
        search="_search_journey_last_touchpoint_date",
        groups="base.group_user",
    )
    journey_interest_ids = fields.One2many(
        "customer.journey.interest", "partner_id", string="Product Interests", groups="base.group_user"
    )
    journey_preferred_channel = fields.Selection(
        PREFERRED_CHANNELS,
        string="Preferred Contact Channel",
        default="none",
        groups="base.group_user",
        help="How this contact wants to be approached. Automated follow-up uses "
        "this channel.",
    )
    journey_service_user_id = fields.Many2one(
        "res.users",
        string="Service Person",
        domain=[("share", "=", False)],
        tracking=True,
        groups="base.group_user",
        help="Looks after this customer after the sale. Set when the customer reaches the hand-off stage "
        "of the Settings, unless set already.",
    )
    journey_service_team_id = fields.Many2one(
        "crm.team", string="Service Team", tracking=True, groups="base.group_user"
    )
    journey_info_opt_out = fields.Boolean(
        string="No Product Information",
        groups="base.group_user",
        help="Product information rules send this customer or contact no mail and plan no "
        "activity. Set on a company, it applies to all its contacts.",
    )

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    @api.depends("commercial_partner_id")
    def _compute_journey_is_company(self):
        for partner in self:
            partner.journey_is_company = partner.commercial_partner_id == partner

    @api.model
    def _read_group_journey_stage_ids(self, stages, domain):
        return stages.search([], order=stages._order)

    @api.model
    def _journey_stuck_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(
            "wholesale_customer_journey.stuck_days", DEFAULT_STUCK_DAYS
        )
        try:
            return max(int(value), 1)
        except (TypeError, ValueError):
            _logger.warning(
                "Invalid wholesale_customer_journey.stuck_days %r, using %s", value, DEFAULT_STUCK_DAYS
            )
            return DEFAULT_STUCK_DAYS

    @api.depends("journey_stage_date")
    def _compute_journey_days_in_stage(self):
        now = fields.Datetime.now()
        stuck_days = self._journey_stuck_days()
        for partner in self:
            date = partner.journey_stage_date
            partner.journey_days_in_stage = (now - date).days if date else 0
            partner.journey_is_stuck = bool(date) and now - date > timedelta(days=stuck_days)

    def _search_journey_days_in_stage(self, operator, value):
        if operator not in (">", ">=", "<", "<="):
            return NotImplemented
        # The field counts whole days, so "more than N days" starts at N + 1.
        # More days in the stage means an earlier entry date.
        days = int(value) + (1 if operator in (">", "<=") else 0)
        limit = fields.Datetime.now() - timedelta(days=days)
        date_operator = "<=" if operator in (">", ">=") else ">"
        return [("journey_stage_date", "!=", False), ("journey_stage_date", date_operator, limit)]

    def _search_journey_is_stuck(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        limit = fields.Datetime.now() - timedelta(days=self._journey_stuck_days())
        stuck = [("journey_stage_date", "!=", False), ("journey_stage_date", "<", limit)]
        if (operator == "=") == bool(value):
            return stuck
        return ["|", ("journey_stage_date", "=", False), ("journey_stage_date", ">=", limit)]

    def _compute_journey_touchpoint_count(self):
        commercial = self.commercial_partner_id
        stats = {
            partner: (count, last)
            for partner, count, last in self.env["customer.journey.touchpoint"]._read_group(
                [("partner_id", "in", commercial.ids)], ["partner_id"], ["__count", "date:max"]
            )
        }
        for partner in self:
            count, last = stats.get(partner.commercial_partner_id, (0, False))
            partner.journey_touchpoint_count = count
            partner.journey_last_touchpoint_date = last

    def _search_journey_last_touchpoint_date(self, operator, value):
        """Search on the date of the customer's latest touchpoint.

        ``= False`` finds customers without touchpoints, so that the filter
        "no touchpoint in 30 days" is ``last < today-30 or last = False``.
        """
        if operator in ("=", "!=") and not value:
            with_touchpoint = SQL(
                "(SELECT partner_id FROM customer_journey_touchpoint WHERE partner_id IS NOT NULL)"
            )
            return [("commercial_partner_id", "not in" if operator == "=" else "in", with_touchpoint)]
        if operator not in ("<", "<=", ">", ">="):
            return NotImplemented
        value = fields.Datetime.to_datetime(value)
        subquery = SQL(
            """(SELECT partner_id FROM customer_journey_touchpoint
                 WHERE partner_id IS NOT NULL
              GROUP BY partner_id HAVING MAX(date) %s %s)""",
            SQL(operator),
            value,
        )
        return [("commercial_partner_id", "in", subquery)]

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + JOURNEY_COMMERCIAL_FIELDS

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("journey_stage_door"):
            if any(vals.get("journey_stage_id") and not vals.get("parent_id") for vals in vals_list):
                raise UserError(
                    self.env._(
                        "A new customer cannot start in a Journey Stage: its leads, "
                        "quotations and orders set the stage. Create the customer "
                        "without a stage, or ask a Customer Journey manager to use "
                        "“Set Stage” afterwards."
                    )
                )
            # A kanban column of the journey stage passes its stage as default.
            self = self.with_context(default_journey_stage_id=False, default_journey_stage_date=False)
        return super().create(vals_list)

    def write(self, vals):
        if (
            ("journey_stage_id" in vals or "journey_stage_date" in vals)
            and not self.env.context.get("journey_stage_door")
            and any(partner.journey_is_company for partner in self)
        ):
            raise UserError(
                _(
                    "The Journey Stage of a customer changes only through its events "
                    "or through “Set Stage” (Customer Journey managers). Use the "
                    "“Set Stage” button on the customer."
                )
            )
        return super().write(vals)

    def _children_sync(self, values):
        if self.env.context.get("journey_stage_door") and values.keys() <= set(JOURNEY_COMMERCIAL_FIELDS):
            # _journey_set_stage writes the contacts of every moving customer at once.
            return
        return super()._children_sync(values)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_journey_set_stage(self):
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_manager"):
            raise AccessError(_("Only Customer Journey managers can set a stage by hand."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Set Journey Stage"),
            "res_model": "customer.journey.stage.set",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.commercial_partner_id.ids},
        }

    def action_journey_log_touchpoint(self):
        """Open a new touchpoint for this customer, as a review by default."""
        self.ensure_one()
        channel = self.env.context.get("journey_channel", "review")
        return {
            "type": "ir.actions.act_window",
            "name": _("Log Opinion") if channel == "third_party" else _("Log Review"),
            "res_model": "customer.journey.touchpoint",
            "view_mode": "form",
            "views": [(self.env.ref("wholesale_customer_journey.customer_journey_touchpoint_view_form_quick").id, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_contact_id": self.id if not self.journey_is_company else False,
                "default_channel": channel,
                "default_kind": "indirect" if channel in ("review", "third_party") else "direct",
                "default_direction": "inbound",
                "default_origin": "manual",
            },
        }

    def _compute_journey_reorder_cycle_count(self):
        customers = self.commercial_partner_id.filtered("id")
        counts = dict(
            self.env["customer.journey.reorder.cycle"]._read_group(
                [("partner_id", "in", customers.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.journey_reorder_cycle_count = counts.get(partner.commercial_partner_id, 0)

    def action_journey_open_reorder_cycles(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wholesale_customer_journey.action_customer_journey_reorder_cycle"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def _compute_journey_suggestion_count(self):
        customers = self.commercial_partner_id.filtered("id")
        counts = dict(
            self.env["customer.journey.suggestion"]._read_group(
                [("partner_id", "in", customers.ids), ("state", "in", ("new", "planned", "sent", "accepted"))],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.journey_suggestion_count = counts.get(partner.commercial_partner_id, 0)

    def action_journey_open_suggestions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wholesale_customer_journey.action_customer_journey_suggestion"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_filter_open": 1, "default_partner_id": self.commercial_partner_id.id}
        return action

    def action_journey_open_touchpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wholesale_customer_journey.action_customer_journey_touchpoint"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    # ------------------------------------------------------------
    # BUSINESS: stage changes
    # ------------------------------------------------------------

    def _journey_set_stage(self, stage, event_code, sources=None, date=None, reason=None, force=False):
        """Move the commercial partners in ``self`` to ``stage``.

        This is the only method that changes a customer's journey stage from
        the ORM. Without ``force`` a partner only moves forward, to a stage
        with a higher sequence, and a partner already there or further is left
        alone. Each move closes the current history row, opens a new one and
        posts the change in the chatter through field tracking.

        :param sources: {partner_id: record} that caused the event, stored on the history row
        :param date: when the event happened, now by default
        :return: the partners that moved
        """
        commercial = self.commercial_partner_id
        if not stage or not commercial:
            return self.browse()
        date = date or fields.Datetime.now()
        sources = sources or {}
        own_ids = self._journey_own_partner_ids()
        moving = commercial.filtered(
            lambda p: p.id not in own_ids
            and p.journey_stage_id != stage
            and (force or not p.journey_stage_id or p.journey_stage_id.sequence < stage.sequence)
        )
        if not moving:
            return moving
        previous_stages = {partner.id: partner.journey_stage_id for partner in moving}
        History = self.env["customer.journey.history"].sudo()
        open_rows = History.search([("partner_id", "in", moving.ids), ("date_end", "=", False)])
        forward = open_rows.filtered(lambda row: row.stage_id.sequence < stage.sequence)
        forward.write({"date_end": date, "moved_on": True})
        (open_rows - forward).write({"date_end": date})
        new_rows = History.create(
            [
                {
                    "partner_id": partner.id,
                    "stage_id": stage.id,
                    "previous_stage_id": partner.journey_stage_id.id,
                    "date_start": date,
                    "event_code": event_code,
                    "res_model": sources[partner.id]._name if partner.id in sources else False,
                    "res_id": sources[partner.id].id if partner.id in sources else False,
                    "company_id": self._journey_history_company(partner, sources.get(partner.id)).id,
                    "reason": reason,
                }
                for partner in moving
            ]
        )
        # A customer set back by hand who reaches this stage again: the
        # earlier stay no longer counts in the funnel.
        History.search(
            [
                ("partner_id", "in", moving.ids),
                ("stage_id", "=", stage.id),
                ("id", "not in", new_rows.ids),
                ("reentered", "=", False),
            ]
        ).write({"reentered": True})
        # One write for the customers and all their contacts: Odoo's own sync
        # of commercial fields would write the contacts company by company.
        contacts = self.with_context(active_test=False).search(
            [("commercial_partner_id", "in", moving.ids), ("id", "not in", moving.ids)]
        )
        (moving | contacts).sudo().with_context(journey_stage_door=True).write(
            {"journey_stage_id": stage.id, "journey_stage_date": date}
        )
        moving._journey_log_stage_change(previous_stages, stage, reason)
        moving._journey_hand_off(stage, sources)
        return moving

    def _journey_hand_off(self, stage, sources):
        """Give the customers in ``self``, who just reached ``stage``, to their company's service person and team.

        The company is the one the stage change belongs to. Only a stage at
        or after that company's hand-off stage counts, and a customer keeps a
        service person or team it has. The service person gets a to-do for
        each customer it receives.
        """
        groups = defaultdict(lambda: self.browse())
        for partner in self:
            company = self._journey_history_company(partner, sources.get(partner.id))
            handoff = company.journey_handoff_stage_id
            if handoff and stage.sequence >= handoff.sequence:
                groups[company] |= partner
        activities = []
        for company, partners in groups.items():
            for field in ("journey_service_user_id", "journey_service_team_id"):
                value = company[field]
                receiving = partners.filtered(lambda partner: not partner[field])
                if value and receiving:
                    receiving.sudo().write({field: value.id})
                    if field == "journey_service_user_id":
                        activities += receiving._journey_hand_off_activities(value, stage)
        if activities:
            self.env["mail.activity"].sudo().create(activities)

    def _journey_hand_off_activities(self, user, stage):
        """Return the values of the to-dos that tell ``user`` which customers in ``self`` it now looks after."""
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("res.partner")
        # In the service person's language, due today where the service person is.
        env = self.with_context(lang=user.lang or self.env.lang, tz=user.tz or "UTC").env
        stage_name = stage.with_env(env).display_name
        return [
            {
                "res_model_id": model_id,
                "res_id": partner.id,
                "activity_type_id": todo.id if todo else False,
                "user_id": user.id,
                "summary": env._("Welcome %(customer)s as a new customer", customer=partner.display_name),
                "note": env._(
                    "%(customer)s reached %(stage)s and is handed off to you for aftersales.",
                    customer=partner.display_name,
                    stage=stage_name,
                ),
                "date_deadline": fields.Date.context_today(partner.with_env(env)),
            }
            for partner in self
        ]

    @api.model
    def _journey_own_partner_ids(self):
        """Return the ids of the partners that stand for the own organisation.

        These are the commercial partners of the companies in this database
        and the partners of internal users who belong to no company. They
        have no customer journey: events and mails about them are not
        touchpoints and move no stage.
        """
        self.env.cr.execute(self._journey_own_partner_query())
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _journey_own_partner_query(self):
        """Return the SQL that selects ``_journey_own_partner_ids``, for use in other queries."""
        self.env["res.company"].flush_model(["partner_id"])
        self.env["res.users"].flush_model(["partner_id", "share"])
        self.flush_model(["commercial_partner_id"])
        return SQL(
            """
            SELECT p.commercial_partner_id
              FROM res_company c JOIN res_partner p ON p.id = c.partner_id
            UNION
            SELECT p.id
              FROM res_users u JOIN res_partner p ON p.id = u.partner_id
             WHERE NOT u.share AND p.commercial_partner_id = p.id
            """
        )

    @api.model
    def _journey_history_company(self, partner, source=None):
        """Return the company a stage change of ``partner`` belongs to.

        The lead or order that caused it decides. Without one, a customer of
        one company keeps it, and a customer shared by all companies gets the
        company the user works in, so that other companies do not see it.
        """
        if source is not None and "company_id" in source._fields and source.company_id:
            return source.company_id
        return partner.company_id or self.env.company

    def _journey_log_stage_change(self, previous_stages, stage, reason=None):
        """Log the stage change in the chatter of each customer in ``self``.

        The messages look like field tracking, but are created in one batch,
        where tracking logs one message at a time. Contacts get no message
        of their own.

        :param previous_stages: {partner_id: stage before the change}
        """
        col_info = self.fields_get(["journey_stage_id"], attributes=("string", "type"))["journey_stage_id"]
        Tracking = self.env["mail.tracking.value"]
        author_id, email_from = self._message_compute_author(raise_on_email=False)
        # Computed once here, as Odoo's batch log does: per message they cost a query each.
        common_vals = {
            "model": self._name,
            "author_id": author_id,
            "email_from": email_from,
            "reply_to": self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False],
            "message_id": generate_tracking_message_id("message-notify"),
            "record_name": False,
            "record_alias_domain_id": False,
            "record_company_id": False,
            "email_add_signature": False,
            "message_type": "notification",
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "is_internal": True,
            "body": plaintext2html(reason) if reason else "",
        }
        messages = self.sudo()._message_create([dict(common_vals, res_id=partner.id) for partner in self])
        # mail.message would create the tracking values message by message.
        Tracking.sudo().create(
            [
                dict(
                    Tracking._create_tracking_values(
                        previous_stages[partner.id], stage, "journey_stage_id", col_info, partner
                    ),
                    mail_message_id=message.id,
                )
                for partner, message in zip(self, messages)
            ]
        )

    def _journey_event(self, event_code, sources, date=None):
        """Apply the rules of ``event_code`` for the customers of ``sources``.

        :param sources: leads or sale orders. Each gives the customer
            (``partner_id``), the company whose rules apply (``company_id``)
            and, for ``crm_stage``, the pipeline stage (``stage_id``).
        :return: the partners that moved
        """
        sources = sources.filtered(lambda source: source.partner_id)
        if not sources:
            return self.browse()
        companies = sources.company_id | self.env.company
        stage_map = self.env["customer.journey.rule"].sudo()._get_stage_map(event_code, companies)
        if not stage_map:
            return self.browse()
        # Per target stage, the customers and the record that moves each one.
        targets = defaultdict(dict)
        for source in sources:
            crm_stage_id = source.stage_id.id if event_code == "crm_stage" else False
            company_id = (source.company_id or self.env.company).id
            stage = stage_map.get((company_id, crm_stage_id))
            if stage:
                targets[stage].setdefault(source.partner_id.commercial_partner_id.id, source)
        moved = self.browse()
        for stage, partner_sources in sorted(targets.items(), key=lambda item: item[0].sequence):
            partners = self.browse(list(partner_sources)).sudo()
            moved |= partners._journey_set_stage(stage, event_code, sources=partner_sources, date=date)
        return moved

    @api.model
    def _journey_replay_history(self, partner_ids, reason=None):
        """Move customers to the stage their leads and orders imply, in SQL.

        For records created outside ``_journey_event`` (imports, SQL, install
        on an existing database). Returns the number of customers moved.
        """
        commercial_ids = self.browse(partner_ids).commercial_partner_id.ids
        return self.env["customer.journey.replay"]._replay(commercial_ids, reason=reason)
