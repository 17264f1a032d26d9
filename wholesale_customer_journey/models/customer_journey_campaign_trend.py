# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import threading
import time
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL, date_utils, format_date, formatLang

_logger = logging.getLogger(__name__)

# Weeks before the reported week whose pooled rate is the baseline.
TREND_BASELINE_WEEKS = 4


class CustomerJourneyCampaignTrend(models.AbstractModel):
    """Weekly comparison of campaign and channel rates, sent to marketing.

    Each week and per company, last week's response rate (responses per
    recipient) and lead rate (leads per response) are compared with those
    of the four weeks before. Both are compared per campaign and per channel
    (the UTM medium of the mailings and leads). A move of more than the
    company's threshold, in percentage points, goes into one digest
    notification for the Email Marketing users and the Customer Journey
    managers of the company.

    The conversion rate compared is the lead rate, not the win rate,
    because a lead takes weeks or months to be won: last week's leads would
    always look worse than older ones. The numbers and dates are those of
    the Campaign Results report, where a lead has the sent date of its
    mailing.

    NOTE: responses keep coming in for days after a mailing, so a mailing
    sent late last week has had less time than the baseline's mailings and
    its rates can show a drop that later closes.
    """

    _name = "customer.journey.campaign.trend"
    _description = "Campaign Trend Notifications"

    # ------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------

    def _trend_query(self, company, week_start):
        """Return the SQL of the rates of ``company`` that moved beyond its threshold.

        It returns one row per campaign or channel and measure, largest move
        first, with last week's rate, the baseline rate and the change in
        percentage points. The baseline is the ratio of the sums of the four
        weeks before, so a quiet week weighs less than a busy one.
        """
        baseline_start = week_start - timedelta(weeks=TREND_BASELINE_WEEKS)
        week_end = week_start + timedelta(weeks=1)
        report = self.env["customer.journey.campaign.report"]
        return SQL(
            """
            WITH totals AS (
                SELECT CASE WHEN GROUPING(r.campaign_id) = 0 THEN 'campaign' ELSE 'medium' END AS dimension,
                       r.campaign_id, r.medium_id,
                       COALESCE(SUM(r.recipient_count) FILTER (WHERE r.date >= %(week_start)s), 0)::integer AS recipients,
                       COALESCE(SUM(r.response_count) FILTER (WHERE r.date >= %(week_start)s), 0)::integer AS responses,
                       COALESCE(SUM(r.lead_count) FILTER (WHERE r.date >= %(week_start)s), 0)::integer AS leads,
                       COALESCE(SUM(r.recipient_count) FILTER (WHERE r.date < %(week_start)s), 0)::integer AS base_recipients,
                       COALESCE(SUM(r.response_count) FILTER (WHERE r.date < %(week_start)s), 0)::integer AS base_responses,
                       COALESCE(SUM(r.lead_count) FILTER (WHERE r.date < %(week_start)s), 0)::integer AS base_leads
                  FROM %(report)s r
                 WHERE r.company_id = %(company_id)s
                   AND r.date >= %(baseline_start)s AND r.date < %(week_end)s
              GROUP BY GROUPING SETS ((r.campaign_id), (r.medium_id))
            ),
            rates AS (
                SELECT dimension, campaign_id, medium_id, recipients, 'response_rate' AS measure,
                       100.0 * responses / NULLIF(recipients, 0) AS rate,
                       100.0 * base_responses / NULLIF(base_recipients, 0) AS base_rate
                  FROM totals
                 WHERE recipients >= %(min_recipients)s AND base_recipients >= %(min_recipients)s
                UNION ALL
                SELECT dimension, campaign_id, medium_id, recipients, 'lead_rate',
                       100.0 * leads / NULLIF(responses, 0),
                       100.0 * base_leads / NULLIF(base_responses, 0)
                  FROM totals
                 WHERE recipients >= %(min_recipients)s AND base_recipients >= %(min_recipients)s
            )
            SELECT dimension, campaign_id, medium_id, measure, recipients, rate, base_rate,
                   rate - base_rate AS change
              FROM rates
             WHERE COALESCE(campaign_id, medium_id) IS NOT NULL
               AND ABS(rate - base_rate) > %(threshold)s
          ORDER BY ABS(rate - base_rate) DESC, dimension, campaign_id, medium_id, measure
            """,
            report=SQL.identifier(report._table),
            company_id=company.id,
            week_start=week_start,
            baseline_start=baseline_start,
            week_end=week_end,
            min_recipients=company.journey_trend_min_recipients,
            threshold=company.journey_trend_threshold,
        )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _trend_recipients(self, company):
        """Return the partners of the internal users to notify for ``company``."""
        groups = self.env.ref("mass_mailing.group_mass_mailing_user") | self.env.ref(
            "wholesale_customer_journey.group_journey_manager"
        )
        users = (
            self.env["res.users"]
            .sudo()
            .search([("groups_id", "in", groups.ids), ("share", "=", False), ("company_ids", "in", company.ids)])
        )
        return users.partner_id

    def _trend_partners_by_lang(self, company, partners):
        """Return {language code: partners} of the digest's recipients.

        Each recipient reads the digest in their own language, so it is
        rendered once per language. A recipient without an active language
        gets the company's.
        """
        active_langs = {code for code, __ in self.env["res.lang"].get_installed()}
        default_lang = company.partner_id.lang or self.env.lang or "en_US"
        groups = {}
        for partner in partners:
            lang = partner.lang if partner.lang in active_langs else default_lang
            groups.setdefault(lang, self.env["res.partner"])
            groups[lang] |= partner
        return dict(sorted(groups.items()))

    def _trend_message(self, company, week_start, moves):
        """Return the subject and body of the digest, one table row per move.

        Called in the language of the recipients: the texts, the names of
        campaigns and channels, the numbers and the dates are in the
        context's language.
        """
        measure_labels = {
            "response_rate": _("Response rate"),
            "lead_rate": _("Lead rate (leads per response)"),
        }
        campaigns = self.env["utm.campaign"].browse([move["campaign_id"] for move in moves if move["campaign_id"]])
        mediums = self.env["utm.medium"].browse([move["medium_id"] for move in moves if move["medium_id"]])
        names = {("campaign", c.id): c.display_name for c in campaigns}
        names.update({("medium", m.id): m.display_name for m in mediums})

        def percent(value):
            return formatLang(self.env, value, digits=1) + " %"

        rows = Markup()
        for move in moves:
            if move["dimension"] == "campaign":
                row_label = _("Campaign: %(name)s", name=names["campaign", move["campaign_id"]])
            else:
                row_label = _("Channel: %(name)s", name=names["medium", move["medium_id"]])
            rows += Markup(
                "<tr><td>%s</td><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td>"
                "<td class='text-end'>%s</td><td class='text-end'>%s</td></tr>"
            ) % (
                row_label,
                measure_labels[move["measure"]],
                percent(move["rate"]),
                percent(move["base_rate"]),
                ("+" if move["change"] > 0 else "") + formatLang(self.env, move["change"], digits=1),
                move["recipients"],
            )
        header = Markup("").join(
            Markup("<th>%s</th>") % label
            for label in (
                _("Campaign or channel"),
                _("Measure"),
                _("Last week"),
                _("Previous %(weeks)s weeks", weeks=TREND_BASELINE_WEEKS),
                _("Change (points)"),
                _("Recipients last week"),
            )
        )
        intro = _(
            "These rates of %(company)s in the week of %(week)s moved more than %(threshold)s "
            "percentage points from the %(weeks)s weeks before.",
            company=company.name,
            week=format_date(self.env, week_start),
            threshold=formatLang(self.env, company.journey_trend_threshold, digits=1),
            weeks=TREND_BASELINE_WEEKS,
        )
        subject = _("Campaign trends: week of %(week)s", week=format_date(self.env, week_start))
        body = Markup(
            "<p>%s</p><table class='table table-sm'><thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
        ) % (intro, header, rows)
        return subject, body

    def _notify_company_trends(self, company, week_start):
        """Send ``company``'s digest for the week of ``week_start`` and mark the week done.

        The week is stored in the same transaction as the message, so a
        second run for that week sends nothing, even after a crash between
        companies.

        :return: number of moves notified
        """
        self.env.cr.execute(self._trend_query(company, week_start))
        moves = self.env.cr.dictfetchall()
        partners = self._trend_recipients(company) if moves else self.env["res.partner"]
        if moves and not partners:
            _logger.warning(
                "Campaign trends: %s moves for company %s but no Email Marketing user or "
                "Customer Journey manager to notify",
                len(moves),
                company.id,
            )
        elif moves:
            for lang, lang_partners in self._trend_partners_by_lang(company, partners).items():
                subject, body = self.with_context(lang=lang)._trend_message(company, week_start, moves)
                self.env["mail.thread"].sudo().with_context(lang=lang).message_notify(
                    model="res.company",
                    res_id=company.id,
                    partner_ids=lang_partners.ids,
                    subject=subject,
                    body=body,
                    record_company_id=company.id,
                )
        company.sudo().journey_trend_week = week_start
        return len(moves) if partners else 0

    @api.model
    def _notify_campaign_trends(self, today=None, commit=False):
        """Notify every company whose last complete week has not been checked yet.

        :param today: the day of the run; last week is the ISO week (Monday
            to Sunday, in UTC) before the one of this day
        :param commit: commit after each company (cron), never in tests
        :return: (companies checked, moves notified)
        """
        today = today or fields.Date.today()
        week_start = date_utils.start_of(today, "week") - timedelta(weeks=1)
        self.env.flush_all()
        companies = (
            self.env["res.company"]
            .sudo()
            .search(["|", ("journey_trend_week", "=", False), ("journey_trend_week", "<", week_start)])
        )
        _logger.info("Campaign trends: week of %s, %s companies to check", week_start, len(companies))
        notified = 0
        for done, company in enumerate(companies, start=1):
            notified += self._notify_company_trends(company, week_start)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(companies) - done)
            if commit:
                self.env.cr.commit()
        return len(companies), notified

    @api.model
    def _cron_notify_campaign_trends(self):
        """Weekly: notify marketing of campaign and channel rates that moved."""
        start = time.monotonic()
        testing = getattr(threading.current_thread(), "testing", False)
        _logger.info("Campaign trends: start")
        checked, notified = self._notify_campaign_trends(commit=not testing)
        _logger.info(
            "Campaign trends: end, %s companies checked, %s moves notified, %.1f s",
            checked,
            notified,
            time.monotonic() - start,
        )
        return notified
