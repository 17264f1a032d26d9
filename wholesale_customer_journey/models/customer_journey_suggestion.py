# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import threading
import time
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date, split_every

from ..analysis.cross_sell import MAX_DAYS
from .customer_journey_info_send import ACTIVITY_TYPES

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "wholesale_customer_journey.suggestion_"
# Defaults of the settings, in days, chosen by judgement and not measured. A week ahead leaves the
# salesperson time to call before the customer orders. A month past due, the moment has passed.
# After a "no", the customer hears nothing about the product for a quarter.
DEFAULT_REORDER_DAYS = 7
DEFAULT_EXPIRY_DAYS = 30
DEFAULT_BLOCK_DAYS = 90
DEFAULT_FOLLOW_UP = "none"
FOLLOW_UPS = [
    ("none", "None"),
    ("activity", "Activity for the Salesperson"),
    ("quotation", "Draft Quotation"),
    ("mail", "Suggestion Mail"),
    ("channel", "By Preferred Channel"),
]
OPEN_STATES = ("new", "planned", "sent", "accepted")
# Customers per batch of the nightly follow-up, committed one by one.
# Key of the PostgreSQL advisory lock that keeps two generation runs apart.
GENERATION_LOCK = 7_405_313
FOLLOW_UP_BATCH_SIZE = 200


