# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import threading
import time
from datetime import timedelta
from itertools import groupby
from operator import itemgetter

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..analysis.cross_sell import LEVELS, MAX_DAYS, MAX_WINDOWS, Thresholds, ThresholdError, pair_measures
from ..tools.quantities import min_net_quantity

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "wholesale_customer_journey.cross_sell_"
# Key of the PostgreSQL advisory lock that keeps two mining runs apart.
MINING_LOCK = 7_405_312
# The fields that make a rule: one rule per pair, window and company.
RULE_KEY_FIELDS = (
    "company_id",
    "level",
    "antecedent_product_id",
    "antecedent_categ_id",
    "consequent_product_id",
    "consequent_categ_id",
    "window_days",
)
LEVEL_SELECTION = {"product": ("product",), "category": ("category",), "both": LEVELS}
# Defaults, chosen on the Online Retail file (see the README): 10 customers, a confidence of 0.1
# and a lift of 2 gave 21,288 product rules there, most backed by 10 to 14 customers. These
# give 4,632, each backed by 20 customers, one in five buyers of A, at three times B's base rate.
DEFAULT_THRESHOLDS = Thresholds(
    min_support=20, min_confidence=0.2, min_lift=3.0, windows=(30,), horizon_days=730, levels=LEVELS
)


def parse_windows(text):
    """Return the sorted tuple of windows in days of a text such as "14, 30, 90".

    :raise ThresholdError: when a part is not a whole number
    """
    windows = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()):
            raise ThresholdError("windows", f"A window is a whole number of days, not {part!r}.")
        windows.add(int(part))
    return tuple(sorted(windows))


