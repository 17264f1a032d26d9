# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import threading
import time
from collections import Counter, defaultdict

import lxml.html
import markupsafe
import psycopg2.errors

from odoo import _, api, fields, models
from odoo.addons.link_tracker.tools.html import find_links_with_urls_and_labels
from odoo.exceptions import UserError
from odoo.tools import SQL, email_normalize, formataddr, is_html_empty
from odoo.tools.mail import URL_SKIP_PROTOCOL_REGEX

from .customer_journey_info_rule import SELECT_LOCK_KEY

_logger = logging.getLogger(__name__)

# Sends handled in one transaction of the scheduled action.
DISPATCH_BATCH_SIZE = 200
# Maximum number of attempts to lock a batch while other workers keep sending
# the sends that this worker's snapshot shows as pending.
LOCK_ATTEMPTS = 5
SKIP_REASONS = [
    ("rule_archived", "Rule Archived"),
    ("record_gone", "Lead or Customer Removed"),
    ("lead_closed", "Lead Won or Lost"),
    ("other_company", "Customer of Another Company"),
    ("stop_stage", "Stop Stage Reached"),
    ("no_longer_due", "Trigger No Longer Applies"),
    ("opt_out", "Opted Out"),
    ("blacklist", "Blacklisted Address"),
    ("no_email", "No Valid Email Address"),
    ("no_product", "No Product to Show"),
    ("no_salesperson", "No Salesperson"),
    ("covered", "Covered by Another Send"),
    ("error", "Error"),
]
# Activity type per preferred contact channel that is not email.
ACTIVITY_TYPES = {
    "phone": "mail.mail_activity_data_call",
    "visit": "mail.mail_activity_data_meeting",
    "social": "mail.mail_activity_data_todo",
}
# Local links that mass mailing replaces per recipient: they must not become tracked links.
UNTRACKED_LINKS = ["/unsubscribe_from_list", "/view"]


