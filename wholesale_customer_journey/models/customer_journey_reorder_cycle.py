# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import math
import threading
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..analysis.cross_sell import MAX_DAYS
from ..analysis.reorder import DEFAULT_MAX_SPREAD, MIN_PURCHASE_DAYS
from ..tools.quantities import min_net_quantity

_logger = logging.getLogger(__name__)

# Confirmed orders of the last two years count, because older habits predict the next order poorly.
DEFAULT_HORIZON_DAYS = 730


class CustomerJourneyReorderCycle(models.Model):
    """How often a customer company orders a product again, mined from its confirmed orders.

    One row per company, customer and product bought on at least three
    separate days within the horizon. The same measures as
    ``analysis.reorder.reorder_cycle``, computed in SQL by
    ``_refresh_cycles``, which replaces all rows in one transaction.
    """

    _name = "customer.journey.reorder.cycle"
    _description = "Customer Re-order Cycle"
    _order = "next_date, partner_id, product_id"
    _rec_name = "product_id"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, ondelete="cascade")
    product_id = fields.Many2one("product.product", string="Product", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    purchase_days = fields.Integer(string="Purchase Days", help="Separate days on which the customer ordered it.")
    median_interval = fields.Float(
        string="Interval (Days)", digits=(16, 1), help="Median number of days between two of those days."
    )
    spread = fields.Float(
        digits=(16, 2),
        help="Median absolute deviation of the intervals divided by their median: 0 for a "
        "customer who orders like clockwork, 1 when the intervals typically differ from the "
        "median by the median itself.",
    )
    typical_quantity = fields.Float(
        string="Typical Quantity", digits="Product Unit of Measure", help="Median quantity per purchase day."
    )
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    last_date = fields.Date(string="Last Ordered")
    next_date = fields.Date(
        string="Next Order Expected",
        index=True,
        help="Last order plus the interval. Empty for an irregular cycle: a guess would be "
        "wrong as often as right.",
    )
    regular = fields.Boolean(help="The spread is at most the maximum spread, so the next order date is expected.")
    overdue = fields.Boolean(compute="_compute_overdue", search="_search_overdue")

    _sql_constraints = [
        (
            "company_partner_product_unique",
            "unique(company_id, partner_id, product_id)",
            "A customer has one re-order cycle per product and company.",
        ),
    ]

    @api.depends("next_date")
    def _compute_overdue(self):
        today = fields.Date.context_today(self)
        for cycle in self:
            cycle.overdue = bool(cycle.next_date) and cycle.next_date < today

    def _search_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        overdue = [("next_date", "<", fields.Date.context_today(self))]
        if (operator == "=") == value:
            return overdue
        return ["|", ("next_date", "=", False), ("next_date", ">=", fields.Date.context_today(self))]

    # ------------------------------------------------------------
    # REFRESH
    # ------------------------------------------------------------

    @api.model
    def _get_settings(self):
        """Return (horizon in days, maximum spread) from the system parameters, with defaults."""
        params = self.env["ir.config_parameter"].sudo()
        horizon_text = params.get_param("wholesale_customer_journey.reorder_horizon_days", DEFAULT_HORIZON_DAYS)
        spread_text = params.get_param("wholesale_customer_journey.reorder_max_spread", DEFAULT_MAX_SPREAD)
        try:
            horizon = int(horizon_text)
            max_spread = float(spread_text)
        except ValueError:
            horizon = max_spread = None
        if horizon is None or not 1 <= horizon <= MAX_DAYS or not 0 <= max_spread < math.inf:
            _logger.warning(
                "Re-order cycles: invalid system parameters wholesale_customer_journey.reorder_horizon_days %r "
                "(a whole number of days from 1 to %s) or wholesale_customer_journey.reorder_max_spread %r "
                "(a number of 0 or more): the defaults %s and %s are used. Fix them in the Settings.",
                horizon_text, MAX_DAYS, spread_text, DEFAULT_HORIZON_DAYS, DEFAULT_MAX_SPREAD,
            )
            return DEFAULT_HORIZON_DAYS, DEFAULT_MAX_SPREAD
        return horizon, max_spread

    @api.model
    def _refresh_cycles(self, today=None):
        """Replace every re-order cycle by the cycles of the confirmed orders within the horizon.

        One DELETE and one INSERT ... SELECT in the caller's transaction: a
        failure leaves the previous cycles in place. Lines without product
        (sections, notes), services and combos are left out. A purchase day is the
        order date in UTC, and quantities are in the product's unit of measure,
        returns of the day deducted.

        :return: number of cycles
        """
        start = time.monotonic()
        today = today or fields.Date.context_today(self)
        horizon, max_spread = self._get_settings()
        since = today - timedelta(days=horizon)
        # A day of returns only, or whose lines cancel out, is no purchase day.
        zero = min_net_quantity(self.env)
        self.env.flush_all()
        self.env.cr.execute("DELETE FROM customer_journey_reorder_cycle")
        self.env.cr.execute(
            SQL(
                """
                WITH days AS (
                    SELECT so.company_id, p.commercial_partner_id AS partner_id, sol.product_id,
                           so.date_order::date AS day,
                           SUM(sol.product_uom_qty / line_uom.factor * product_uom.factor) AS quantity
                      FROM sale_order_line sol
                      JOIN sale_order so ON so.id = sol.order_id
                      JOIN res_partner p ON p.id = so.partner_id
                      JOIN product_product pp ON pp.id = sol.product_id
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                      JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                      JOIN uom_uom product_uom ON product_uom.id = pt.uom_id
                     WHERE so.state = 'sale' AND sol.display_type IS NULL
                       AND pt.type = 'consu'
                       AND so.date_order >= %(since)s
                       AND p.commercial_partner_id NOT IN %(own_partners)s
                  GROUP BY 1, 2, 3, 4
                    HAVING SUM(sol.product_uom_qty / line_uom.factor * product_uom.factor) > %(zero)s
                ),
                gaps AS (
                    SELECT company_id, partner_id, product_id, day, quantity,
                           day - LAG(day) OVER (PARTITION BY company_id, partner_id, product_id ORDER BY day) AS gap
                      FROM days
                ),
                medians AS (
                    SELECT company_id, partner_id, product_id, COUNT(*) AS purchase_days, MAX(day) AS last_date,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median_interval,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY quantity) AS typical_quantity
                      FROM gaps
                  GROUP BY 1, 2, 3
                    HAVING COUNT(*) >= %(min_days)s
                ),
                spreads AS (
                    SELECT g.company_id, g.partner_id, g.product_id,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY ABS(g.gap - m.median_interval))
                               / m.median_interval AS spread
                      FROM gaps g
                      JOIN medians m USING (company_id, partner_id, product_id)
                     WHERE g.gap IS NOT NULL
                  GROUP BY g.company_id, g.partner_id, g.product_id, m.median_interval
                )
                INSERT INTO customer_journey_reorder_cycle
                       (company_id, partner_id, product_id, purchase_days, median_interval, spread,
                        typical_quantity, last_date, next_date, regular,
                        create_uid, create_date, write_uid, write_date)
                SELECT m.company_id, m.partner_id, m.product_id, m.purchase_days, m.median_interval, s.spread,
                       m.typical_quantity, m.last_date,
                       CASE WHEN s.spread <= %(max_spread)s
                            THEN m.last_date + ROUND(m.median_interval)::integer END,
                       s.spread <= %(max_spread)s,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM medians m
                  JOIN spreads s USING (company_id, partner_id, product_id)
                """,
                since=since,
                own_partners=SQL("(%s)", self.env["res.partner"]._journey_own_partner_query()),
                min_days=MIN_PURCHASE_DAYS,
                max_spread=max_spread,
                zero=zero,
                uid=self.env.uid,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model()
        _logger.info(
            "Re-order cycles: %s cycles from confirmed orders since %s (maximum spread %s), %.1f s",
            count, since, max_spread, time.monotonic() - start,
        )
        return count

    @api.model
    def _cron_refresh_cycles(self):
        """Nightly: replace the re-order cycles, committed in one transaction."""
        _logger.info("Re-order cycles: start")
        count = self._refresh_cycles()
        self.env["ir.cron"]._notify_progress(done=1, remaining=0)
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()
        _logger.info("Re-order cycles: end, %s cycles", count)
        return count

    # No @api.model: a list header button passes the selected ids, none or some, which the run ignores.
    def action_refresh_cycles(self):
        """Refresh the cycles now, from the list's Refresh button."""
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_manager"):
            raise AccessError(_("Only Customer Journey managers may refresh the re-order cycles."))
        count = self.sudo()._refresh_cycles()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%(count)s re-order cycles found.", count=count),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