class CustomerJourneyCrossSellRule(models.Model):
    """Customers who bought A bought B within a window: mined from confirmed orders, or entered by hand.

    ``_mine_rules`` reads the first purchases of every company in SQL, measures
    the pairs with ``analysis.cross_sell.pair_measures``, and replaces the mined
    rules that no user has edited in one transaction.
    """

    _name = "customer.journey.cross.sell.rule"
    _description = "Cross-sell Rule"
    _order = "lift desc, support desc, id"
    _check_company_auto = True

    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, ondelete="cascade", default=lambda self: self.env.company
    )
    level = fields.Selection(
        [("product", "Product"), ("category", "Product Category")],
        required=True,
        default="product",
        help="Whether the rule links two products or two product categories.",
    )
    antecedent_product_id = fields.Many2one(
        "product.product", string="Bought Product", index=True, ondelete="cascade", check_company=True
    )
    antecedent_categ_id = fields.Many2one(
        "product.category", string="Bought Category", index=True, ondelete="cascade"
    )
    consequent_product_id = fields.Many2one(
        "product.product", string="Then Product", index=True, ondelete="cascade", check_company=True
    )
    consequent_categ_id = fields.Many2one("product.category", string="Then Category", index=True, ondelete="cascade")
    window_days = fields.Integer(
        string="Window (Days)",
        required=True,
        aggregator=None,
        default=30,
        help="The customer bought B for the first time on the day of its first purchase of A or "
        "up to this many days after it.",
    )
    support = fields.Integer(readonly=True, help="Customer companies who bought A and then B within the window.")
    antecedent_customers = fields.Integer(
        string="Customers of A", readonly=True, aggregator=None, help="Customer companies who bought A."
    )
    confidence = fields.Float(
        digits=(16, 4),
        readonly=True,
        aggregator="avg",
        help="Share of the customers of A who then bought B within the window."
    )
    lift = fields.Float(
        aggregator="avg",
        digits=(16, 2),
        readonly=True,
        help="Confidence divided by the share of all customers who bought B: above 1, buying A "
        "makes buying B more likely.",
    )
    median_quantity = fields.Float(
        aggregator="avg",
        string="Typical Quantity",
        digits="Product Unit of Measure",
        help="Median quantity of the first purchase of B.",
    )
    median_quantity_ratio = fields.Float(
        aggregator="avg",
        string="Quantity Ratio",
        digits=(16, 2),
        help="Median of the quantity of the first purchase of B divided by that of A.",
    )
    median_delay = fields.Float(
        aggregator="avg",
        string="Typical Delay (Days)",
        digits=(16, 1),
        help="Median number of days between the first purchases of A and of B.",
    )
    origin = fields.Selection(
        [("mined", "Mined"), ("manual", "Manual")], required=True, default="manual", readonly=True, copy=False
    )
    locked = fields.Boolean(
        copy=False,
        help="Mining never changes or removes a locked rule. A mined rule gets locked when a user edits "
        "or archives it.",
    )
    last_mined = fields.Datetime(string="Last Mined On", readonly=True, copy=False)

    @api.depends("antecedent_product_id", "antecedent_categ_id", "consequent_product_id", "consequent_categ_id")
    def _compute_display_name(self):
        for rule in self:
            antecedent = rule.antecedent_product_id or rule.antecedent_categ_id
            consequent = rule.consequent_product_id or rule.consequent_categ_id
            rule.display_name = _(
                "%(antecedent)s → %(consequent)s",
                antecedent=antecedent.display_name or "?",
                consequent=consequent.display_name or "?",
            )

    def init(self):
        # One rule per pair, window and company, archived rules included: an archived
        # locked rule keeps mining from adding the pair again.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS customer_journey_cross_sell_rule_pair_unique
                ON customer_journey_cross_sell_rule (
                    company_id, level, COALESCE(antecedent_product_id, 0), COALESCE(antecedent_categ_id, 0),
                    COALESCE(consequent_product_id, 0), COALESCE(consequent_categ_id, 0), window_days)
            """
        )

    @api.constrains(
        "level", "antecedent_product_id", "antecedent_categ_id", "consequent_product_id", "consequent_categ_id"
    )
    def _check_items(self):
        for rule in self:
            if rule.level == "product":
                if not rule.antecedent_product_id or not rule.consequent_product_id:
                    raise ValidationError(
                        _("A product rule needs a Bought Product and a Then Product: fill in both.")
                    )
                if rule.antecedent_product_id == rule.consequent_product_id:
                    raise ValidationError(
                        _("Bought Product and Then Product are the same: choose another Then Product.")
                    )
                if rule.antecedent_categ_id or rule.consequent_categ_id:
                    raise ValidationError(
                        _("A product rule names no category: clear Bought Category and Then Category.")
                    )
            else:
                if not rule.antecedent_categ_id or not rule.consequent_categ_id:
                    raise ValidationError(
                        _("A category rule needs a Bought Category and a Then Category: fill in both.")
                    )
                if rule.antecedent_categ_id == rule.consequent_categ_id:
                    raise ValidationError(
                        _("Bought Category and Then Category are the same: choose another Then Category.")
                    )
                if rule.antecedent_product_id or rule.consequent_product_id:
                    raise ValidationError(
                        _("A category rule names no product: clear Bought Product and Then Product.")
                    )
                if rule.antecedent_categ_id.parent_path.startswith(rule.consequent_categ_id.parent_path):
                    raise ValidationError(
                        _(
                            "Bought Category %(bought)s lies within Then Category %(then)s: every buyer of the "
                            "first has bought from the second, so the rule would never suggest anything. Choose "
                            "another Then Category.",
                            bought=rule.antecedent_categ_id.display_name,
                            then=rule.consequent_categ_id.display_name,
                        )
                    )

    @api.constrains("window_days", "median_quantity", "median_quantity_ratio")
    def _check_numbers(self):
        for rule in self:
            if not 0 <= rule.window_days <= MAX_DAYS:
                raise ValidationError(
                    _(
                        "Invalid Window (Days): %(days)s. Enter a number of days from 0 to %(max)s.",
                        days=rule.window_days,
                        max=MAX_DAYS,
                    )
                )
            if rule.median_quantity < 0 or rule.median_quantity_ratio < 0:
                raise ValidationError(
                    _("Typical Quantity and Quantity Ratio cannot be negative: enter 0 or more.")
                )

    @api.onchange("level")
    def _onchange_level(self):
        if self.level == "product":
            self.antecedent_categ_id = self.consequent_categ_id = False
        else:
            self.antecedent_product_id = self.consequent_product_id = False

    def _get_same_rule_domain(self, vals):
        """Return the domain of the rules with the pair, window and company of ``vals`` over this rule's."""
        domain = []
        for name in RULE_KEY_FIELDS:
            if name in vals:
                value = vals[name]
            else:
                value = self[name].id if self._fields[name].type == "many2one" else self[name]
            domain.append((name, "=", value if value or self._fields[name].type != "many2one" else False))
        return domain

    def _check_same_rule(self, vals_list):
        """Raise a ValidationError naming the existing rule, archived ones included, that ``vals_list`` repeats."""
        for vals in vals_list:
            same = (
                self.with_context(active_test=False)
                .sudo()
                .search(self._get_same_rule_domain(vals) + [("id", "not in", self.ids)], limit=1)
            )
            if same:
                raise ValidationError(
                    _(
                        "A rule for %(rule)s with a window of %(days)s days exists already%(archived)s: "
                        "edit that rule, or choose another window.",
                        rule=same.display_name,
                        days=same.window_days,
                        archived=_(" (archived)") if not same.active else "",
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self.browse()._check_same_rule([self._add_missing_default_values(vals) for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        if set(RULE_KEY_FIELDS) & set(vals):
            for rule in self:
                rule._check_same_rule([vals])
        # A user's change to a mined rule is kept: lock the rule. Unarchiving is no such change.
        changed = set(vals) - self._get_fields_kept_unlocked()
        if changed and "locked" not in vals and vals != {"active": True}:
            if any(rule.origin == "mined" and not rule.locked for rule in self):
                vals = dict(vals, locked=True)
        return super().write(vals)

    @api.model
    def _get_fields_kept_unlocked(self):
        """Return the fields a user may change on a mined rule without locking it.

        Such fields configure how the rule's suggestions are followed up, not
        the rule itself, so mining goes on refreshing its numbers.
        """
        return set()

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def _get_prospect_partner_ids(self):
        """Return the ids of the customer companies who bought A and never B.

        A category stands for its products and those of its subcategories.
        Lines of no quantity or less are no purchase, as in mining.
        """
        self.ensure_one()
        if self.level == "product":
            item = SQL("sol.product_id")
            antecedents, consequents = self.antecedent_product_id.ids, self.consequent_product_id.ids
        else:
            item = SQL("pt.categ_id")
            Category = self.env["product.category"].sudo()
            antecedents = Category.search([("id", "child_of", self.antecedent_categ_id.id)]).ids
            consequents = Category.search([("id", "child_of", self.consequent_categ_id.id)]).ids
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT p.commercial_partner_id
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE so.state = 'sale' AND so.company_id = %(company)s AND sol.display_type IS NULL
                   AND sol.product_uom_qty > 0
                   AND %(item)s = ANY(%(items)s)
                   AND p.commercial_partner_id NOT IN %(own_partners)s
              GROUP BY p.commercial_partner_id
                HAVING COUNT(*) FILTER (WHERE %(item)s = ANY(%(consequents)s)) = 0
                """,
                item=item,
                items=antecedents + consequents,
                consequents=consequents,
                company=self.company_id.id,
                own_partners=SQL("(%s)", self.env["res.partner"]._journey_own_partner_query()),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def action_view_prospects(self):
        """Open the customers who bought A but not yet B.

        What a customer bought is sales data: only users who may read sale orders see the list.
        """
        self.ensure_one()
        self.env["sale.order"].check_access("read")
        partner_ids = self._get_prospect_partner_ids()
        return {
            "type": "ir.actions.act_window",
            "name": _("Not Yet Bought: %(rule)s", rule=self.display_name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", partner_ids)],
            "context": {"create": False},
        }

    def copy_data(self, default=None):
        # A copy of a rule needs another window: take the next one that no rule of the pair uses.
        vals_list = super().copy_data(default=default)
        for rule, vals in zip(self, vals_list):
            if default and "window_days" in default:
                continue
            window = rule.window_days
            while window < MAX_DAYS and self.with_context(active_test=False).sudo().search_count(
                rule._get_same_rule_domain(dict(vals, window_days=window)), limit=1
            ):
                window += 1
            vals["window_days"] = window
        return vals_list

    def action_lock(self):
        self.write({"locked": True})

    def action_unlock(self):
        """Hand the rules back to mining, archived ones included: the next run updates or removes them."""
        self.write({"locked": False, "active": True})

    # ------------------------------------------------------------
    # MINING
    # ------------------------------------------------------------

    @api.model
    def _get_threshold_message(self, field):
        """Return the message for an invalid threshold ``field`` (a Thresholds attribute): the setting and its fix."""
        messages = {
            "min_support": _("Invalid Minimum Support in the cross-sell settings: enter 1 or more customers."),
            "min_confidence": _(
                "Invalid Minimum Confidence in the cross-sell settings: enter a share from 0 to 1, "
                "for example 0.1 for one customer in ten."
            ),
            "min_lift": _("Invalid Minimum Lift in the cross-sell settings: enter 0 or more, for example 2."),
            "windows": _(
                "Invalid Windows (Days) in the cross-sell settings: enter 1 to %(count)s whole numbers of days "
                "from 0 to %(max)s, separated by commas, for example 14, 30, 90.",
                count=MAX_WINDOWS,
                max=MAX_DAYS,
            ),
            "horizon_days": _(
                "Invalid Cross-sell History (Days): enter a number of days from 1 to %(max)s.", max=MAX_DAYS
            ),
            "levels": _("Invalid Mine setting for cross-sell rules: choose products, categories or both."),
        }
        return messages[field]

    @api.model
    def _get_thresholds(self):
        """Return the validated Thresholds of the system parameters, defaults for those not set.

        :raise UserError: naming the invalid setting and its valid range
        """
        params = self.env["ir.config_parameter"].sudo()
        defaults = DEFAULT_THRESHOLDS
        field = None
        try:
            field = "min_support"
            min_support = int(params.get_param(PARAM_PREFIX + "min_support", defaults.min_support))
            field = "min_confidence"
            min_confidence = float(params.get_param(PARAM_PREFIX + "min_confidence", defaults.min_confidence))
            field = "min_lift"
            min_lift = float(params.get_param(PARAM_PREFIX + "min_lift", defaults.min_lift))
            field = "horizon_days"
            horizon_days = int(params.get_param(PARAM_PREFIX + "horizon_days", defaults.horizon_days))
            field = "windows"
            windows = parse_windows(params.get_param(PARAM_PREFIX + "windows", "30"))
            field = "levels"
            levels = LEVEL_SELECTION[params.get_param(PARAM_PREFIX + "levels", "both")]
            thresholds = Thresholds(min_support, min_confidence, min_lift, windows, horizon_days, levels)
            thresholds.validate()
        except ThresholdError as error:
            raise UserError(self._get_threshold_message(error.field)) from error
        except (ValueError, KeyError) as error:
            raise UserError(self._get_threshold_message(field)) from error
        return thresholds

    @api.model
    def _mine_rules(self, today=None, companies=None):
        """Mine the cross-sell rules of ``companies`` (every company by default) from their confirmed orders.

        The mined rules that no user locked are updated, added or removed.
        Locked and manual rules are left as they are, and mining adds no rule for
        their pair and window. Everything happens under a savepoint of the
        caller's transaction, so a failure leaves the previous rules in place.

        One run at a time: a transaction-level advisory lock keeps a second
        run out until the first one commits or rolls back.

        :return: dict of counts: customers, pairs, rules, created, updated, removed
        :raise UserError: when another run holds the lock
        """
        start = time.monotonic()
        thresholds = self._get_thresholds()
        today = today or fields.Date.context_today(self)
        since = today - timedelta(days=thresholds.horizon_days)
        _logger.info(
            "Cross-sell rules: mining orders since %s, windows %s, levels %s, minimum support %s, "
            "confidence %s, lift %s",
            since, thresholds.windows, thresholds.levels, thresholds.min_support,
            thresholds.min_confidence, thresholds.min_lift,
        )
        company_ids = (companies or self.env["res.company"].sudo().search([])).ids
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [MINING_LOCK])
        if not cr.fetchone()[0]:
            raise UserError(_("The cross-sell rules are being mined already: try again when that run is over."))
        with cr.savepoint(flush=False):
            firsts, counts = self._mining_first_purchases(since, thresholds, company_ids)
            _logger.info(
                "Cross-sell rules: %s customers, %s first purchases, %.1f s",
                counts["customers"], counts["items"], time.monotonic() - start,
            )
            measures = self._mining_pairs(firsts, counts.pop("totals"), thresholds)
            counts["pairs"] = len(measures)
            _logger.info(
                "Cross-sell rules: %s pairs pass the thresholds, %.1f s", counts["pairs"], time.monotonic() - start
            )
            counts.update(self._mining_replace_rules(company_ids, measures))
        self.invalidate_model()
        counts["seconds"] = time.monotonic() - start
        _logger.info(
            "Cross-sell rules: %(rules)s mined rules (%(created)s new, %(updated)s updated, %(removed)s removed), "
            "%(seconds).1f s",
            counts,
        )
        return counts

    def _mining_first_purchases(self, since, thresholds, company_ids):
        """Read the first purchases since ``since``, by company and level.

        :return: ({(company id, level): [(customer id, item id, day number, quantity)]},
            dict of counts: customers, items (first purchases), totals ({company id: customers}))
        """
        items = []
        if "product" in thresholds.levels:
            items.append(SQL("SELECT company_id, partner_id, 0 AS level, product_id AS item, day, quantity FROM lines"))
        if "category" in thresholds.levels:
            items.append(SQL("SELECT company_id, partner_id, 1 AS level, categ_id AS item, day, quantity FROM lines"))
        # Float8 quantities, integer levels and MIN() instead of DISTINCT ON: on the 388,364 lines of the
        # Online Retail file, this query took 1.7 s instead of 2.4 s with numeric, text and a sort.
        # A day whose lines cancel out is no purchase, though float8 leaves a remainder.
        zero = min_net_quantity(self.env)
        self.env.cr.execute(
            SQL(
                """
                WITH lines AS (
                    SELECT so.company_id, p.commercial_partner_id AS partner_id, sol.product_id, pt.categ_id,
                           so.date_order::date AS day,
                           (sol.product_uom_qty / line_uom.factor * product_uom.factor)::float8 AS quantity
                      FROM sale_order_line sol
                      JOIN sale_order so ON so.id = sol.order_id
                      JOIN res_partner p ON p.id = so.partner_id
                      JOIN product_product pp ON pp.id = sol.product_id
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                      JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                      JOIN uom_uom product_uom ON product_uom.id = pt.uom_id
                     WHERE so.state = 'sale' AND sol.display_type IS NULL AND pt.type = 'consu'
                       AND pp.active AND pt.active
                       AND so.company_id = ANY(%(company_ids)s)
                       AND p.commercial_partner_id NOT IN %(own_partners)s
                ),
                days AS (
                    SELECT company_id, partner_id, level, item, day, SUM(quantity) AS quantity
                      FROM (%(items)s) AS items
                  GROUP BY 1, 2, 3, 4, 5
                    HAVING SUM(quantity) > %(zero)s
                ),
                -- The smallest array is that of the first day: one hash aggregate instead of a sort.
                firsts AS (
                    SELECT company_id, level, partner_id, item,
                           MIN(ARRAY[day - %(since)s, quantity]) AS first_purchase
                      FROM days
                  GROUP BY 1, 2, 3, 4
                )
                -- First purchases over the whole history: an item bought before the horizon is no
                -- longer new to the customer. The horizon only keeps the recent first purchases.
                SELECT company_id, level, partner_id, item, first_purchase[1]::integer, first_purchase[2]
                  FROM firsts
                 WHERE first_purchase[1] >= 0
              ORDER BY company_id, level
                """,
                company_ids=company_ids,
                since=since,
                own_partners=SQL("(%s)", self.env["res.partner"]._journey_own_partner_query()),
                items=SQL(" UNION ALL ").join(items),
                zero=zero,
            )
        )
        rows = self.env.cr.fetchall()
        # The levels 0 and 1 of the query are the positions of "product" and "category" in LEVELS.
        firsts = {
            (company_id, LEVELS[level]): list(map(itemgetter(2, 3, 4, 5), group))
            for (company_id, level), group in groupby(rows, itemgetter(0, 1))
        }
        totals = {
            company_id: len(set(map(itemgetter(2), group))) for company_id, group in groupby(rows, itemgetter(0))
        }
        return firsts, {"customers": sum(totals.values()), "items": len(rows), "totals": totals}

    def _mining_pairs(self, firsts, totals, thresholds):
        """Measure the pairs of each company and level, and keep those that pass the thresholds.

        :param firsts: the first purchases of ``_mining_first_purchases``
        :param totals: {company id: customers}, the customers that the lift compares with
        :return: list of (company id, level, PairMeasures)
        """
        measures = []
        for (company_id, level), rows in firsts.items():
            measures.extend(
                (company_id, level, pair) for pair in pair_measures(rows, thresholds, population=totals[company_id])
            )
        # A category within the other's category gives no usable rule: every buyer of the first has
        # bought from the second, counting subcategories, as the suggestions and the form's check do.
        categ_ids = set()
        for _company_id, level, pair in measures:
            if level == "category":
                categ_ids.update((pair.antecedent, pair.consequent))
        if categ_ids:
            self.env.cr.execute("SELECT id, parent_path FROM product_category WHERE id = ANY(%s)", [list(categ_ids)])
            paths = dict(self.env.cr.fetchall())
            measures = [
                (company_id, level, pair)
                for company_id, level, pair in measures
                if level != "category" or not paths[pair.antecedent].startswith(paths[pair.consequent])
            ]
        return measures

    def _mining_replace_rules(self, company_ids, measures):
        """Write the measured pairs into the rules: update, add, and remove the mined rules that no user locked.

        :param measures: list of (company id, level, PairMeasures)
        :return: dict of counts: rules, created, updated, removed
        """
        cr = self.env.cr
        now = fields.Datetime.now()
        rows = [
            (
                company_id, level, pair.antecedent, pair.consequent, pair.window, pair.support,
                pair.antecedent_customers, pair.confidence, pair.lift, pair.median_quantity,
                pair.median_quantity_ratio, pair.median_delay,
            )
            for company_id, level, pair in measures
        ]
        # One array per column, which unnest() turns back into rows.
        columns = [list(column) for column in zip(*rows)] or [[] for _column in range(12)]
        cr.execute("DROP TABLE IF EXISTS journey_mining_rule")
        cr.execute(
            """
            CREATE TEMP TABLE journey_mining_rule ON COMMIT DROP AS
            SELECT m.company_id, m.level,
                   CASE WHEN m.level = 'product' THEN m.antecedent END AS antecedent_product_id,
                   CASE WHEN m.level = 'category' THEN m.antecedent END AS antecedent_categ_id,
                   CASE WHEN m.level = 'product' THEN m.consequent END AS consequent_product_id,
                   CASE WHEN m.level = 'category' THEN m.consequent END AS consequent_categ_id,
                   m.window_days, m.support, m.antecedent_customers, m.confidence, m.lift,
                   m.median_quantity, m.median_quantity_ratio, m.median_delay
              FROM unnest(%s::int[], %s::varchar[], %s::int[], %s::int[], %s::int[], %s::int[], %s::int[],
                          %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])
                   AS m(company_id, level, antecedent, consequent, window_days, support, antecedent_customers,
                        confidence, lift, median_quantity, median_quantity_ratio, median_delay)
            """,
            columns,
        )
        cr.execute("ANALYZE journey_mining_rule")
        # Equalities of COALESCE instead of IS NOT DISTINCT FROM, so that PostgreSQL can hash the join:
        # updating 4,637 rules took 8 s in a nested loop.
        same_rule = """
                k.company_id = m.company_id AND k.level = m.level
            AND COALESCE(k.antecedent_product_id, 0) = COALESCE(m.antecedent_product_id, 0)
            AND COALESCE(k.antecedent_categ_id, 0) = COALESCE(m.antecedent_categ_id, 0)
            AND COALESCE(k.consequent_product_id, 0) = COALESCE(m.consequent_product_id, 0)
            AND COALESCE(k.consequent_categ_id, 0) = COALESCE(m.consequent_categ_id, 0)
            AND k.window_days = m.window_days
        """
        cr.execute(
            SQL(
                f"""
                UPDATE customer_journey_cross_sell_rule k
                   SET support = m.support, antecedent_customers = m.antecedent_customers,
                       confidence = m.confidence, lift = m.lift, median_quantity = m.median_quantity,
                       median_quantity_ratio = m.median_quantity_ratio, median_delay = m.median_delay,
                       last_mined = %(now)s, write_uid = %(uid)s, write_date = %(now)s
                  FROM journey_mining_rule m
                 WHERE k.origin = 'mined' AND NOT k.locked AND {same_rule}
                """,
                now=now,
                uid=self.env.uid,
            )
        )
        updated = cr.rowcount
        # The open suggestions of a rule that goes no longer have a reason: they expire with it.
        cr.execute(
            SQL(
                f"""
                UPDATE customer_journey_suggestion s
                   SET state = 'expired', date_closed = %(today)s, write_uid = %(uid)s, write_date = %(now)s
                  FROM customer_journey_cross_sell_rule k
                 WHERE s.rule_id = k.id AND s.state IN ('new', 'planned', 'sent', 'accepted')
                   AND k.origin = 'mined' AND NOT k.locked AND k.company_id = ANY(%(company_ids)s)
                   AND NOT EXISTS (SELECT FROM journey_mining_rule m WHERE {same_rule})
                """,
                today=now.date(),
                now=now,
                uid=self.env.uid,
                company_ids=company_ids,
            )
        )
        cr.execute(
            SQL(
                f"""
                DELETE FROM customer_journey_cross_sell_rule k
                 WHERE k.origin = 'mined' AND NOT k.locked AND k.company_id = ANY(%(company_ids)s)
                   AND NOT EXISTS (SELECT FROM journey_mining_rule m WHERE {same_rule})
                """,
                company_ids=company_ids,
            )
        )
        removed = cr.rowcount
        cr.execute(
            SQL(
                f"""
                INSERT INTO customer_journey_cross_sell_rule
                       (active, company_id, level, antecedent_product_id, antecedent_categ_id,
                        consequent_product_id, consequent_categ_id, window_days, support, antecedent_customers,
                        confidence, lift, median_quantity, median_quantity_ratio, median_delay, origin, locked,
                        last_mined, create_uid, create_date, write_uid, write_date)
                SELECT TRUE, m.company_id, m.level, m.antecedent_product_id, m.antecedent_categ_id,
                       m.consequent_product_id, m.consequent_categ_id, m.window_days, m.support,
                       m.antecedent_customers, m.confidence, m.lift, m.median_quantity, m.median_quantity_ratio,
                       m.median_delay, 'mined', FALSE, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM journey_mining_rule m
                 WHERE NOT EXISTS (SELECT FROM customer_journey_cross_sell_rule k WHERE {same_rule})
                """,
                now=now,
                uid=self.env.uid,
            )
        )
        created = cr.rowcount
        cr.execute("DROP TABLE journey_mining_rule")
        # A pair that a manual or locked rule holds gets no mined rule: it is not counted.
        return {"rules": created + updated, "created": created, "updated": updated, "removed": removed}

    @api.model
    def _cron_mine_rules(self):
        """Nightly: mine the cross-sell rules, committed in one transaction."""
        _logger.info("Cross-sell rules: start")
        try:
            counts = self._mine_rules()
        except UserError as error:
            _logger.error("Cross-sell rules: not mined, the previous rules stay: %s", error)
            return None
        self.env["ir.cron"]._notify_progress(done=1, remaining=0)
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()
        _logger.info("Cross-sell rules: end")
        return counts

    # No @api.model: a list header button passes the selected ids, none or some, which the run ignores.
    def action_mine_rules(self):
        """Mine the rules now, from the list's Mine Now button."""
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_manager"):
            raise AccessError(_("Only Customer Journey managers may mine the cross-sell rules."))
        counts = self.sudo()._mine_rules(companies=self.env.companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(rules)s cross-sell rules mined: %(created)s new, %(updated)s updated, %(removed)s removed.",
                    **{key: counts[key] for key in ("rules", "created", "updated", "removed")},
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------
    # CONVERSION
    # ------------------------------------------------------------

    suggestion_count = fields.Integer(string="Suggestions", compute="_compute_conversion")
    converted_count = fields.Integer(
        string="Converted", compute="_compute_conversion", help="Suggestions of this rule that an order converted."
    )
    conversion_rate = fields.Float(
        string="Conversion Rate",
        compute="_compute_conversion",
        digits=(16, 4),
        help="Share of this rule's suggestions, open ones included, that a confirmed order converted.",
    )

    def _compute_conversion(self):
        counts, converted = {}, {}
        for rule, state, count in self.env["customer.journey.suggestion"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id", "state"], ["__count"]
        ):
            counts[rule] = counts.get(rule, 0) + count
            if state == "converted":
                converted[rule] = count
        for rule in self:
            rule.suggestion_count = counts.get(rule, 0)
            rule.converted_count = converted.get(rule, 0)
            rule.conversion_rate = rule.converted_count / rule.suggestion_count if rule.suggestion_count else 0.0

    def action_view_suggestions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wholesale_customer_journey.action_customer_journey_suggestion"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