class CustomerJourneySuggestion(models.Model):
    """A product to offer a customer company, with the reason: a re-order that is due, or a cross-sell rule.

    States:

    - new: generated, not followed up yet;
    - planned: an activity or a draft quotation follows it up;
    - sent: that quotation was sent;
    - accepted: added to an order, or accepted by hand;
    - converted: a confirmed order of the customer contains the product;
    - dismissed: by a user;
    - expired: its due date passed by more than Expire After (Days), its
      product is no longer on sale, or, for a category rule, the customer
      bought a product of the rule's Then Category.

    The first four are open. A customer has at most one open suggestion per
    product and company, which a partial unique index enforces.
    """

    _name = "customer.journey.suggestion"
    _description = "Aftersales Suggestion"
    _order = "due_date, partner_id, id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        domain=["|", ("is_company", "=", True), ("parent_id", "=", False)],
        help="The customer company (commercial partner) to offer the product to.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, ondelete="cascade", default=lambda self: self.env.company
    )
    product_id = fields.Many2one("product.product", string="Product", required=True, index=True, ondelete="cascade")
    quantity = fields.Float(digits="Product Unit of Measure", required=True, default=1.0)
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    reason = fields.Selection(
        [("cross_sell", "Cross-sell"), ("reorder", "Re-order due")], required=True, index=True
    )
    explanation = fields.Char(
        compute="_compute_explanation", help="Why this product is suggested, from the numbers stored below."
    )
    rule_id = fields.Many2one(
        "customer.journey.cross.sell.rule",
        string="Cross-sell Rule",
        index="btree_not_null",
        ondelete="set null",
    )
    source_product_id = fields.Many2one(
        "product.product",
        string="Bought Product",
        ondelete="set null",
        help="Cross-sell: the product the customer bought first. Re-order: the suggested product itself.",
    )
    source_date = fields.Date(
        string="Bought On",
        help="Cross-sell: the customer's first purchase of the bought product. Re-order: its last order.",
    )
    window_days = fields.Integer(string="Window (Days)", help="The cross-sell rule's window when suggested.")
    confidence = fields.Float(digits=(16, 4), help="The cross-sell rule's confidence when suggested.")
    lift = fields.Float(digits=(16, 2), help="The cross-sell rule's lift when suggested.")
    interval_days = fields.Float(
        string="Interval (Days)", digits=(16, 1), help="The re-order cycle's median interval when suggested."
    )
    due_date = fields.Date(
        string="Due", required=True, index=True, default=fields.Date.context_today,
        help="Re-order: the expected next order. Cross-sell: the first purchase of the bought product "
        "plus the rule's typical delay, today at the earliest.",
    )
    overdue = fields.Boolean(compute="_compute_overdue", search="_search_overdue")
    state = fields.Selection(
        [
            ("new", "New"),
            ("planned", "Planned"),
            ("sent", "Sent"),
            ("accepted", "Accepted"),
            ("converted", "Converted"),
            ("dismissed", "Dismissed"),
            ("expired", "Expired"),
        ],
        required=True,
        default="new",
        index=True,
    )
    date_closed = fields.Date(
        string="Closed On",
        readonly=True,
        help="When the suggestion was converted, dismissed or expired. A new suggestion for the same "
        "customer and product waits the Do Not Repeat days from then.",
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", index="btree_not_null", help="The customer's salesperson."
    )
    order_id = fields.Many2one(
        "sale.order",
        string="Order",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        help="The quotation made for it, or the confirmed order that converted it.",
    )
    activity_id = fields.Many2one("mail.activity", string="Activity", ondelete="set null", copy=False)

    @api.depends("product_id", "partner_id")
    def _compute_display_name(self):
        for suggestion in self:
            suggestion.display_name = _(
                "%(product)s for %(customer)s",
                product=suggestion.product_id.display_name or "?",
                customer=suggestion.partner_id.display_name or "?",
            )

    @api.depends_context("lang")
    @api.depends(
        "reason", "product_id", "source_product_id", "source_date", "window_days", "confidence", "lift", "interval_days",
        "rule_id.level", "rule_id.antecedent_categ_id", "rule_id.consequent_categ_id",
    )
    def _compute_explanation(self):
        for suggestion in self:
            date = format_date(self.env, suggestion.source_date) if suggestion.source_date else "?"
            if suggestion.reason == "cross_sell" and suggestion.rule_id.level == "category":
                suggestion.explanation = _(
                    "Bought %(bought)s (%(bought_category)s) on %(date)s: customers who buy %(bought_category)s "
                    "buy %(category)s within %(days)s days, and %(product)s is its best seller",
                    bought=suggestion.source_product_id.display_name or "?",
                    bought_category=suggestion.rule_id.antecedent_categ_id.display_name,
                    date=date,
                    category=suggestion.rule_id.consequent_categ_id.display_name,
                    days=suggestion.window_days,
                    product=suggestion.product_id.display_name or "?",
                )
            elif suggestion.reason == "cross_sell" and not suggestion.confidence:
                # A manual rule has no measures to quote.
                suggestion.explanation = _(
                    "Bought %(bought)s on %(date)s: the cross-sell rule suggests %(product)s within %(days)s days",
                    bought=suggestion.source_product_id.display_name or "?",
                    date=date,
                    product=suggestion.product_id.display_name or "?",
                    days=suggestion.window_days,
                )
            elif suggestion.reason == "cross_sell":
                # Formatted outside the _() call: the .pot extraction evaluates string arguments.
                lift = "%.1f" % suggestion.lift
                suggestion.explanation = _(
                    "Bought %(bought)s on %(date)s: %(confidence)s%% of such customers bought %(product)s "
                    "within %(days)s days (lift %(lift)s)",
                    bought=suggestion.source_product_id.display_name or "?",
                    date=date,
                    confidence=round(suggestion.confidence * 100),
                    product=suggestion.product_id.display_name or "?",
                    days=suggestion.window_days,
                    lift=lift,
                )
            elif suggestion.reason == "reorder":
                suggestion.explanation = _(
                    "Orders %(product)s about every %(days)s days, last on %(date)s",
                    product=suggestion.product_id.display_name or "?",
                    days=round(suggestion.interval_days),
                    date=date,
                )
            else:
                suggestion.explanation = False

    @api.depends("due_date", "state")
    def _compute_overdue(self):
        today = fields.Date.context_today(self)
        for suggestion in self:
            suggestion.overdue = (
                suggestion.state in OPEN_STATES and bool(suggestion.due_date) and suggestion.due_date < today
            )

    def _search_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        overdue = [("state", "in", OPEN_STATES), ("due_date", "<", fields.Date.context_today(self))]
        if (operator == "=") == value:
            return overdue
        return ["!", *overdue]

    def init(self):
        # At most one open suggestion per customer and product in a company; generation inserts
        # with ON CONFLICT DO NOTHING against it.
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS customer_journey_suggestion_open_unique
                    ON customer_journey_suggestion (company_id, partner_id, product_id)
                 WHERE state IN %(open)s
                """,
                open=OPEN_STATES,
            )
        )

    @api.constrains("quantity")
    def _check_quantity(self):
        for suggestion in self:
            if suggestion.quantity <= 0:
                raise ValidationError(
                    _("Invalid quantity %(quantity)s for %(name)s: enter more than 0.",
                      quantity=suggestion.quantity, name=suggestion.display_name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        # The journey belongs to the customer company: a contact's suggestion goes to its company.
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
                vals.setdefault("user_id", partner.commercial_partner_id.user_id.id or False)
        self._check_no_open_duplicate(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        reopening = vals.get("state") in OPEN_STATES and any(s.state not in OPEN_STATES for s in self)
        if reopening or {"partner_id", "product_id", "company_id"} & set(vals):
            for suggestion in self:
                merged = {
                    "partner_id": vals.get("partner_id", suggestion.partner_id.id),
                    "product_id": vals.get("product_id", suggestion.product_id.id),
                    "company_id": vals.get("company_id", suggestion.company_id.id),
                    "state": vals.get("state", suggestion.state),
                }
                suggestion._check_no_open_duplicate([merged])
        return super().write(vals)

    def _check_no_open_duplicate(self, vals_list):
        """Raise a readable error before the partial unique index rejects a second open suggestion."""
        seen = set()
        for vals in vals_list:
            if vals.get("state", "new") not in OPEN_STATES:
                continue
            company_id = vals.get("company_id") or self.env.company.id
            key = (company_id, vals.get("partner_id"), vals.get("product_id"))
            if key in seen:
                raise ValidationError(
                    _("The same product is suggested twice to one customer: keep one of the two suggestions.")
                )
            seen.add(key)
            duplicate = self.sudo().search(
                [
                    ("company_id", "=", company_id),
                    ("partner_id", "=", vals.get("partner_id")),
                    ("product_id", "=", vals.get("product_id")),
                    ("state", "in", OPEN_STATES),
                    ("id", "not in", self.ids),
                ],
                limit=1,
            )
            if duplicate:
                raise ValidationError(
                    _("%(name)s is already suggested: open the existing suggestion instead.",
                      name=duplicate.display_name)
                )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def _check_open(self):
        closed = self.filtered(lambda s: s.state not in OPEN_STATES)
        if closed:
            raise UserError(
                _("%(names)s is no longer open: it is converted, dismissed or expired.",
                  names=", ".join(closed.mapped("display_name")))
            )

    def action_dismiss(self):
        self._check_open()
        self.write({"state": "dismissed", "date_closed": fields.Date.context_today(self)})
        self._close_activities()

    def _close_activities(self):
        """Remove the open activities of the suggestions in ``self``: there is nothing left to follow up."""
        self.activity_id.exists().sudo().unlink()

    def action_accept(self):
        self._check_open()
        self.write({"state": "accepted"})

    def action_plan_activity(self):
        """Plan an activity for each suggestion without one, for its salesperson or else the current user."""
        self._check_open()
        self.check_access("write")
        to_plan = self.filtered(lambda s: not s.activity_id)
        if not to_plan:
            raise UserError(_("The selected suggestions already have an activity: open it from the Activity field."))
        to_plan._plan_activities(default_user=self.env.user)

    def action_create_quotation(self):
        """Create a draft quotation per customer and company with the suggested products not on one yet, and open it."""
        self._check_open()
        self.check_access("write")
        to_quote = self.filtered(lambda s: s.order_id.state not in ("draft", "sent"))
        if not to_quote:
            raise UserError(_("The selected suggestions are already on a quotation: open it from the Order field."))
        try:
            with self.env.cr.savepoint():
                orders = to_quote._create_quotations()
        except AccessError:
            # Sales users limited to their own documents may not fill another salesperson's quotation.
            others = to_quote.filtered(lambda s: s.user_id and s.user_id != self.env.user)
            if not others or self.env.user.has_group("sales_team.group_sale_salesman_all_leads"):
                raise
            raise AccessError(
                _(
                    "The quotation for %(customer)s would belong to salesperson %(salesperson)s, and your access "
                    "covers your own quotations only. Ask %(salesperson)s or a Sales administrator to create it.",
                    customer=others[0].partner_id.display_name,
                    salesperson=others[0].user_id.name,
                )
            ) from None
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_quotations_with_onboarding")
        if len(orders) == 1:
            action.update(views=[(False, "form")], view_mode="form", res_id=orders.id)
        else:
            action["domain"] = [("id", "in", orders.ids)]
        return action

    def action_add_to_order(self):
        """Add the product to the draft order of the context (the Suggested Products tab) and accept it."""
        self._check_open()
        on_order = self.filtered(lambda s: s.state == "accepted" and s.order_id.state in ("draft", "sent"))
        if on_order:
            raise UserError(
                _("%(names)s is on quotation %(order)s already.",
                  names=", ".join(on_order.mapped("display_name")), order=on_order[0].order_id.name)
            )
        order = self.env["sale.order"].browse(self.env.context.get("journey_order_id")).exists()
        if not order:
            raise UserError(_("Save the quotation before adding a suggested product."))
        if order.state not in ("draft", "sent"):
            raise UserError(
                _("Order %(order)s is confirmed or cancelled: add suggested products to a quotation.",
                  order=order.name)
            )
        for suggestion in self:
            if (
                suggestion.partner_id != order.partner_id.commercial_partner_id
                or suggestion.company_id != order.company_id
            ):
                raise UserError(
                    _("%(name)s belongs to another customer or company than order %(order)s.",
                      name=suggestion.display_name, order=order.name)
                )
        order.write(
            {
                "order_line": [
                    Command.create({"product_id": suggestion.product_id.id, "product_uom_qty": suggestion.quantity})
                    for suggestion in self
                ]
            }
        )
        self.write({"state": "accepted", "order_id": order.id})
        return True

    # No @api.model: a list header button passes the selected ids, none or some, which the run ignores.
    def action_generate_suggestions(self):
        """Generate and follow up the suggestions now, as the nightly job does, from the list's Generate Now button."""
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_manager"):
            raise AccessError(_("Only Customer Journey managers may generate the suggestions."))
        counts = self.sudo()._generate_suggestions()
        counts["followed_up"] = self.sudo()._follow_up_new()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(reorder)s re-order and %(cross_sell)s cross-sell suggestions added, %(expired)s expired, "
                    "%(followed_up)s followed up.",
                    **{key: counts[key] for key in ("reorder", "cross_sell", "expired", "followed_up")},
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------
    # GENERATION
    # ------------------------------------------------------------

    @api.model
    def _get_settings(self):
        """Return the validated suggestion settings, defaults for those not set.

        :return: dict with reorder_days, expiry_days, block_days and follow_up
        :raise UserError: naming the invalid setting and its valid range
        """
        params = self.env["ir.config_parameter"].sudo()
        settings = {}
        for key, default in (
            ("reorder_days", DEFAULT_REORDER_DAYS),
            ("expiry_days", DEFAULT_EXPIRY_DAYS),
            ("block_days", DEFAULT_BLOCK_DAYS),
        ):
            value = params.get_param(PARAM_PREFIX + key, default)
            try:
                settings[key] = int(value)
            except ValueError:
                raise UserError(self._get_setting_message(key, value)) from None
            message = self._get_setting_message(key, settings[key])
            if message:
                raise UserError(message)
        settings["follow_up"] = params.get_param(PARAM_PREFIX + "follow_up", DEFAULT_FOLLOW_UP)
        if settings["follow_up"] not in dict(FOLLOW_UPS):
            raise UserError(self._get_setting_message("follow_up", settings["follow_up"]))
        return settings

    @api.model
    def _get_setting_message(self, key, value):
        """Return the message for the invalid ``value`` of setting ``key``, or None when it is valid."""
        ranges = {"reorder_days": (0, 365), "expiry_days": (1, MAX_DAYS), "block_days": (0, MAX_DAYS)}
        if key in ranges and isinstance(value, int) and ranges[key][0] <= value <= ranges[key][1]:
            return None
        if key == "reorder_days":
            return _("Invalid Re-order Lead Time (Days): %(value)s. Enter a number of days from 0 to 365.", value=value)
        if key == "expiry_days":
            return _(
                "Invalid Expire After (Days): %(value)s. Enter a number of days from 1 to %(max)s.",
                value=value, max=MAX_DAYS,
            )
        if key == "block_days":
            return _(
                "Invalid Do Not Repeat For (Days): %(value)s. Enter a number of days from 0 to %(max)s.",
                value=value, max=MAX_DAYS,
            )
        return _(
            "Invalid Suggestion Follow-up: %(value)s. Choose none, activity, quotation, mail or by preferred channel.",
            value=value,
        )

    @api.model
    def _generate_suggestions(self, today=None):
        """Expire the stale suggestions, then add those of due re-orders and of open cross-sell windows.

        Three set-based statements in the caller's transaction; running it
        twice on the same day adds nothing the second time.

        :return: dict of counts: expired, reorder, cross_sell, seconds
        """
        start = time.monotonic()
        settings = self._get_settings()
        today = today or fields.Date.context_today(self)
        self.env.flush_all()
        # One run at a time: two concurrent inserts of the same suggestion fail on serialization.
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [GENERATION_LOCK])
        if not self.env.cr.fetchone()[0]:
            raise UserError(_("The suggestions are being generated already: try again when that run is over."))
        self._analyze_tables()
        params = {
            "today": today,
            "open": OPEN_STATES,
            "expired_before": today - timedelta(days=settings["expiry_days"]),
            "due_until": today + timedelta(days=settings["reorder_days"]),
            "blocked_since": today - timedelta(days=settings["block_days"]),
            "own_partners": SQL("(%s)", self.env["res.partner"]._journey_own_partner_query()),
            "uid": self.env.uid,
        }
        counts = {
            "expired": self._expire_suggestions(params),
            "reorder": self._insert_reorder_suggestions(params),
            "cross_sell": self._insert_cross_sell_suggestions(params),
        }
        # After the product rules, so that a product rule explains a product both suggest.
        counts["cross_sell"] += self._insert_category_suggestions(params)
        self.invalidate_model()
        counts["seconds"] = time.monotonic() - start
        _logger.info(
            "Suggestions: %(reorder)s re-order and %(cross_sell)s cross-sell suggestions added, "
            "%(expired)s expired, %(seconds).1f s",
            counts,
        )
        return counts

    def _analyze_tables(self):
        """Refresh the PostgreSQL statistics of the tables the generation joins, in a transaction of its own.

        With the statistics of near-empty tables, PostgreSQL plans the inserts
        as nested loops: on the Online Retail file the first cross-sell insert
        after a mining took more than 180 s instead of 2.7 s, and a second run
        67 s. The own transaction reads committed rows only, such as those of
        the nightly mining, and releases its table locks at once. Held until
        the end of the generation, they made a mining that expires
        suggestions at the same time deadlock.
        """
        with self.env.registry.cursor() as cr:
            cr.execute(
                "ANALYZE customer_journey_cross_sell_rule, customer_journey_reorder_cycle, customer_journey_suggestion"
            )

    def _expire_suggestions(self, params):
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_suggestion
                   SET state = 'expired', date_closed = %(today)s, write_uid = %(uid)s,
                       write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE state IN %(open)s
                   AND (
                       due_date < %(expired_before)s
                       -- A product no longer on sale cannot be offered.
                       OR product_id IN (
                           SELECT pp.id FROM product_product pp
                             JOIN product_template pt ON pt.id = pp.product_tmpl_id
                            WHERE NOT (pp.active AND pt.active AND pt.sale_ok))
                       -- A category rule's suggestion is answered once the customer buys any product of
                       -- its Then Category.
                       OR id IN (
                           SELECT s.id
                             FROM customer_journey_suggestion s
                             JOIN customer_journey_cross_sell_rule r ON r.id = s.rule_id AND r.level = 'category'
                             JOIN product_category cb ON cb.id = r.consequent_categ_id
                             JOIN sale_order so ON so.company_id = s.company_id AND so.state = 'sale'
                             JOIN res_partner p ON p.id = so.partner_id AND p.commercial_partner_id = s.partner_id
                             JOIN sale_order_line sol ON sol.order_id = so.id AND sol.product_uom_qty > 0
                             JOIN product_product pp ON pp.id = sol.product_id
                             JOIN product_template pt ON pt.id = pp.product_tmpl_id AND pt.type = 'consu'
                             JOIN product_category pc ON pc.id = pt.categ_id
                            WHERE s.state IN %(open)s AND starts_with(pc.parent_path, cb.parent_path))
                   )
                   -- One on an open quotation waits for that quotation to be confirmed or cancelled.
                   AND NOT (state = 'accepted' AND order_id IN (
                       SELECT id FROM sale_order WHERE state IN ('draft', 'sent')))
             RETURNING activity_id
                """,
                **params,
            )
        )
        activity_ids = [row[0] for row in self.env.cr.fetchall()]
        # As after a dismissal, nothing is left to follow up.
        self.env["mail.activity"].browse(filter(None, activity_ids)).exists().sudo().unlink()
        return len(activity_ids)

    def _insert_reorder_suggestions(self, params):
        """Insert a suggestion per regular cycle due within the lead time, or overdue but not expired.

        A confirmed order of the product after the cycle's last order means the
        customer already re-ordered. A dismissed or expired suggestion blocks
        the product for the Do Not Repeat days, and so does a converted one
        until the cycle includes the converting order.
        """
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO customer_journey_suggestion
                       (company_id, partner_id, product_id, quantity, reason, source_product_id, source_date,
                        interval_days, due_date, state, user_id, create_uid, create_date, write_uid, write_date)
                SELECT c.company_id, c.partner_id, c.product_id, c.typical_quantity, 'reorder', c.product_id,
                       c.last_date, c.median_interval, c.next_date, 'new', p.user_id,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM customer_journey_reorder_cycle c
                  JOIN res_partner p ON p.id = c.partner_id AND p.active
                  JOIN product_product pp ON pp.id = c.product_id AND pp.active
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id AND pt.active AND pt.sale_ok
                 WHERE c.regular AND c.typical_quantity > 0
                   AND c.next_date BETWEEN %(expired_before)s AND %(due_until)s
                   AND c.partner_id NOT IN %(own_partners)s
                   AND NOT EXISTS (
                       SELECT FROM sale_order_line sol
                         JOIN sale_order so ON so.id = sol.order_id
                         JOIN res_partner op ON op.id = so.partner_id
                        WHERE so.state = 'sale' AND so.company_id = c.company_id
                          AND op.commercial_partner_id = c.partner_id AND sol.product_id = c.product_id
                          AND so.date_order::date > c.last_date)
                   AND NOT EXISTS (
                       SELECT FROM customer_journey_suggestion s
                        WHERE s.company_id = c.company_id AND s.partner_id = c.partner_id
                          AND s.product_id = c.product_id AND s.date_closed >= %(blocked_since)s
                          AND (s.state IN ('dismissed', 'expired')
                               OR (s.state = 'converted' AND s.date_closed > c.last_date)))
                ON CONFLICT DO NOTHING
                """,
                **params,
            )
        )
        return self.env.cr.rowcount

    def _insert_cross_sell_suggestions(self, params):
        """Insert a suggestion per customer whose window of an active product rule is open and who never bought B.

        The window is open from the customer's first purchase of A until
        window_days after it. The quantity is the rule's typical quantity of a
        first purchase of B, at least 1: the median quantity ratio times the
        customer's quantity of A would scale with the customer, but one large
        first order of A would then inflate it. When several rules suggest the
        same B, the one with the highest lift wins.
        """
        return self._insert_cross_sell_candidates(
            SQL(
                """
                WITH rules AS (
                    SELECT * FROM customer_journey_cross_sell_rule
                     WHERE active AND level = 'product'
                ),
                firsts AS (
                    SELECT so.company_id, p.commercial_partner_id AS partner_id, sol.product_id,
                           MIN(so.date_order::date) AS first_day
                      FROM sale_order_line sol
                      JOIN sale_order so ON so.id = sol.order_id
                      JOIN res_partner p ON p.id = so.partner_id
                     WHERE so.state = 'sale' AND sol.display_type IS NULL AND sol.product_uom_qty > 0
                       AND sol.product_id IN (SELECT antecedent_product_id FROM rules
                                              UNION SELECT consequent_product_id FROM rules)
                  GROUP BY 1, 2, 3
                ),
                candidates AS (
                    SELECT DISTINCT ON (r.company_id, a.partner_id, r.consequent_product_id)
                           r.company_id, a.partner_id, r.consequent_product_id AS product_id, r.id AS rule_id,
                           r.antecedent_product_id, a.first_day, r.window_days, r.confidence, r.lift,
                           GREATEST(r.median_quantity, 1) AS quantity,
                           GREATEST(a.first_day + ROUND(COALESCE(r.median_delay, 0))::integer, %(today)s::date)
                               AS due_date
                      FROM rules r
                      JOIN firsts a ON a.company_id = r.company_id AND a.product_id = r.antecedent_product_id
                     WHERE a.first_day BETWEEN %(today)s::date - r.window_days AND %(today)s
                       AND a.partner_id NOT IN %(own_partners)s
                       AND NOT EXISTS (
                           SELECT FROM firsts b
                            WHERE b.company_id = r.company_id AND b.partner_id = a.partner_id
                              AND b.product_id = r.consequent_product_id)
                  ORDER BY r.company_id, a.partner_id, r.consequent_product_id, r.lift DESC NULLS LAST, r.confidence DESC NULLS LAST, r.id
                )
                """,
                **params,
            ),
            params,
        )

    def _insert_category_suggestions(self, params):
        """Insert a suggestion per customer whose window of an active category rule is open and who never bought B.

        A category stands for its products and those of its subcategories.
        The window opens at the customer's first purchase of any product of
        category A. The suggested product is category B's best seller: the
        active, saleable product of B that most customers of the company
        bought, ties by lowest id. The quantity is the rule's typical
        quantity, at least 1.
        """
        self.env.cr.execute(
            "SELECT 1 FROM customer_journey_cross_sell_rule WHERE active AND level = 'category' LIMIT 1"
        )
        if not self.env.cr.fetchone():
            return 0
        return self._insert_cross_sell_candidates(
            SQL(
                """
                WITH rules AS (
                    SELECT r.*, ca.parent_path AS antecedent_path, cb.parent_path AS consequent_path
                      FROM customer_journey_cross_sell_rule r
                      JOIN product_category ca ON ca.id = r.antecedent_categ_id
                      JOIN product_category cb ON cb.id = r.consequent_categ_id
                     WHERE r.active AND r.level = 'category'
                ),
                lines AS MATERIALIZED (
                    SELECT so.company_id, p.commercial_partner_id AS partner_id, sol.product_id,
                           pc.parent_path, so.date_order::date AS day
                      FROM sale_order_line sol
                      JOIN sale_order so ON so.id = sol.order_id
                      JOIN res_partner p ON p.id = so.partner_id
                      JOIN product_product pp ON pp.id = sol.product_id
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                      JOIN product_category pc ON pc.id = pt.categ_id
                     WHERE so.state = 'sale' AND sol.display_type IS NULL AND sol.product_uom_qty > 0
                       AND pt.type = 'consu'
                       AND so.company_id IN (SELECT company_id FROM rules)
                       AND p.commercial_partner_id NOT IN %(own_partners)s
                ),
                firsts AS (
                    SELECT DISTINCT ON (r.id, l.partner_id)
                           r.id AS rule_id, l.partner_id, l.day AS first_day, l.product_id
                      FROM rules r
                      JOIN lines l ON l.company_id = r.company_id AND starts_with(l.parent_path, r.antecedent_path)
                  ORDER BY r.id, l.partner_id, l.day, l.product_id
                ),
                bought_consequent AS (
                    SELECT DISTINCT r.id AS rule_id, l.partner_id
                      FROM rules r
                      JOIN lines l ON l.company_id = r.company_id AND starts_with(l.parent_path, r.consequent_path)
                ),
                best_sellers AS (
                    SELECT DISTINCT ON (rule_id) rule_id, product_id
                      FROM (
                          SELECT r.id AS rule_id, l.product_id, COUNT(DISTINCT l.partner_id) AS customers
                            FROM rules r
                            JOIN lines l ON l.company_id = r.company_id
                                        AND starts_with(l.parent_path, r.consequent_path)
                            JOIN product_product pp ON pp.id = l.product_id AND pp.active
                            JOIN product_template pt ON pt.id = pp.product_tmpl_id AND pt.active AND pt.sale_ok
                        GROUP BY r.id, l.product_id
                      ) counted
                  ORDER BY rule_id, customers DESC, product_id
                ),
                candidates AS (
                    SELECT DISTINCT ON (r.company_id, a.partner_id, b.product_id)
                           r.company_id, a.partner_id, b.product_id, r.id AS rule_id,
                           a.product_id AS antecedent_product_id, a.first_day, r.window_days, r.confidence,
                           r.lift, GREATEST(r.median_quantity, 1) AS quantity,
                           GREATEST(a.first_day + ROUND(COALESCE(r.median_delay, 0))::integer, %(today)s::date)
                               AS due_date
                      FROM rules r
                      JOIN firsts a ON a.rule_id = r.id
                      JOIN best_sellers b ON b.rule_id = r.id
                     WHERE a.first_day BETWEEN %(today)s::date - r.window_days AND %(today)s
                       AND NOT EXISTS (
                           SELECT FROM bought_consequent c WHERE c.rule_id = r.id AND c.partner_id = a.partner_id)
                       -- One open suggestion per customer and rule, even when the best seller changes.
                       AND NOT EXISTS (
                           SELECT FROM customer_journey_suggestion s
                            WHERE s.rule_id = r.id AND s.partner_id = a.partner_id AND s.state IN %(open)s)
                  ORDER BY r.company_id, a.partner_id, b.product_id, r.lift DESC NULLS LAST,
                           r.confidence DESC NULLS LAST, r.id
                )
                """,
                **params,
            ),
            params,
        )

    def _insert_cross_sell_candidates(self, with_candidates, params):
        """Insert the rows of the ``candidates`` query as new cross-sell suggestions, and return how many.

        ``with_candidates`` is a WITH clause that ends with a query named
        candidates. Inactive customers, archived or unsaleable products and
        products the customer closed within Do Not Repeat For are left out,
        and an open suggestion for the same product wins.
        """
        self.env.cr.execute(
            SQL(
                """
                %(with_candidates)s
                INSERT INTO customer_journey_suggestion
                       (company_id, partner_id, product_id, quantity, reason, rule_id, source_product_id,
                        source_date, window_days, confidence, lift, due_date, state, user_id,
                        create_uid, create_date, write_uid, write_date)
                SELECT k.company_id, k.partner_id, k.product_id, k.quantity, 'cross_sell', k.rule_id,
                       k.antecedent_product_id, k.first_day, k.window_days, k.confidence, k.lift, k.due_date,
                       'new', p.user_id, %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM candidates k
                  JOIN res_partner p ON p.id = k.partner_id AND p.active
                  JOIN product_product pp ON pp.id = k.product_id AND pp.active
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id AND pt.active AND pt.sale_ok
                 WHERE NOT EXISTS (
                       SELECT FROM customer_journey_suggestion s
                        WHERE s.company_id = k.company_id AND s.partner_id = k.partner_id
                          AND s.product_id = k.product_id AND s.date_closed >= %(blocked_since)s
                          AND s.state IN ('dismissed', 'expired', 'converted'))
                ON CONFLICT DO NOTHING
                """,
                with_candidates=with_candidates,
                **params,
            )
        )
        return self.env.cr.rowcount

    @api.model
    def _cron_generate_suggestions(self):
        """Nightly: generate and expire the suggestions, commit, then follow the new ones up in batches."""
        _logger.info("Suggestions: start")
        testing = getattr(threading.current_thread(), "testing", False)
        # Sudo: the cron's user need not be in every company whose suggestions it generates.
        Suggestion = self.sudo()
        try:
            counts = Suggestion._generate_suggestions()
        except UserError as error:
            _logger.error("Suggestions: not generated: %s", error)
            return None
        if not testing:
            self.env.cr.commit()
        counts["followed_up"] = Suggestion._follow_up_new(commit=not testing)
        _logger.info(
            "Suggestions: end, %(reorder)s re-order and %(cross_sell)s cross-sell added, %(expired)s expired, "
            "%(followed_up)s followed up",
            counts,
        )
        return counts

    # ------------------------------------------------------------
    # FOLLOW-UP
    # ------------------------------------------------------------

    @api.model
    def _follow_up_new(self, commit=False, batch_size=FOLLOW_UP_BATCH_SIZE):
        """Follow the new suggestions up with the Suggestion Follow-up setting, a batch of customers at a time.

        :return: number of suggestions planned
        """
        mode = self._get_settings()["follow_up"]
        if mode == "none":
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        self.env.cr.execute(
            "SELECT DISTINCT partner_id FROM customer_journey_suggestion WHERE state = 'new' ORDER BY partner_id"
        )
        partner_ids = [row[0] for row in self.env.cr.fetchall()]
        planned = done = 0
        for batch in split_every(batch_size, partner_ids):
            suggestions = self.search([("state", "=", "new"), ("partner_id", "in", list(batch))])
            try:
                with self.env.cr.savepoint():
                    planned += len(suggestions._follow_up(mode))
            except (UserError, psycopg2.errors.SerializationFailure) as error:
                # ValidationError and AccessError are UserErrors too: an archived product or a
                # customer's invalid data stops its batch, not the night. A user who follows up the
                # same suggestions at the same time makes the batch fail to serialize: the next run
                # takes it up again.
                _logger.error(
                    "Suggestions: follow-up failed for customers %s, their suggestions stay new: %s", batch, error
                )
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(partner_ids) - done)
            if commit:
                self.env.cr.commit()
        return planned

    def _follow_up(self, mode):
        """Plan an activity or a draft quotation for the suggestions in ``self``, depending on ``mode``.

        With "channel", a customer whose preferred channel is email gets a draft
        quotation for the salesperson to send, any other customer an activity of
        its channel's type.

        :return: the suggestions that got planned
        """
        by_quotation = by_mail = self.browse()
        if mode == "activity":
            by_activity = self
        elif mode == "quotation":
            by_activity, by_quotation = self.browse(), self
        elif mode == "mail":
            by_mail = self
            by_activity = self.browse()
        else:
            by_mail = self.filtered(lambda s: s.partner_id.journey_preferred_channel == "email")
            by_activity = self - by_mail
        mailed = by_mail._send_mails()
        # A customer the mail cannot reach gets the salesperson's activity instead.
        by_activity |= by_mail - mailed
        planned = mailed | by_activity._plan_activities()
        no_salesperson = by_quotation.filtered(lambda s: not s.user_id)
        for suggestion in no_salesperson:
            _logger.info(
                "Suggestions: suggestion %s (customer %s, product %s) has no salesperson, no quotation created",
                suggestion.id, suggestion.partner_id.id, suggestion.product_id.id,
            )
        (by_quotation - no_salesperson)._create_quotations()
        return planned | (by_quotation - no_salesperson)

    def _send_mails(self):
        """Mail each customer its suggestions in ``self``, in its language, from its salesperson.

        The mail lists each product with the suggested quantity, the
        customer's price and the availability, as the product information
        mails do, and stays in the customer's chatter, so that replies come
        back there. A customer without a valid email address, blacklisted, or
        opted out of product information gets no mail: its suggestions are
        logged and returned unsent.

        :return: the suggestions that were mailed, now sent
        """
        template = self.env.ref("wholesale_customer_journey.mail_template_suggestion", raise_if_not_found=False)
        groups = defaultdict(lambda: self.browse())
        for suggestion in self:
            groups[(suggestion.company_id, suggestion.partner_id)] |= suggestion
        Product = self.env["product.template"].sudo()
        sent = self.browse()
        for (company, partner), suggestions in groups.items():
            if not template or not partner.email_normalized or partner.is_blacklisted or partner.journey_info_opt_out:
                _logger.info(
                    "Suggestions: customer %s gets no suggestion mail (no valid email, blacklisted or opted out), "
                    "suggestions %s go to the salesperson",
                    partner.id, suggestions.ids,
                )
                continue
            lang = partner.lang or self.env.lang
            products = Product.with_context(lang=lang).browse(suggestions.product_id.product_tmpl_id.ids)
            pricelist = Product._journey_info_pricelist(partner, company)
            prices = products.with_company(company)._journey_info_prices(pricelist)
            lines = products._journey_info_lines(prices, company)
            quantities = {
                suggestion.product_id.product_tmpl_id.id: "%g" % suggestion.quantity for suggestion in suggestions
            }
            offers = {
                suggestion.product_id.product_tmpl_id.id: suggestion.with_context(lang=lang)._get_mail_offer()
                for suggestion in suggestions
            }
            for line in lines:
                line["quantity"] = quantities[line["product"].id]
                line["offer"] = offers[line["product"].id]
            rendering = template.with_company(company).with_context(
                lang=lang, journey_suggestion_lines=lines, journey_suggestion_user=suggestions[0].user_id
            )
            partner.with_company(company).message_post(
                body=rendering._render_field("body_html", partner.ids)[partner.id],
                subject=rendering._render_field("subject", partner.ids)[partner.id],
                email_from=rendering._render_field("email_from", partner.ids)[partner.id],
                partner_ids=partner.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            suggestions.write({"state": "sent"})
            sent |= suggestions
        return sent

    def _get_mail_offer(self):
        """Return the offer the suggestion mail shows under the product, or an empty string.

        This addon makes no offer. A module that adds coupons overrides it.
        """
        self.ensure_one()
        return ""

    def _get_follow_up_note(self):
        """Return the note of the salesperson's activity: why the product is suggested."""
        self.ensure_one()
        return self.explanation

    def _plan_activities(self, default_user=None):
        """Plan an activity on the customer for each suggestion, of the type of the customer's preferred channel.

        Suggestions without a salesperson get ``default_user``'s activity, or are
        skipped and logged without one.

        :return: the suggestions that got an activity
        """
        vals_list, planned = [], self.browse()
        model_id = self.env["ir.model"]._get_id("res.partner")
        for suggestion in self:
            user = suggestion.user_id or default_user
            if not user:
                _logger.info(
                    "Suggestions: suggestion %s (customer %s, product %s) has no salesperson, no activity planned",
                    suggestion.id, suggestion.partner_id.id, suggestion.product_id.id,
                )
                continue
            channel = suggestion.partner_id.journey_preferred_channel
            activity_type = self.env.ref(ACTIVITY_TYPES.get(channel, "mail.mail_activity_data_todo"))
            user_today = fields.Date.context_today(self.with_context(tz=user.tz or "UTC"))
            localized = suggestion.with_context(lang=user.lang or self.env.lang)
            quantity = "%g" % suggestion.quantity
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": suggestion.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": localized.env._(
                        "Suggest %(quantity)s %(unit)s %(product)s",
                        quantity=quantity,
                        unit=suggestion.uom_id.name,
                        product=suggestion.product_id.display_name,
                    ),
                    "note": localized._get_follow_up_note(),
                    "user_id": user.id,
                    # Not before today where the salesperson is, so that the activity is not overdue at once.
                    "date_deadline": max(suggestion.due_date, user_today),
                }
            )
            planned |= suggestion
        activities = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(vals_list)
        for suggestion, activity in zip(planned, activities):
            # An accepted suggestion stays accepted: it is on a quotation already.
            values = {"activity_id": activity.id}
            if suggestion.state == "new":
                values["state"] = "planned"
            suggestion.write(values)
        return planned

    def _create_quotations(self):
        """Create one draft quotation per customer and company with a line per suggestion.

        :return: the quotations
        """
        groups = defaultdict(lambda: self.browse())
        for suggestion in self:
            groups[(suggestion.company_id, suggestion.partner_id)] |= suggestion
        orders = self.env["sale.order"]
        for (company, partner), suggestions in groups.items():
            order = (
                self.env["sale.order"]
                .with_company(company)
                .create(
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "user_id": suggestions[0].user_id.id or partner.user_id.id or False,
                        "order_line": [
                            Command.create({"product_id": s.product_id.id, "product_uom_qty": s.quantity})
                            for s in suggestions
                        ],
                    }
                )
            )
            suggestions.filtered(lambda s: s.state == "new").write({"state": "planned"})
            suggestions.write({"order_id": order.id})
            orders |= order
        return orders
