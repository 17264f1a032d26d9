# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import threading
import time

from odoo import _, api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

RECOMPUTE_SINCE_PARAM = "wholesale_customer_journey.recompute_since"
# Customers replayed per transaction. Each batch scans all leads and orders
# once, so larger batches make a full recompute faster; 20,000 keeps a batch
# within a few seconds.
RECOMPUTE_BATCH_SIZE = 20000


class CustomerJourneyReplay(models.AbstractModel):
    """Set-based stage derivation from leads and orders, for many customers.

    The ORM path (``res.partner._journey_set_stage``) handles one event at a
    time. This model derives, in SQL, the stage that each customer's
    existing leads and orders imply, and applies the same rules: the event
    to stage mapping of ``customer.journey.rule``, never backwards, one
    history row per stage entered. The install hook, the sales-history import
    and the nightly recompute use it.
    """

    _name = "customer.journey.replay"
    _description = "Customer Journey Stage Replay"

    # ------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------

    def _evidence_query(self, partner_ids=None, since=None):
        """Return the SQL of every (customer, event, date, record) row.

        :param partner_ids: restrict to these commercial partners
        :param since: restrict to customers with a lead or order written since then
        """
        partner_filter = SQL(
            "p.commercial_partner_id NOT IN (%s)", self.env["res.partner"]._journey_own_partner_query()
        )
        if partner_ids is not None:
            partner_filter = SQL("%s AND p.commercial_partner_id = ANY(%s)", partner_filter, list(partner_ids))
        if since is not None:
            partner_filter = SQL(
                """%s AND p.commercial_partner_id IN (
                       SELECT cp.commercial_partner_id FROM sale_order so2
                         JOIN res_partner cp ON cp.id = so2.partner_id
                        WHERE so2.write_date >= %s OR so2.write_date IS NULL
                        UNION
                       SELECT cp.commercial_partner_id FROM crm_lead l2
                         JOIN res_partner cp ON cp.id = l2.partner_id
                        WHERE l2.write_date >= %s OR l2.write_date IS NULL)""",
                partner_filter,
                since,
                since,
            )
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id, l.company_id,
                   CASE WHEN l.campaign_id IS NULL THEN 'lead_created'
                        ELSE 'lead_created_campaign' END AS event_code,
                   NULL::integer AS crm_stage_id, l.create_date AS date,
                   'crm.lead' AS res_model, l.id AS res_id
              FROM crm_lead l JOIN res_partner p ON p.id = l.partner_id
             WHERE %(filter)s
            UNION ALL
            SELECT p.commercial_partner_id, l.company_id, 'crm_stage', l.stage_id,
                   COALESCE(l.date_last_stage_update, l.create_date), 'crm.lead', l.id
              FROM crm_lead l JOIN res_partner p ON p.id = l.partner_id
             WHERE l.stage_id IS NOT NULL AND %(filter)s
            UNION ALL
            SELECT p.commercial_partner_id, so.company_id,
                   CASE WHEN so.state = 'sent' THEN 'quotation_sent' ELSE 'order_confirmed' END,
                   NULL, so.date_order, 'sale.order', so.id
              FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
             WHERE so.state IN ('sent', 'sale') AND %(filter)s
            UNION ALL
            SELECT p.commercial_partner_id, so.company_id,
                   CASE WHEN c.journey_aftersales_trigger = 'payment' THEN 'order_paid'
                        ELSE 'order_delivered' END,
                   NULL,
                   CASE WHEN c.journey_aftersales_trigger = 'payment' THEN so.journey_paid_date
                        ELSE so.journey_delivered_date END,
                   'sale.order', so.id
              FROM sale_order so
              JOIN res_partner p ON p.id = so.partner_id
              JOIN res_company c ON c.id = so.company_id
             WHERE so.state = 'sale'
               AND CASE WHEN c.journey_aftersales_trigger = 'payment' THEN so.journey_paid
                        ELSE so.journey_delivered END
               AND %(filter)s
            """,
            filter=partner_filter,
        )

    def _staged_query(self, evidence):
        """Return ``evidence`` rows with the stage their event leads to.

        A rule of the record's company wins over a rule without company.
        Evidence dated before a customer's latest manual stage change is
        left out: the manager's decision already took it into account.
        """
        return SQL(
            """
            WITH effective_rule AS (
                -- Per company (0: records without company) and event, the
                -- rule that applies: the company's own first, then a shared one.
                SELECT DISTINCT ON (company.id, rule.event_code, COALESCE(rule.crm_stage_id, 0))
                       company.id AS company_id, rule.event_code,
                       COALESCE(rule.crm_stage_id, 0) AS crm_stage_id,
                       rule.stage_id, stage.sequence
                  FROM (SELECT id FROM res_company UNION ALL SELECT 0) company
                  JOIN customer_journey_rule rule
                    ON rule.company_id = company.id OR rule.company_id IS NULL
                  JOIN customer_journey_stage stage ON stage.id = rule.stage_id
                 WHERE rule.active AND stage.active
              ORDER BY company.id, rule.event_code, COALESCE(rule.crm_stage_id, 0),
                       rule.company_id IS NULL, rule.sequence, rule.id
            )
            SELECT e.partner_id, e.date, e.event_code, e.res_model, e.res_id, e.company_id,
                   r.stage_id, r.sequence
              FROM (%(evidence)s) e
              JOIN effective_rule r
                ON r.company_id = COALESCE(e.company_id, 0)
               AND r.event_code = e.event_code
               AND r.crm_stage_id = COALESCE(e.crm_stage_id, 0)
             WHERE e.date IS NOT NULL
               AND NOT EXISTS (
                    SELECT 1 FROM customer_journey_history manual
                     WHERE manual.partner_id = e.partner_id
                       AND manual.event_code = 'manual'
                       AND manual.date_start >= e.date)
            """,
            evidence=evidence,
        )

    def _candidate_partner_ids(self, since=None):
        """Return the commercial partners whose records imply a later stage."""
        self.env.flush_all()
        staged = self._staged_query(self._evidence_query(since=since))
        self.env.cr.execute(
            SQL(
                """
                SELECT s.partner_id
                  FROM (%s) s
                  JOIN res_partner p ON p.id = s.partner_id
                  LEFT JOIN customer_journey_stage cur ON cur.id = p.journey_stage_id
              GROUP BY s.partner_id, cur.sequence
                HAVING cur.sequence IS NULL OR MAX(s.sequence) > cur.sequence
              ORDER BY s.partner_id
                """,
                staged,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _replay(self, partner_ids, reason=None):
        """Move each commercial partner forward to the stage its records imply.

        Writes one history row per stage entered, dated when the customer's
        records first reached it, in journey order: an event older than a
        stage already reached is ignored, never moving a customer backwards.

        :return: number of partners moved
        """
        partner_ids = list(partner_ids)
        if not partner_ids:
            return 0
        self.env.flush_all()
        cr = self.env.cr
        # Lock the customers first: a concurrent replay or stage change of the
        # same customer then fails with a serialization error and is retried,
        # instead of writing a second history.
        cr.execute(
            SQL("SELECT id FROM res_partner WHERE commercial_partner_id = ANY(%s) FOR UPDATE", partner_ids)
        )
        staged = self._staged_query(self._evidence_query(partner_ids=partner_ids))
        cr.execute("DROP TABLE IF EXISTS journey_replay_staged, journey_replay_path")
        # The planner estimates one evidence row per rule match and then joins
        # the customers in a nested loop, which took minutes for 20,000
        # customers. An analysed temporary table gives it the real row count.
        cr.execute(SQL("CREATE TEMPORARY TABLE journey_replay_staged ON COMMIT DROP AS %s", staged))
        cr.execute("ANALYZE journey_replay_staged")
        cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE journey_replay_path ON COMMIT DROP AS
                WITH current_stage AS (
                    SELECT p.id AS partner_id, p.journey_stage_id, p.journey_stage_date,
                           stage.sequence
                      FROM res_partner p
                      LEFT JOIN customer_journey_stage stage ON stage.id = p.journey_stage_id
                     WHERE p.id = ANY(%(partner_ids)s)
                ),
                candidates AS (
                    SELECT s.partner_id, s.stage_id, s.sequence, s.event_code, s.res_model,
                           s.res_id, s.company_id, GREATEST(s.date, c.journey_stage_date) AS date,
                           c.journey_stage_id AS current_stage_id
                      FROM journey_replay_staged s
                      JOIN current_stage c ON c.partner_id = s.partner_id
                     WHERE c.sequence IS NULL OR s.sequence > c.sequence
                ),
                first_reached AS (
                    SELECT DISTINCT ON (partner_id, stage_id) *
                      FROM candidates
                  ORDER BY partner_id, stage_id, date, res_id
                ),
                ordered AS (
                    SELECT *, MAX(sequence) OVER (
                                PARTITION BY partner_id ORDER BY date, sequence
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
                      FROM first_reached
                )
                SELECT partner_id, stage_id, sequence, event_code, res_model, res_id, company_id, date,
                       COALESCE(LAG(stage_id) OVER w, current_stage_id) AS previous_stage_id,
                       LEAD(date) OVER w AS date_end
                  FROM ordered
                 WHERE reached IS NULL OR sequence > reached
                WINDOW w AS (PARTITION BY partner_id ORDER BY date, sequence)
                """,
                partner_ids=partner_ids,
            )
        )
        cr.execute(
            """
            UPDATE customer_journey_history h
               SET date_end = first.date,
                   moved_on = TRUE,
                   stay_days = EXTRACT(EPOCH FROM first.date - h.date_start) / 86400.0,
                   write_date = NOW() AT TIME ZONE 'UTC'
              FROM (SELECT partner_id, MIN(date) AS date
                      FROM journey_replay_path GROUP BY partner_id) first
             WHERE h.partner_id = first.partner_id AND h.date_end IS NULL
            """
        )
        cr.execute(
            SQL(
                """
                INSERT INTO customer_journey_history (
                    partner_id, stage_id, previous_stage_id, date_start, date_end, stay_days,
                    moved_on, reentered, event_code, res_model, res_id, reason, user_id, company_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT path.partner_id, path.stage_id, path.previous_stage_id, path.date,
                       path.date_end,
                       COALESCE(EXTRACT(EPOCH FROM path.date_end - path.date) / 86400.0, 0),
                       path.date_end IS NOT NULL, FALSE, path.event_code, path.res_model, path.res_id,
                       %(reason)s, %(uid)s, COALESCE(path.company_id, p.company_id, %(company_id)s),
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM journey_replay_path path
                  JOIN res_partner p ON p.id = path.partner_id
                """,
                reason=reason,
                uid=self.env.uid,
                # As res.partner._journey_history_company: a shared customer's change
                # without a company belongs to the current company.
                company_id=self.env.company.id,
            )
        )
        # The last row of each path is the new stage, for the company and
        # its contacts alike (the stage is a commercial field).
        cr.execute(
            """
            UPDATE res_partner p
               SET journey_stage_id = last.stage_id, journey_stage_date = last.date
              FROM (SELECT DISTINCT ON (partner_id) partner_id, stage_id, date
                      FROM journey_replay_path
                  ORDER BY partner_id, date DESC, sequence DESC) last
             WHERE p.commercial_partner_id = last.partner_id
            """
        )
        cr.execute("SELECT ARRAY_AGG(DISTINCT partner_id) FROM journey_replay_path")
        moved_ids = cr.fetchone()[0] or []
        moved = len(moved_ids)
        if moved_ids:
            self.env["customer.journey.history"]._mark_reentered(moved_ids)
            # Leads written before the install, by an import or in SQL raised no
            # lead event: they get their customer's new stage as their own.
            cr.execute(
                """
                UPDATE crm_lead l
                   SET journey_stage_snapshot_id = c.journey_stage_id
                  FROM res_partner p
                  JOIN res_partner c ON c.id = p.commercial_partner_id
                 WHERE l.partner_id = p.id
                   AND l.journey_stage_snapshot_id IS NULL
                   AND c.journey_stage_id IS NOT NULL
                   AND c.id = ANY(%s)
                """,
                [moved_ids],
            )
        cr.execute("DROP TABLE journey_replay_staged, journey_replay_path")
        for model in ("res.partner", "customer.journey.history", "crm.lead"):
            self.env[model].invalidate_model()
        return moved

    @api.model
    def _recompute_stages(self, full=False, batch_size=RECOMPUTE_BATCH_SIZE, commit=False, max_batches=None):
        """Replay the customers whose records imply a later stage, in batches.

        :param full: look at every customer, not only those whose leads or
            orders changed since the last complete run
        :param commit: commit after each batch (cron), never in tests
        :param max_batches: stop after this many batches, for the cron runner
            to call again
        :return: (moved, remaining) partner counts
        """
        # Transactions still open when this run started may commit rows
        # dated earlier, so the next run looks back with a margin.
        self.env.cr.execute("SELECT NOW() AT TIME ZONE 'UTC' - INTERVAL '1 hour'")
        next_since = self.env.cr.fetchone()[0]
        param = self.env["ir.config_parameter"].sudo()
        since = None if full else param.get_param(RECOMPUTE_SINCE_PARAM)
        partner_ids = self._candidate_partner_ids(since=fields.Datetime.to_datetime(since) if since else None)
        _logger.info(
            "Journey stage recompute: %s customers to move (%s)",
            len(partner_ids),
            "full" if not since else f"changed since {since}",
        )
        moved = done = 0
        reason = _("Recomputed from the customer's leads and orders")
        for batch_count, start in enumerate(range(0, len(partner_ids), batch_size)):
            if max_batches is not None and batch_count >= max_batches:
                break
            batch = partner_ids[start:start + batch_size]
            moved += self._replay(batch, reason=reason)
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(partner_ids) - done)
            if commit:
                self.env.cr.commit()
            _logger.info("Journey stage recompute: %s/%s customers done", done, len(partner_ids))
        remaining = len(partner_ids) - done
        if not remaining:
            param.set_param(RECOMPUTE_SINCE_PARAM, fields.Datetime.to_string(next_since))
        return moved, remaining

    @api.model
    def _cron_recompute_stages(self, batch_size=RECOMPUTE_BATCH_SIZE, max_batches=5):
        """Nightly: move customers whose leads or orders changed outside the ORM."""
        start = time.monotonic()
        testing = getattr(threading.current_thread(), "testing", False)
        _logger.info("Journey stage recompute: start")
        moved, remaining = self._recompute_stages(
            batch_size=batch_size, commit=not testing, max_batches=max_batches
        )
        _logger.info(
            "Journey stage recompute: end, %s customers moved, %s left for the next call, %.1f s",
            moved,
            remaining,
            time.monotonic() - start,
        )
        return moved
