# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL


class CustomerJourneyFunnelReport(models.Model):
    """Customer Journey Analysis: one row per stay of a customer in a stage.

    The rows come from the stage history. A customer set back by hand can
    stay in a stage twice; the measures count it once, in the latest stay,
    while the days in stage count every stay. Grouped by stage, they give the
    funnel: how many customers reached each stage, how many of their leads
    are there now, how many customers moved on to a later stage (the
    conversion rate), how long they stayed (average and median) and how
    many dropped off there with a lost opportunity. The campaign, source
    and medium are those of the customer's first lead that has any
    (first-touch attribution). The sales team is the main team of the
    customer's salesperson.
    """

    _name = "customer.journey.funnel.report"
    _inherit = ["customer.journey.report.mixin"]
    _description = "Customer Journey Analysis"
    _auto = False
    _rec_name = "partner_id"
    _ratio_measures = {"conversion_rate": ("moved_on_count", "conversion_base")}
    _order = "date desc, id desc"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    stage_id = fields.Many2one("customer.journey.stage", string="Stage", readonly=True)
    stage_sequence = fields.Integer(string="Stage Sequence", readonly=True, aggregator=False)
    date = fields.Datetime(string="Entered", readonly=True)
    date_end = fields.Datetime(string="Left", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", string="Campaign", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    medium_id = fields.Many2one("utm.medium", string="Medium", readonly=True)
    lost_reason_id = fields.Many2one("crm.lost.reason", string="Lost Reason", readonly=True)
    segment_ids = fields.Many2many(
        "customer.journey.segment",
        "customer_journey_funnel_report_segment_rel",
        "report_id",
        "segment_id",
        string="Segments",
        readonly=True,
        help="Segments the customer belonged to at their latest refresh (a sync to the "
        "mailing list or the nightly scheduled action).",
    )
    customer_count = fields.Integer(
        string="Customers",
        readonly=True,
        aggregator="sum",
        help="Customers who entered the stage. A customer set back by hand who entered it "
        "again counts once, with its latest stay.",
    )
    moved_on_count = fields.Integer(
        string="Moved On",
        readonly=True,
        aggregator="sum",
        help="Customers who went on from this stage to a later one.",
    )
    conversion_base = fields.Integer(
        string="Customers Who Can Move On",
        readonly=True,
        aggregator="sum",
        help="Customers of the stage, except in the last stage, which has no later one.",
    )
    conversion_rate = fields.Float(
        string="Conversion Rate (%)",
        readonly=True,
        aggregator="ratio",
        digits=(16, 1),
        help="Moved On per 100 customers who entered the stage, computed from the totals of "
        "the group. Customers in the last stage, which has no later one, do not count. Empty "
        "for the last stage.",
    )
    lead_count = fields.Integer(
        string="Leads",
        readonly=True,
        aggregator="sum",
        help="Leads and opportunities, lost ones excepted, whose customer is in this stage "
        "after the lead's latest event, of the row's company (a lead without company counts "
        "in its customer's company). Each lead counts once, in the customer's latest stay in "
        "that stage. Leads without a customer are not counted.",
    )
    dropoff_count = fields.Integer(
        string="Dropped Off",
        readonly=True,
        aggregator="sum",
        help="Customers still in this stage whose opportunity was lost here.",
    )
    days_avg = fields.Float(
        string="Days in Stage (Average)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Days spent in the stage by the customers who left it.",
    )
    days_median = fields.Float(
        string="Days in Stage (Median)",
        readonly=True,
        aggregator="median",
        digits=(16, 1),
        help="Median of the days spent in the stage by the customers who left it.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
        # Odoo creates no relation table for a model without a table of its
        # own, so this view is the relation. The segments of a row are those
        # stored for its customer, and a customer in two segments gives its
        # rows to both groups.
        segments = self._fields["segment_ids"]
        tools.drop_view_if_exists(self.env.cr, segments.relation)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT h.id AS %s, m.segment_id AS %s
                      FROM customer_journey_history h
                      JOIN customer_journey_segment_member m ON m.partner_id = h.partner_id
                )
                """,
                SQL.identifier(segments.relation),
                SQL.identifier(segments.column1),
                SQL.identifier(segments.column2),
            )
        )

    def _query(self):
        return SQL(
            """
            WITH last_stage AS (
                SELECT MAX(sequence) AS sequence FROM customer_journey_stage WHERE active
            ),
            first_touch AS (
                SELECT DISTINCT ON (p.commercial_partner_id)
                       p.commercial_partner_id AS partner_id,
                       l.campaign_id, l.source_id, l.medium_id
                  FROM crm_lead l
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE COALESCE(l.campaign_id, l.source_id, l.medium_id) IS NOT NULL
              ORDER BY p.commercial_partner_id, l.create_date, l.id
            ),
            dropoff AS (
                SELECT DISTINCT ON (p.commercial_partner_id, l.journey_dropoff_stage_id)
                       p.commercial_partner_id AS partner_id,
                       l.journey_dropoff_stage_id AS stage_id, l.lost_reason_id
                  FROM crm_lead l
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE l.journey_dropoff_stage_id IS NOT NULL
                   AND NOT l.active
              ORDER BY p.commercial_partner_id, l.journey_dropoff_stage_id,
                       l.date_closed DESC NULLS LAST, l.id DESC
            ),
            lead_stage AS (
                SELECT p.commercial_partner_id AS partner_id,
                       l.journey_stage_snapshot_id AS stage_id,
                       COALESCE(l.company_id, c.company_id) AS company_id, COUNT(*) AS lead_count
                  FROM crm_lead l
                  JOIN res_partner p ON p.id = l.partner_id
                  JOIN res_partner c ON c.id = p.commercial_partner_id
                 WHERE l.journey_stage_snapshot_id IS NOT NULL
                   AND l.active
              GROUP BY p.commercial_partner_id, l.journey_stage_snapshot_id,
                       COALESCE(l.company_id, c.company_id)
            )
            SELECT s.id, s.partner_id, s.stage_id, stage.sequence AS stage_sequence,
                   s.date_start AS date, s.date_end,
                   COALESCE(s.company_id, p.company_id) AS company_id,
                   p.user_id, u.sale_team_id AS team_id,
                   ft.campaign_id, ft.source_id, ft.medium_id,
                   CASE WHEN s.moved_on THEN NULL ELSE d.lost_reason_id END AS lost_reason_id,
                   CASE WHEN COALESCE(s.reentered, FALSE) THEN 0 ELSE 1 END AS customer_count,
                   CASE WHEN s.moved_on AND NOT COALESCE(s.reentered, FALSE) THEN 1 ELSE 0 END AS moved_on_count,
                   CASE WHEN COALESCE(s.reentered, FALSE) OR stage.sequence >= last_stage.sequence THEN 0
                        ELSE 1 END AS conversion_base,
                   CASE WHEN stage.sequence >= last_stage.sequence THEN NULL
                        WHEN s.moved_on THEN 100.0 ELSE 0.0 END AS conversion_rate,
                   COALESCE(lst.lead_count, 0) AS lead_count,
                   CASE WHEN d.stage_id IS NOT NULL AND NOT s.moved_on AND NOT COALESCE(s.reentered, FALSE)
                        THEN 1 ELSE 0 END AS dropoff_count,
                   CASE WHEN s.date_end IS NOT NULL THEN s.stay_days END AS days_avg,
                   CASE WHEN s.date_end IS NOT NULL THEN s.stay_days END AS days_median
              FROM customer_journey_history s
              JOIN customer_journey_stage stage ON stage.id = s.stage_id
             CROSS JOIN last_stage
              JOIN res_partner p ON p.id = s.partner_id
              LEFT JOIN res_users u ON u.id = p.user_id
              LEFT JOIN first_touch ft ON ft.partner_id = s.partner_id
              LEFT JOIN dropoff d ON d.partner_id = s.partner_id AND d.stage_id = s.stage_id
              -- A customer set back by hand can enter a stage twice: it and its
              -- leads count in the latest stay only. A row counts the leads of
              -- its own company only.
              LEFT JOIN lead_stage lst
                ON lst.partner_id = s.partner_id AND lst.stage_id = s.stage_id
               AND lst.company_id = COALESCE(s.company_id, p.company_id)
               AND NOT COALESCE(s.reentered, FALSE)
            """
        )