class CustomerJourneyInfoSend(models.Model):
    """One product information send: a rule, the record it reached, and the trigger occurrence.

    The unique index on (rule, occurrence) keeps a mail from being sent
    twice. The scheduled action inserts the send as pending before it
    creates the mail. One worker at a time handles a pending send
    (``FOR NO KEY UPDATE SKIP LOCKED``), in the transaction that creates its mail.
    """

    _name = "customer.journey.info.send"
    _description = "Product Information Send"
    _order = "id desc"

    rule_id = fields.Many2one(
        "customer.journey.info.rule", string="Rule", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    occurrence_key = fields.Char(
        string="Trigger Event",
        required=True,
        readonly=True,
        help="The event that made the rule due: a stage reached, an interest, a lead, a "
        "latest touchpoint or a quotation.",
    )
    trigger_description = fields.Char(string="Trigger", compute="_compute_trigger_description")
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True, readonly=True)
    record_ref = fields.Reference(
        selection=[("crm.lead", "Lead"), ("res.partner", "Customer")],
        string="Reached",
        compute="_compute_record_ref",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", index="btree_not_null", ondelete="cascade", readonly=True
    )
    lead_id = fields.Many2one("crm.lead", string="Lead", index="btree_not_null", ondelete="set null", readonly=True)
    contact_id = fields.Many2one("res.partner", string="Contact", ondelete="set null", readonly=True)
    email = fields.Char(readonly=True)
    trigger_date = fields.Datetime(string="Triggered On", readonly=True)
    due_date = fields.Datetime(string="Due On", readonly=True)
    sent_date = fields.Datetime(string="Sent On", index=True, readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("mail", "Mail Sent"),
            ("activity", "Activity Planned"),
            ("skipped", "Skipped"),
        ],
        required=True,
        default="pending",
        index=True,
        readonly=True,
        help="Mail Sent: queued in the mail queue, which sends it within minutes. Activity "
        "Planned: the customer prefers another channel, so the salesperson got an activity "
        "with the product information.",
    )
    skip_reason = fields.Selection(SKIP_REASONS, readonly=True)
    skip_detail = fields.Char(string="Skip Details", readonly=True)
    product_ids = fields.Many2many(
        "product.template",
        "customer_journey_info_send_product_rel",
        "send_id",
        "product_tmpl_id",
        string="Products",
        readonly=True,
    )
    trace_id = fields.Many2one("mailing.trace", string="Mail Trace", ondelete="set null", readonly=True)
    trace_status = fields.Selection(related="trace_id.trace_status", string="Mail Status")
    opened = fields.Boolean(compute="_compute_tracking")
    clicked = fields.Boolean(compute="_compute_tracking")
    activity_id = fields.Many2one("mail.activity", string="Activity", ondelete="set null", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)

    _sql_constraints = [
        (
            "rule_occurrence_unique",
            "unique(rule_id, occurrence_key)",
            "A product information rule sends once per trigger event.",
        ),
    ]

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for send in self:
            send.record_ref = f"{send.res_model},{send.res_id}" if send.res_model and send.res_id else False

    @api.depends("trace_id.open_datetime", "trace_id.links_click_datetime", "trace_id.trace_status")
    def _compute_tracking(self):
        for send in self:
            trace = send.trace_id
            send.opened = bool(trace.open_datetime) or trace.trace_status in ("open", "reply")
            send.clicked = bool(trace.links_click_datetime)

    @api.depends("occurrence_key")
    def _compute_trigger_description(self):
        for send in self:
            send.trigger_description = send._describe_occurrence(send.occurrence_key, send.trigger_date)

    @api.model
    def _describe_occurrence(self, occurrence_key, trigger_date):
        """Return a readable description of a trigger event, in the user's language."""
        model, _sep, res_id = (occurrence_key or "").partition(",")
        record = self.env[self._occurrence_models().get(model, "res.partner")].sudo().browse(
            int(res_id) if res_id.isdigit() else 0
        )
        date = trigger_date and fields.Datetime.context_timestamp(self, trigger_date).date()
        if not record.exists():
            return _("Event of %(date)s", date=date or "")
        if model == "history":
            return _("Reached %(stage)s on %(date)s", stage=record.stage_id.name, date=date)
        if model == "interest":
            return _(
                "Interest in %(item)s recorded on %(date)s",
                item=(record.product_tmpl_id or record.categ_id).display_name,
                date=date,
            )
        if model == "crm.lead":
            return _("Lead from campaign %(campaign)s", campaign=record.campaign_id.name or "")
        if model == "touchpoint":
            return _("No touchpoint since %(date)s", date=record.date.date())
        return _("Quotation %(order)s not confirmed", order=record.name)

    @api.model
    def _occurrence_models(self):
        return {
            "history": "customer.journey.history",
            "interest": "customer.journey.interest",
            "crm.lead": "crm.lead",
            "touchpoint": "customer.journey.touchpoint",
            "sale.order": "sale.order",
        }

    def _compute_display_name(self):
        for send in self:
            send.display_name = _(
                "%(rule)s: %(record)s", rule=send.rule_id.name, record=send.record_ref.display_name or ""
            )

    # ------------------------------------------------------------
    # STATISTICS
    # ------------------------------------------------------------

    @api.model
    def _get_rule_statistics(self, rules):
        """Return {rule id: {counter: value}} of the sends of ``rules``, in one query."""
        real_ids = [rule_id for rule_id in rules.ids if isinstance(rule_id, int)]
        if not real_ids:
            return {}
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT s.rule_id,
                       COUNT(*) FILTER (WHERE s.state = 'pending'),
                       COUNT(*) FILTER (WHERE s.state = 'mail'),
                       COUNT(*) FILTER (WHERE s.state = 'activity'),
                       COUNT(*) FILTER (WHERE s.state = 'skipped'),
                       COUNT(*) FILTER (WHERE t.trace_status IN ('sent', 'open', 'reply')),
                       COUNT(*) FILTER (WHERE t.open_datetime IS NOT NULL OR t.trace_status IN ('open', 'reply')),
                       COUNT(*) FILTER (WHERE t.links_click_datetime IS NOT NULL),
                       COUNT(*) FILTER (WHERE s.state IN ('mail', 'activity') AND %s)
                  FROM customer_journey_info_send s
                  JOIN customer_journey_info_rule r ON r.id = s.rule_id
             LEFT JOIN mailing_trace t ON t.id = s.trace_id
                 WHERE s.rule_id = ANY(%s)
              GROUP BY s.rule_id
                """,
                self._get_converted_condition(),
                real_ids,
            )
        )
        keys = (
            "pending_count", "mail_count", "activity_count", "skipped_count", "delivered_count",
            "opened_count", "clicked_count", "converted_count",
        )
        return {row[0]: dict(zip(keys, row[1:])) for row in self.env.cr.fetchall()}

    @api.model
    def _get_converted_condition(self):
        """Return the SQL condition on send ``s`` of rule ``r``: an order confirmed in the window."""
        return SQL(
            """
            EXISTS (
                SELECT 1 FROM sale_order so JOIN res_partner sp ON sp.id = so.partner_id
                 WHERE sp.commercial_partner_id = s.partner_id AND so.state = 'sale'
                   AND so.company_id = s.company_id
                   AND so.date_order >= s.sent_date
                   AND so.date_order < s.sent_date + make_interval(days => r.conversion_days))
            """
        )

    # ------------------------------------------------------------
    # SCHEDULED ACTION
    # ------------------------------------------------------------

    @api.model
    def _cron_send_info(self, batch_size=DISPATCH_BATCH_SIZE):
        """Queue the due sends of every active rule, then send them in batches.

        Each company's selection and each batch is committed on its own
        (never in tests), so a crash loses at most the batch in progress,
        whose sends stay pending and are sent by the next run.
        """
        testing = getattr(threading.current_thread(), "testing", False)
        return self._run_info_rules(batch_size=batch_size, commit=not testing)

    @api.model
    def _run_info_rules(self, rules=None, batch_size=DISPATCH_BATCH_SIZE, commit=False, now=None):
        """Queue and send the due product information of ``rules`` (default: all active rules).

        :return: {"queued": n, "mail": n, "activity": n, "skipped": n, "failed": n}
        """
        start = time.monotonic()
        Rule = self.env["customer.journey.info.rule"].sudo()
        rules = rules.sudo() if rules is not None else Rule.search([])
        _logger.info("Product information: start, %s active rules", len(rules.filtered("active")))
        totals = Counter()
        # Archived rules queue nothing, but their pending sends must end as skipped before the
        # selection, because a pending send keeps its customer waiting for every rule (frequency cap).
        archived_rules = rules.filtered(lambda rule: not rule.active) | Rule.with_context(active_test=False).search(
            [("active", "=", False), ("send_ids.state", "=", "pending")]
        )
        if archived_rules:
            totals.update(self._dispatch_pending(archived_rules, batch_size=batch_size, commit=commit))
        for company in rules.company_id:
            if commit:
                self._begin_selection_transaction()
            # One selection per company at a time: two at once could each queue a mail
            # for one customer, which the frequency cap forbids.
            self.env.cr.execute(
                SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", SELECT_LOCK_KEY, company.id)
            )
            if not self.env.cr.fetchone()[0]:
                _logger.info(
                    "Product information: company %s is being selected by another worker, skipped", company.id
                )
                continue
            company_rules = rules.filtered(lambda rule, company=company: rule.active and rule.company_id == company)
            totals["queued"] += company_rules._queue_due_sends(now)
            if commit:
                self.env.cr.commit()
        if commit:
            # The batches run in new transactions, at Odoo's usual isolation level.
            self.env.cr.commit()
        _logger.info("Product information: %s sends queued", totals["queued"])
        totals.update(self._dispatch_pending(rules, batch_size=batch_size, commit=commit))
        if totals["mail"]:
            self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        _logger.info(
            "Product information: end, %s queued, %s mails, %s activities, %s skipped, %s failed, %.1f s",
            totals["queued"], totals["mail"], totals["activity"], totals["skipped"], totals["failed"],
            time.monotonic() - start,
        )
        return dict(totals)

    @api.model
    def _begin_selection_transaction(self):
        """Commit, and run the next transaction at READ COMMITTED.

        The selection lock keeps two selections of a company apart only if
        the second reads the sends that the first committed. At Odoo's
        REPEATABLE READ, a transaction that took its snapshot before the
        first selection was committed does not read them. It would queue the
        same triples again (a serialization failure) or queue another rule's
        mail for the same customers (a broken frequency cap). At READ
        COMMITTED each statement that runs under the lock reads them.
        """
        self.env.cr.commit()
        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    @api.model
    def _dispatch_pending(self, rules, batch_size=DISPATCH_BATCH_SIZE, commit=False):
        """Send the pending sends of ``rules`` in batches, each locked with SKIP LOCKED.

        A send that another worker is handling is locked, so this worker
        takes the next ones: two workers never handle one send.
        """
        totals = Counter()
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM customer_journey_info_send WHERE state = 'pending' AND rule_id = ANY(%s)",
                rules.ids,
            )
        )
        remaining = self.env.cr.fetchone()[0]
        done = 0
        while True:
            ids = self._lock_pending_batch(rules, batch_size, can_retry=commit)
            if not ids:
                break
            batch_totals = self.sudo().browse(ids)._dispatch()
            totals.update(batch_totals)
            done += len(ids)
            self.env["ir.cron"]._notify_progress(done=done, remaining=max(remaining - done, 0))
            _logger.info(
                "Product information: batch of %s sends done (%s mails, %s activities, %s skipped), %s done",
                len(ids), batch_totals["mail"], batch_totals["activity"], batch_totals["skipped"], done,
            )
            if commit:
                self.env.cr.commit()
            else:
                # In a test the batch stays locked by this transaction: leave the loop
                # once every pending send of the run was handled.
                if len(ids) < batch_size:
                    break
        return totals

    @api.model
    def _lock_pending_batch(self, rules, batch_size, can_retry=False):
        """Lock and return the ids of the next pending sends of ``rules`` that no other worker holds.

        At REPEATABLE READ, PostgreSQL cannot lock a send that another worker
        sent and committed after this transaction's snapshot was taken, and
        raises a serialization failure. With ``can_retry`` (the transaction
        holds no change of this run), the transaction is rolled back and the
        lock taken again, in a new snapshot that shows the send as sent.
        """
        query = SQL(
            """
            SELECT id FROM customer_journey_info_send
             WHERE state = 'pending' AND rule_id = ANY(%s)
          ORDER BY id
             LIMIT %s
               FOR NO KEY UPDATE SKIP LOCKED
            """,
            rules.ids,
            batch_size,
        )
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            try:
                self.env.cr.execute(query, log_exceptions=False)
                return [row[0] for row in self.env.cr.fetchall()]
            except psycopg2.errors.SerializationFailure:
                if not can_retry or attempt == LOCK_ATTEMPTS:
                    raise
                _logger.info(
                    "Product information: pending sends of rules %s were sent by another worker "
                    "meanwhile, locking again (attempt %s of %s)",
                    rules.ids, attempt + 1, LOCK_ATTEMPTS,
                )
                self.env.cr.rollback()
        return []

    def _dispatch(self):
        """Send each pending send in ``self``: a mail, an activity, or a skip with its reason.

        :return: Counter of mail, activity, skipped and failed
        """
        totals = Counter()
        for rule, sends in self.grouped("rule_id").items():
            try:
                with self.env.cr.savepoint():
                    totals.update(sends._dispatch_rule(rule))
            except (psycopg2.errors.TransactionRollbackError, psycopg2.OperationalError):
                # A serialization failure, deadlock or lost connection is no fault of the
                # rule: the batch rolls back and its sends stay pending for the next run.
                raise
            except Exception as error:  # noqa: BLE001 - logged with traceback, the batch goes on
                # A broken template or filter must not hold back the other rules' sends.
                self.env.invalidate_all()
                _logger.exception(
                    "Product information: rule %s failed for sends %s: %s", rule.id, sends.ids, error
                )
                sends._mark_skipped("error", str(error)[:250])
                totals["failed"] += len(sends)
        return totals

    def _dispatch_rule(self, rule):
        """Send the pending sends in ``self``, all of ``rule``."""
        if not rule.mailing_id:
            # Without its mailing a mail would have no tracking and no unsubscribe link.
            rule._sync_tracking_mailing()
        plans = self._plan(rule)
        totals = Counter()
        mail_plans, activity_plans = [], []
        for send in self:
            plan = plans[send.id]
            if plan["skip_reason"]:
                _logger.info(
                    "Product information: rule %s, send %s to %s,%s skipped: %s%s",
                    rule.id, send.id, send.res_model, send.res_id, plan["skip_reason"],
                    f" ({plan['skip_detail']})" if plan.get("skip_detail") else "",
                )
                totals["skipped"] += 1
            elif plan["route"] == "mail":
                mail_plans.append(plan)
            else:
                activity_plans.append(plan)
        updates = {send_id: plan for send_id, plan in plans.items() if plan["skip_reason"]}
        if mail_plans:
            traces = self._create_mails(rule, mail_plans)
            for plan in mail_plans:
                plan["trace_id"] = traces[plan["send_id"]].id
                updates[plan["send_id"]] = plan
            totals["mail"] += len(mail_plans)
        if activity_plans:
            activities = self._create_activities(rule, activity_plans)
            for plan in activity_plans:
                plan["activity_id"] = activities[plan["send_id"]].id
                updates[plan["send_id"]] = plan
            totals["activity"] += len(activity_plans)
        self._write_results(updates)
        return totals

    # ------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------

    def _plan(self, rule):
        """Return {send id: plan}: the route of each send in ``self``, or why it does not go out."""
        items = [
            {
                "send_id": send.id,
                "res_id": send.res_id,
                "customer_id": send.partner_id.id,
                "occurrence_key": send.occurrence_key,
            }
            for send in self
        ]
        plans = self._plan_items(rule, items)
        return {plan["send_id"]: plan for plan in plans}

    @api.model
    def _plan_items(self, rule, items):
        """Decide the route of each item, as the scheduled action would send it now.

        Shared by the scheduled action and the Preview Recipients button.

        :param items: [{send_id, res_id, customer_id, occurrence_key}], all of ``rule``
        :return: the items, each with route ("mail" or "activity"), skip_reason,
            skip_detail, contact, email, user, channel and product_ids
        """
        Model = self.env[rule.target_model].sudo().with_context(active_test=False)
        records = Model.browse([item["res_id"] for item in items]).exists()
        existing = set(records.ids)
        customers = self.env["res.partner"].sudo().browse(
            {item["customer_id"] for item in items if item["customer_id"]}
        )
        products = self._get_products_to_show(rule, items)
        opened_orders = self._get_open_quotation_ids(items)
        for item in items:
            item.update(route=False, skip_reason=False, skip_detail=False, contact=False, email=False, user=False)
            item["product_ids"] = products.get(item["occurrence_key"], [])
            # Keep the batch's prefetch, so that each field is read once for all records.
            record = Model.browse(item["res_id"]).with_prefetch(records._prefetch_ids)
            customer = customers.browse(item["customer_id"] or []).with_prefetch(customers._prefetch_ids)
            item["skip_reason"] = self._get_skip_reason(rule, item, record, existing, customer, opened_orders)
            if item["skip_reason"]:
                continue
            contact, channel = self._get_recipient(rule, record, customer)
            item["contact"], item["channel"] = contact, channel
            if customer.journey_info_opt_out or contact.journey_info_opt_out:
                item["skip_reason"] = "opt_out"
                continue
            if channel in ("email", "none"):
                item["route"] = "mail"
                email = record.email_from if rule.target == "lead" else contact.email
                item["email"] = email_normalize(email or "", strict=False) if email else False
                if not item["email"]:
                    item["skip_reason"] = "no_email"
                    item["skip_detail"] = email or False
            else:
                item["route"] = "activity"
                item["user"] = record.user_id or customer.user_id or rule.user_id
                if not item["user"]:
                    item["skip_reason"] = "no_salesperson"
        blacklisted = self._get_blacklisted({item["email"] for item in items if item["route"] == "mail" and item["email"]})
        for item in items:
            if not item["skip_reason"] and item["route"] == "mail" and item["email"] in blacklisted:
                item["skip_reason"] = "blacklist"
                item["skip_detail"] = item["email"]
        return items

    @api.model
    def _get_skip_reason(self, rule, item, record, existing, customer, open_quotation_ids):
        """Return why ``item`` must not be sent, or False."""
        if not rule.active:
            return "rule_archived"
        if record.id not in existing:
            return "record_gone"
        if record._name == "crm.lead":
            # Odoo archives a lead that is marked lost: an inactive lead is closed, not removed.
            if not record.active or record.probability >= 100 or record.stage_id.is_won:
                return "lead_closed"
            if record.company_id and record.company_id != rule.company_id:
                return "other_company"
        elif not record.active:
            return "record_gone"
        if customer and not customer.active:
            # An archived customer is one the company no longer deals with, also through its leads.
            return "record_gone"
        if customer.company_id and customer.company_id != rule.company_id:
            return "other_company"
        stage = customer.journey_stage_id
        if rule.stop_stage_id and stage and stage.sequence >= rule.stop_stage_id.sequence:
            return "stop_stage"
        if item["occurrence_key"].startswith("sale.order,") and item["occurrence_key"] not in open_quotation_ids:
            return "no_longer_due"
        if not item["product_ids"]:
            return "no_product"
        return False

    @api.model
    def _get_recipient(self, rule, record, customer):
        """Return (contact, preferred channel) of the mail or activity about ``record``."""
        if rule.target == "lead":
            contact = record.partner_id
            return contact, record.journey_preferred_channel or "none"
        contact = customer
        if not customer.email_normalized:
            contact = customer.child_ids.filtered(
                lambda child: child.active and child.type == "contact" and child.email_normalized
            )[:1] or customer
        channel = contact.journey_preferred_channel
        if not channel or channel == "none":
            channel = customer.journey_preferred_channel or "none"
        return contact, channel

    @api.model
    def _get_open_quotation_ids(self, items):
        """Return the occurrence keys of the items' quotations that are still sent and unconfirmed."""
        order_ids = [
            int(item["occurrence_key"].split(",")[1])
            for item in items
            if item["occurrence_key"].startswith("sale.order,")
        ]
        if not order_ids:
            return set()
        orders = self.env["sale.order"].sudo().search([("id", "in", order_ids), ("state", "=", "sent")])
        return {f"sale.order,{order.id}" for order in orders}

    @api.model
    def _get_blacklisted(self, emails):
        if not emails:
            return set()
        self.env["mail.blacklist"].flush_model(["email", "active"])
        self.env.cr.execute(
            SQL("SELECT email FROM mail_blacklist WHERE active AND email = ANY(%s)", list(emails))
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _get_products_to_show(self, rule, items):
        """Return {occurrence key: [product template ids]} of what each item's mail shows.

        First the products the event is about (the interest, the quoted
        products, the lead's or the customer's products of interest) that are
        in the rule's scope, then the rule's own products, at most
        ``max_products``. A rule of categories only, for a customer without
        matching product interest, shows the first products of its categories.
        """
        Product = self.env["product.template"].sudo()
        categ_ids = set(rule._get_scope_categ_ids())
        company = rule.company_id

        def sellable(template):
            # Runs as superuser: a product of another company must not reach this company's customers.
            return template.active and template.sale_ok and template.company_id in (company, company.browse())

        def in_scope(template):
            return sellable(template) and (template in rule.product_ids or template.categ_id.id in categ_ids)

        rule_products = rule.product_ids.sudo().filtered(sellable)

        context_products = self._get_context_products(rule, items)
        fallback = Product.browse()
        if categ_ids:
            fallback = Product.search(
                [
                    ("categ_id", "in", list(categ_ids)),
                    ("sale_ok", "=", True),
                    ("company_id", "in", [company.id, False]),
                ],
                order="sequence, name, id",
                limit=rule.max_products,
            )
        result = {}
        for item in items:
            candidates = context_products.get(item["occurrence_key"], Product).filtered(in_scope)
            shown_products = (candidates | rule_products)[: rule.max_products]
            if not shown_products:
                shown_products = fallback
            result[item["occurrence_key"]] = shown_products.ids
        return result

    @api.model
    def _get_context_products(self, rule, items):
        """Return {occurrence key: product templates the event is about}, in a few queries."""
        Product = self.env["product.template"].sudo()
        result = {}
        by_model = defaultdict(list)
        for item in items:
            model, _sep, res_id = item["occurrence_key"].partition(",")
            by_model[model].append((item, int(res_id)))
        customer_ids = {item["customer_id"] for item in items if item["customer_id"]}
        interests = self.env["customer.journey.interest"].sudo().search(
            [("company_id", "=", rule.company_id.id), ("partner_id", "in", list(customer_ids))]
        )
        interest_products = defaultdict(lambda: Product)
        for interest in interests:
            interest_products[interest.partner_id.id] |= interest.product_tmpl_id

        # Check existence once per model for the whole batch, because exists() costs a query per call.
        events = self.env["customer.journey.interest"].sudo().browse(
            [res_id for _item, res_id in by_model.get("interest", [])]
        ).exists()
        existing_event_ids = set(events.ids)
        for item, interest_id in by_model.get("interest", []):
            if interest_id not in existing_event_ids:
                continue
            interest = events.browse(interest_id).with_prefetch(events._prefetch_ids)
            if interest.product_tmpl_id:
                result[item["occurrence_key"]] = interest.product_tmpl_id | interest_products[item["customer_id"]]
            else:
                # A category interest: the customer's products of interest in that category.
                result[item["occurrence_key"]] = interest_products[item["customer_id"]].filtered(
                    lambda template, categ=interest.categ_id: template.categ_id == categ
                    or categ.parent_path and (template.categ_id.parent_path or "").startswith(categ.parent_path)
                )

        orders = self.env["sale.order"].sudo().browse(
            [res_id for _item, res_id in by_model.get("sale.order", [])]
        ).exists()
        existing_order_ids = set(orders.ids)
        for item, order_id in by_model.get("sale.order", []):
            if order_id in existing_order_ids:
                order = orders.browse(order_id).with_prefetch(orders._prefetch_ids)
                result[item["occurrence_key"]] = order.order_line.product_template_id

        leads = self.env["crm.lead"].sudo().browse([res_id for _item, res_id in by_model.get("crm.lead", [])]).exists()
        existing_lead_ids = set(leads.ids)
        for item, lead_id in by_model.get("crm.lead", []):
            if lead_id in existing_lead_ids:
                lead = leads.browse(lead_id).with_prefetch(leads._prefetch_ids)
                result[item["occurrence_key"]] = lead.journey_interest_product_ids | interest_products[
                    item["customer_id"]
                ]

        # Other events (a stage reached, a silence): the customer's products of interest.
        for item in items:
            result.setdefault(item["occurrence_key"], interest_products[item["customer_id"]] if item["customer_id"] else Product)
        return result

    # ------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------

    def _create_mails(self, rule, plans):
        """Render ``rule``'s template for the planned records and queue one mail each.

        :return: {send id: mailing.trace}
        """
        template = rule.mail_template_id.sudo()
        res_ids = [plan["res_id"] for plan in plans]
        payload = self._get_render_payload(rule, plans)
        # The batch compiles the template's body once per language (see ir.qweb _compile).
        rendered = template.with_context(journey_info_payload=payload, journey_info_qweb_cache={})._generate_template(
            res_ids, ("subject", "body_html", "email_from", "reply_to", "mail_server_id", "attachment_ids")
        )
        bodies = self._shorten_links(rule, {res_id: rendered[res_id].get("body_html") for res_id in res_ids})
        mailing = rule.mailing_id
        mail_vals_list = []
        for plan in plans:
            values = rendered[plan["res_id"]]
            contact = plan["contact"]
            name = contact.name if contact else False
            if rule.target == "lead":
                record = self.env["crm.lead"].browse(plan["res_id"])
                name = record.contact_name or name or record.partner_name
            attachment_ids = list(values.get("attachment_ids") or []) + payload[plan["res_id"]]["attachment_ids"]
            mail_vals_list.append(
                {
                    "subject": values.get("subject") or rule.name,
                    "body_html": bodies[plan["res_id"]] or "",
                    "email_from": values.get("email_from") or rule.company_id.email_formatted,
                    "reply_to": values.get("reply_to") or False,
                    "email_to": formataddr((name or "", plan["email"])),
                    "model": rule.target_model,
                    "res_id": plan["res_id"],
                    "mailing_id": mailing.id,
                    "message_type": "email_outgoing",
                    # The mail is deleted once sent, but its message stays in the record's
                    # chatter, so that a reply finds its way back to the lead or customer.
                    "is_notification": True,
                    "auto_delete": True,
                    "mail_server_id": values.get("mail_server_id") or False,
                    "attachment_ids": [(4, attachment_id) for attachment_id in dict.fromkeys(attachment_ids)],
                    "mailing_trace_ids": [
                        (
                            0,
                            0,
                            {
                                "trace_type": "mail",
                                "mass_mailing_id": mailing.id,
                                "model": rule.target_model,
                                "res_id": plan["res_id"],
                                "email": plan["email"],
                                "trace_status": "outgoing",
                            },
                        )
                    ],
                }
            )
        # The mail becomes a touchpoint when its trace is sent (origin info_mail).
        # Its queued message must not also count as a mail to the customer.
        mails = self.env["mail.mail"].sudo().with_context(journey_skip_message_touchpoint=True).create(mail_vals_list)
        return {plan["send_id"]: mail.mailing_trace_ids[:1] for plan, mail in zip(plans, mails)}

    @api.model
    def _get_render_payload(self, rule, plans):
        """Return {record id: product data} that the template's product lines read.

        Prices come from each customer's pricelist, computed once per
        pricelist for all products of the batch. The customers' pricelists
        and the products' link documents are read once for the batch.
        """
        Product = self.env["product.template"].sudo()
        payload = {}
        by_pricelist = defaultdict(set)
        pricelists = {}
        customers = (
            self.env["res.partner"].sudo().browse({plan["customer_id"] for plan in plans if plan["customer_id"]})
        ).with_company(rule.company_id)
        default_pricelist = None
        for plan in plans:
            customer = customers.browse(plan["customer_id"] or []).with_prefetch(customers._prefetch_ids)
            pricelist = customer.property_product_pricelist
            if not pricelist:
                if default_pricelist is None:
                    default_pricelist = Product._journey_info_pricelist(customers.browse(), rule.company_id)
                pricelist = default_pricelist
            pricelists[plan["res_id"]] = pricelist
            by_pricelist[pricelist].update(plan["product_ids"])
        prices = {}
        for pricelist, product_ids in by_pricelist.items():
            prices[pricelist] = Product.browse(product_ids).with_company(rule.company_id)._journey_info_prices(pricelist)
        product_ids = {product_id for plan in plans for product_id in plan["product_ids"]}
        links, documents = {}, {}
        if rule.attach_documents:
            documents, links = Product._journey_info_documents(product_ids)
        for plan in plans:
            pricelist = pricelists[plan["res_id"]]
            payload[plan["res_id"]] = {
                "rule_id": rule.id,
                "product_ids": plan["product_ids"],
                "prices": {product_id: prices[pricelist][product_id] for product_id in plan["product_ids"]},
                "links": links,
                "attachment_ids": [
                    attachment_id
                    for product_id in plan["product_ids"]
                    for attachment_id in documents.get(product_id, [])
                ],
            }
        return payload

    def _shorten_links(self, rule, bodies):
        """Replace the links of ``bodies`` by tracked links, with one link search for the batch.

        :param bodies: {res_id: html}
        :return: {res_id: html}
        """
        mailing = rule.mailing_id
        base_url = mailing.get_base_url()
        short_schema = base_url + "/r/"
        tracker_vals = {"mass_mailing_id": mailing.id}
        for field_name in ("campaign_id", "source_id", "medium_id"):
            if mailing[field_name]:
                tracker_vals[field_name] = mailing[field_name].id
        parsed, requests = {}, []
        for res_id, html in bodies.items():
            if not html or is_html_empty(html):
                continue
            root = lxml.html.fromstring(str(html))
            nodes, urls_and_labels = find_links_with_urls_and_labels(
                root, base_url, skip_regex=rf"^{URL_SKIP_PROTOCOL_REGEX}", skip_prefix=short_schema,
                skip_list=UNTRACKED_LINKS,
            )
            parsed[res_id] = (root, nodes, len(requests))
            requests += [dict(tracker_vals, **url_and_label) for url_and_label in urls_and_labels]
        trackers = self.env["link.tracker"].sudo().search_or_create(requests) if requests else []
        result = dict(bodies)
        for res_id, (root, nodes, offset) in parsed.items():
            if not nodes:
                continue
            for index, node in enumerate(nodes):
                node.set("href", trackers[offset + index].short_url)
            result[res_id] = markupsafe.Markup(lxml.html.tostring(root, encoding="unicode", method="xml"))
        return result

    def _create_activities(self, rule, plans):
        """Plan an activity with the product information for each salesperson.

        :return: {send id: mail.activity}
        """
        Activity = self.env["mail.activity"].sudo()
        model_id = self.env["ir.model"]._get_id(rule.target_model)
        Product = self.env["product.template"].sudo()
        payload = self._get_render_payload(rule, plans)
        vals_list = []
        for plan in plans:
            user = plan["user"]
            activity_type = self.env.ref(ACTIVITY_TYPES.get(plan["channel"], "mail.mail_activity_data_todo"))
            lines = Product.with_context(lang=user.lang or self.env.lang).browse(plan["product_ids"])._journey_info_lines(
                payload[plan["res_id"]]["prices"], rule.company_id, links=payload[plan["res_id"]]["links"]
            )
            note = self.env["ir.qweb"].with_context(lang=user.lang)._render(
                "wholesale_customer_journey.info_activity_note",
                {"lines": lines, "rule": rule, "contact": plan["contact"]},
            )
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": plan["res_id"],
                    "activity_type_id": activity_type.id,
                    "summary": self.with_context(lang=user.lang).env._("Product information: %(rule)s", rule=rule.name),
                    "note": note,
                    "user_id": user.id,
                    # Today where the salesperson is, so that the activity is not overdue at once.
                    "date_deadline": fields.Date.context_today(self.with_context(tz=user.tz or "UTC")),
                }
            )
        activities = Activity.with_context(mail_activity_quick_update=True).create(vals_list)
        return {plan["send_id"]: activity for plan, activity in zip(plans, activities)}

    def _write_results(self, plans):
        """Store the outcome of each send in one UPDATE.

        :param plans: {send id: plan}
        """
        if not plans:
            return
        now = fields.Datetime.now()
        rows = []
        for send_id, plan in plans.items():
            if plan["skip_reason"]:
                state = "skipped"
            else:
                state = plan["route"]
            contact = plan.get("contact")
            user = plan.get("user")
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    send_id,
                    state,
                    plan["skip_reason"] or None,
                    (plan.get("skip_detail") or None) and str(plan["skip_detail"])[:250],
                    contact.id if contact else None,
                    plan.get("email") or None,
                    plan.get("trace_id") or None,
                    plan.get("activity_id") or None,
                    user.id if user else None,
                )
            )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_info_send s
                   SET state = v.state::varchar, skip_reason = v.skip_reason::varchar,
                       skip_detail = v.skip_detail::varchar, contact_id = v.contact_id::integer,
                       email = v.email::varchar, trace_id = v.trace_id::integer,
                       activity_id = v.activity_id::integer, user_id = v.user_id::integer,
                       sent_date = CASE WHEN v.state = 'skipped' THEN NULL ELSE %s END,
                       write_date = %s, write_uid = %s
                  FROM (VALUES %s) AS v(id, state, skip_reason, skip_detail, contact_id, email,
                                        trace_id, activity_id, user_id)
                 WHERE s.id = v.id
                """,
                now,
                now,
                self.env.uid,
                SQL(", ").join(rows),
            )
        )
        pairs = [
            SQL("(%s, %s)", send_id, product_id)
            for send_id, plan in plans.items()
            if not plan["skip_reason"]
            for product_id in plan["product_ids"]
        ]
        if pairs:
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO customer_journey_info_send_product_rel (send_id, product_tmpl_id)
                    VALUES %s ON CONFLICT DO NOTHING
                    """,
                    SQL(", ").join(pairs),
                )
            )
        self.browse(list(plans)).invalidate_recordset()

    def _mark_skipped(self, reason, detail=False):
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_info_send
                   SET state = 'skipped', skip_reason = %s, skip_detail = %s, write_date = %s
                 WHERE id = ANY(%s)
                """,
                reason,
                detail or None,
                fields.Datetime.now(),
                self.ids,
            )
        )
        self.invalidate_recordset()

    # ------------------------------------------------------------
    # TEST MAIL
    # ------------------------------------------------------------

    @api.model
    def _send_test_mail(self, rule):
        """Send ``rule``'s mail, rendered for its first due record or any audience record, to the user."""
        user = self.env.user
        if not user.email:
            raise UserError(
                _(
                    "Your user has no email address, so the test mail has nowhere to go. Add an "
                    "email address in your preferences, then send the test again."
                )
            )
        sample = rule._get_sample_item()
        if not sample:
            raise UserError(
                _(
                    "Product information rule “%(rule)s” has no lead or customer to render the test "
                    "mail for. Widen the audience, or create a lead or customer that matches it.",
                    rule=rule.name,
                )
            )
        sample["send_id"] = 0
        plan = self._plan_items(rule, [sample])[0]
        if not plan["product_ids"]:
            raise UserError(
                _(
                    "Product information rule “%(rule)s” has no product to show: its products are "
                    "not for sale, and its categories have no product for sale. Add a product that "
                    "can be sold.",
                    rule=rule.name,
                )
            )
        template = rule.mail_template_id.sudo()
        payload = self._get_render_payload(rule, [plan])
        rendered = template.with_context(journey_info_payload=payload)._generate_template(
            [plan["res_id"]], ("subject", "body_html", "email_from", "attachment_ids")
        )[plan["res_id"]]
        attachment_ids = list(rendered.get("attachment_ids") or []) + payload[plan["res_id"]]["attachment_ids"]
        mail = self.env["mail.mail"].sudo().create(
            {
                "subject": _("[Test] %(subject)s", subject=rendered.get("subject") or rule.name),
                "body_html": rendered.get("body_html") or "",
                "email_from": rendered.get("email_from") or user.email_formatted,
                "email_to": user.email_formatted,
                "auto_delete": True,
                "attachment_ids": [(4, attachment_id) for attachment_id in dict.fromkeys(attachment_ids)],
            }
        )
        mail.send(raise_exception=False)
        if mail.exists() and mail.state == "exception":
            raise UserError(
                _(
                    "The test mail to %(email)s could not be sent: %(reason)s. Check the outgoing "
                    "mail server in the Settings, then send the test again.",
                    email=user.email,
                    reason=mail.failure_reason or mail.failure_type or _("unknown error"),
                )
            )
        return mail
