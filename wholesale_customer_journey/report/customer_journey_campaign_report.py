# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools
from odoo.tools import SQL

# Trace statuses of a mail that left Odoo. Bounced mails were sent too:
# they count as recipients and separately as bounced. Canceled (blacklisted,
# opted out, duplicate), failed, queued and held-back traces never reached
# anyone.
SENT_TRACE_STATUSES = ("pending", "sent", "open", "reply", "bounce")

# Rate measures as (numerator, denominator) fields, aggregated as the ratio
# of the group's sums (see customer.journey.report.mixin).
RATE_MEASURES = {
    "response_rate": ("response_count", "recipient_count"),
    "open_rate": ("open_count", "recipient_count"),
    "lead_rate": ("lead_count", "response_count"),
    "win_rate": ("won_count", "lead_count"),
}


class CustomerJourneyCampaignReport(models.Model):
    """Campaign Results: what each UTM campaign's mailings and leads achieved.

    A row is one of three kinds of facts of a campaign, so that the list
    view drills down to the mailing, lead or order behind a number:

    - a mailing of the campaign with the counts of its traces (recipients,
      opened, responded, bounced);
    - a lead or opportunity of the campaign (archived ones too: in Odoo 18
      archiving a lead marks it lost), counted as lead, opportunity and won;
    - a confirmed sales order of such a lead, with its untaxed amount in the
      currency of the order's company.

    Grouped by campaign and company they give the campaign results. The
    date of a row is the sent date of its mailing. A lead gets the date of
    the mailing it came from (same campaign and UTM source, the link that
    mass_mailing_crm uses), so a period's lead rate compares the leads and
    responses of the same mailings. A lead that came from no mailing (a
    trade fair) is dated when it was created, and an order has the date of
    its lead. The company of a mailing is the main company of
    its responsible user, the one whose layout Odoo uses to send it.
    """

    _name = "customer.journey.campaign.report"
    _inherit = ["customer.journey.report.mixin"]
    _description = "Campaign Results"
    _auto = False
    _rec_name = "campaign_id"
    _ratio_measures = RATE_MEASURES
    _order = "date desc, id desc"

    row_type = fields.Selection(
        [("mailing", "Mailing"), ("lead", "Lead"), ("order", "Sales Order")],
        string="Row Type",
        readonly=True,
    )
    campaign_id = fields.Many2one("utm.campaign", string="Campaign", readonly=True)
    mailing_id = fields.Many2one("mailing.mailing", string="Mailing", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True)
    order_id = fields.Many2one("sale.order", string="Sales Order", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    medium_id = fields.Many2one("utm.medium", string="Medium", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    date = fields.Datetime(
        string="Date",
        readonly=True,
        help="Sent date of the mailing (its scheduled or creation date while it is "
        "still sending). A lead or order that came from no mailing has the date "
        "the lead was created.",
    )
    recipient_count = fields.Integer(
        string="Recipients",
        readonly=True,
        aggregator="sum",
        help="Mails of the campaign's mailings that were sent, bounced ones included. "
        "Canceled, failed and still queued mails do not count.",
    )
    open_count = fields.Integer(string="Opened", readonly=True, aggregator="sum")
    response_count = fields.Integer(
        string="Responses",
        readonly=True,
        aggregator="sum",
        help="Recipients who clicked a link in the mail or replied to it.",
    )
    bounce_count = fields.Integer(string="Bounced", readonly=True, aggregator="sum")
    lead_count = fields.Integer(
        string="Leads",
        readonly=True,
        aggregator="sum",
        help="Leads and opportunities of the campaign, lost ones included.",
    )
    opportunity_count = fields.Integer(string="Opportunities", readonly=True, aggregator="sum")
    won_count = fields.Integer(string="Won", readonly=True, aggregator="sum")
    revenue = fields.Monetary(
        string="Confirmed Revenue",
        readonly=True,
        aggregator="sum",
        currency_field="currency_id",
        help="Untaxed amount of the confirmed sales orders of the campaign's "
        "opportunities, in the currency of the order's company.",
    )
    response_rate = fields.Float(
        string="Response Rate (%)",
        readonly=True,
        aggregator="ratio",
        digits=(16, 1),
        help="Responses per 100 recipients.",
    )
    open_rate = fields.Float(
        string="Open Rate (%)",
        readonly=True,
        aggregator="ratio",
        digits=(16, 1),
        help="Opened mails per 100 recipients.",
    )
    lead_rate = fields.Float(
        string="Lead Rate (%)",
        readonly=True,
        aggregator="ratio",
        digits=(16, 1),
        help="Leads per 100 responses. Leads that came from no mailing (a trade fair) "
        "count too, so the rate may exceed 100.",
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator="ratio",
        digits=(16, 1),
        help="Won opportunities per 100 leads.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    def _query(self):
        # The ids are the mailing, lead and order ids spread over three
        # residues, so a row keeps its id from one query to the next (a
        # ROW_NUMBER() would renumber the rows whenever the data changes).
        # The CTEs are not materialized and the traces are counted per
        # mailing in a LATERAL subquery, so that a filter on the campaign,
        # company or date reaches the tables' indexes instead of counting all
        # traces first.
        return SQL(
            """
            WITH mailing AS NOT MATERIALIZED (
                SELECT m.id, m.campaign_id, m.source_id, m.medium_id, u.company_id,
                       COALESCE(m.sent_date, m.schedule_date, m.create_date) AS date
                  FROM mailing_mailing m
                  LEFT JOIN res_users u ON u.id = m.user_id
                 WHERE m.campaign_id IS NOT NULL
            ),
            lead AS NOT MATERIALIZED (
                SELECT l.id, l.campaign_id, l.source_id, l.medium_id, l.company_id, l.type,
                       l.active AND COALESCE(stage.is_won, FALSE) AS won,
                       origin.id AS mailing_id, COALESCE(origin.date, l.create_date) AS date
                  FROM crm_lead l
                  LEFT JOIN crm_stage stage ON stage.id = l.stage_id
                  LEFT JOIN LATERAL (
                        SELECT mailing.id, mailing.date
                          FROM mailing
                         WHERE mailing.source_id = l.source_id
                           AND mailing.campaign_id = l.campaign_id
                      ORDER BY mailing.id
                         LIMIT 1) origin ON TRUE
                 WHERE l.campaign_id IS NOT NULL
            )
            SELECT mailing.id * 3 AS id, 'mailing' AS row_type, mailing.campaign_id,
                   mailing.id AS mailing_id, NULL::integer AS lead_id, NULL::integer AS order_id,
                   mailing.source_id, mailing.medium_id, mailing.company_id,
                   company.currency_id, mailing.date,
                   trace.recipient_count, trace.open_count, trace.response_count,
                   trace.bounce_count, 0 AS lead_count, 0 AS opportunity_count, 0 AS won_count,
                   0.0 AS revenue,
                   100.0 * trace.response_count / NULLIF(trace.recipient_count, 0) AS response_rate,
                   100.0 * trace.open_count / NULLIF(trace.recipient_count, 0) AS open_rate,
                   NULL::numeric AS lead_rate, NULL::numeric AS win_rate
              FROM mailing
             CROSS JOIN LATERAL (
                    -- Only mails that left Odoo have a sent date: a click through the
                    -- public redirect on a canceled trace turns it to "open" without one.
                    SELECT COUNT(*) FILTER (WHERE t.trace_status IN %(sent)s
                                              AND t.sent_datetime IS NOT NULL)::integer AS recipient_count,
                           COUNT(*) FILTER (WHERE t.trace_status IN ('open', 'reply')
                                              AND t.sent_datetime IS NOT NULL)::integer AS open_count,
                           COUNT(*) FILTER (WHERE t.trace_status IN %(sent)s
                                              AND t.sent_datetime IS NOT NULL
                                              AND (t.trace_status = 'reply'
                                                   OR t.links_click_datetime IS NOT NULL))::integer
                               AS response_count,
                           COUNT(*) FILTER (WHERE t.trace_status = 'bounce'
                                              AND t.sent_datetime IS NOT NULL)::integer AS bounce_count
                      FROM mailing_trace t
                     WHERE t.mass_mailing_id = mailing.id
                    -- A mailing without traces (a draft) has no row.
                    HAVING COUNT(*) > 0) trace
              LEFT JOIN res_company company ON company.id = mailing.company_id
            UNION ALL
            SELECT lead.id * 3 + 1, 'lead', lead.campaign_id,
                   lead.mailing_id, lead.id, NULL,
                   lead.source_id, lead.medium_id, lead.company_id,
                   company.currency_id, lead.date,
                   0, 0, 0, 0, 1,
                   CASE WHEN lead.type = 'opportunity' THEN 1 ELSE 0 END,
                   CASE WHEN lead.won THEN 1 ELSE 0 END,
                   0.0,
                   NULL, NULL, NULL,
                   CASE WHEN lead.won THEN 100.0 ELSE 0.0 END
              FROM lead
              LEFT JOIN res_company company ON company.id = lead.company_id
            UNION ALL
            SELECT so.id * 3 + 2, 'order', lead.campaign_id,
                   lead.mailing_id, lead.id, so.id,
                   lead.source_id, lead.medium_id, so.company_id,
                   company.currency_id, lead.date,
                   0, 0, 0, 0, 0, 0, 0,
                   -- currency_rate: units of the order currency per unit of the
                   -- company currency on the order date (sale.order, Odoo 18).
                   so.amount_untaxed / CASE WHEN COALESCE(so.currency_rate, 0) = 0 THEN 1
                                            ELSE so.currency_rate END,
                   NULL, NULL, NULL, NULL
              FROM sale_order so
              JOIN lead ON lead.id = so.opportunity_id
              LEFT JOIN res_company company ON company.id = so.company_id
             WHERE so.state = 'sale'
            """,
            sent=SENT_TRACE_STATUSES,
        )
