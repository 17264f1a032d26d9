# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL

from .customer_journey_rule import JOURNEY_EVENTS

HISTORY_EVENTS = JOURNEY_EVENTS + [
    ("manual", "Set by hand"),
]


class CustomerJourneyHistory(models.Model):
    """Period a customer company spent in one journey stage.

    Rows are written only by ``res.partner._journey_set_stage`` and by the
    set-based replay of ``res.partner._journey_replay_history``.
    """

    _name = "customer.journey.history"
    _description = "Customer Journey Stage History"
    _order = "date_start desc, id desc"
    _rec_name = "stage_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
    )
    stage_id = fields.Many2one(
        "customer.journey.stage", string="Stage", required=True, ondelete="cascade"
    )
    previous_stage_id = fields.Many2one(
        "customer.journey.stage", string="Previous Stage", ondelete="set null"
    )
    date_start = fields.Datetime(string="Entered", required=True, index=True)
    date_end = fields.Datetime(string="Left", index=True)
    duration_days = fields.Float(
        string="Days in Stage",
        compute="_compute_duration_days",
        search="_search_duration_days",
        digits=(16, 1),
        help="Days between entering and leaving the stage, or until now for the "
        "current stage.",
    )
    stay_days = fields.Float(
        string="Days Spent",
        compute="_compute_stay_days",
        store=True,
        aggregator="avg",
        digits=(16, 1),
        help="Days between entering and leaving the stage, 0 while the customer is "
        "still in it. Filter on completed stays to average it per stage.",
    )
    is_current = fields.Boolean(
        string="Current", compute="_compute_is_current", search="_search_is_current"
    )
    event_code = fields.Selection(HISTORY_EVENTS, string="Event", required=True)
    res_model = fields.Char(string="Source Model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Source Record ID", model_field="res_model", readonly=True
    )
    source_ref = fields.Reference(
        selection="_selection_source_ref",
        string="Caused By",
        compute="_compute_source_ref",
    )
    moved_on = fields.Boolean(
        string="Moved On",
        default=False,
        readonly=True,
        copy=False,
        help="The customer went on from this stage to a later one.",
    )
    reentered = fields.Boolean(
        string="Entered Again Later",
        default=False,
        readonly=True,
        copy=False,
        help="The customer came back to this stage later, after being set back by hand: the "
        "Customer Journey Analysis counts the customer in the latest stay only.",
    )
    reason = fields.Text()
    user_id = fields.Many2one("res.users", string="User", default=lambda self: self.env.user)
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        index=True,
        readonly=True,
        help="The company of the lead or order that caused the change; for other "
        "changes, the customer's company, or the company of the user who set the stage.",
    )

    def init(self):
        # The stage replay looks up each customer's latest manual change.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS customer_journey_history_manual_idx
                ON customer_journey_history (partner_id, date_start)
             WHERE event_code = 'manual'
            """
        )
        # Rows written before the field existed: a row moved on when the
        # customer's next row is a later stage.
        self.env.cr.execute(
            """
            UPDATE customer_journey_history h
               SET moved_on = step.moved_on
              FROM (SELECT h2.id,
                           COALESCE(LEAD(stage.sequence) OVER (
                               PARTITION BY h2.partner_id ORDER BY h2.date_start, h2.id
                           ) > stage.sequence, FALSE) AS moved_on
                      FROM customer_journey_history h2
                      JOIN customer_journey_stage stage ON stage.id = h2.stage_id) step
             WHERE h.id = step.id AND h.moved_on IS DISTINCT FROM step.moved_on
            """
        )
        # Rows inserted in SQL before the field existed have no value.
        self.env.cr.execute("UPDATE customer_journey_history SET reentered = FALSE WHERE reentered IS NULL")
        self._mark_reentered()

    @api.model
    def _mark_reentered(self, partner_ids=None):
        """Flag the stays that the same customer's later stay in the same stage follows, in SQL.

        Only a manual change moves a customer back, so only customers with a
        manual row can enter a stage twice: the partial index on those rows
        keeps this cheap.

        :param partner_ids: the customers to check, all of them when None
        """
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_history h
                   SET reentered = TRUE
                 WHERE NOT COALESCE(h.reentered, FALSE)%s
                   AND h.partner_id IN (SELECT manual.partner_id
                                          FROM customer_journey_history manual
                                         WHERE manual.event_code = 'manual')
                   AND EXISTS (SELECT 1
                                 FROM customer_journey_history later
                                WHERE later.partner_id = h.partner_id
                                  AND later.stage_id = h.stage_id
                                  AND (later.date_start, later.id) > (h.date_start, h.id))
                """,
                SQL(" AND h.partner_id IN %s", tuple(partner_ids)) if partner_ids else SQL(),
            )
        )
        if self.env.cr.rowcount:
            self.invalidate_model(["reentered"])

    @api.model
    def _selection_source_ref(self):
        return [
            (model.model, model.name)
            for model in self.env["ir.model"].sudo().search(
                [("model", "in", ["res.partner", "crm.lead", "sale.order", "account.move"])]
            )
        ]

    @api.depends("res_model", "res_id")
    def _compute_source_ref(self):
        for row in self:
            if row.res_model in self.env and row.res_id:
                row.source_ref = f"{row.res_model},{row.res_id}"
            else:
                row.source_ref = False

    @api.depends("date_start", "date_end")
    def _compute_stay_days(self):
        for row in self:
            if row.date_start and row.date_end:
                row.stay_days = (row.date_end - row.date_start).total_seconds() / 86400
            else:
                row.stay_days = 0.0

    @api.depends("date_start", "date_end")
    def _compute_duration_days(self):
        now = fields.Datetime.now()
        for row in self:
            end = row.date_end or now
            row.duration_days = (end - row.date_start).total_seconds() / 86400 if row.date_start else 0.0

    def _search_duration_days(self, operator, value):
        if operator not in (">", ">=", "<", "<="):
            return NotImplemented
        # duration > N  <=>  COALESCE(date_end, now) - date_start > N days
        return [
            (
                "id",
                "in",
                SQL(
                    """(SELECT id FROM customer_journey_history
                         WHERE EXTRACT(EPOCH FROM COALESCE(date_end, NOW() AT TIME ZONE 'UTC')
                                                  - date_start) / 86400.0 %s %s)""",
                    SQL(operator),
                    float(value),
                ),
            )
        ]

    @api.depends("date_end")
    def _compute_is_current(self):
        for row in self:
            row.is_current = not row.date_end

    def _search_is_current(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        current = (operator == "=") == bool(value)
        return [("date_end", "=" if current else "!=", False)]
