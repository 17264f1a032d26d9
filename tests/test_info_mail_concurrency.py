"""Product information mails go out once per trigger event, across crashes and workers.

These tests run the sending action with commit=True, as the scheduled action
does: in a child process that dies in the middle of a batch, and in two
threads at once. So they commit into the test database, and remove what they
committed in a finally block.
"""

import logging
import subprocess
import sys
import threading
import time
import traceback
import uuid
from datetime import timedelta
from unittest.mock import patch

import pytest

import odoo
from odoo import fields
from odoo.tools import config as odoo_config

from conftest import _RUN_PYTHON_SCRIPT, PROJECT_ROOT, _child_env, current_pg_connection

_logger = logging.getLogger(__name__)

SEND_MODEL = "customer.journey.info.send"
RULE_MODEL = "customer.journey.info.rule"
# A thread or child process that takes longer than this many seconds is stuck.
WORKER_TIMEOUT = 120


# --------------------------------------------------------------------------
# Committed test data
# --------------------------------------------------------------------------


class InfoData:
    """The records that one test commits, all named with a unique tag."""

    def __init__(self, tag):
        self.tag = tag
        self.campaign_id = None
        self.product_id = None
        self.partner_ids = []
        self.lead_ids = []
        self.rule_ids = []
        self.mailing_ids = []
        self.last_cron_trigger_id = 0


def _environment(cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def _create_data(registry, count, rule_count=1):
    """Commit ``count`` leads of a campaign, each of its own customer who prefers email, and the rules.

    Every rule sends product information for leads of that campaign, with a
    frequency cap of 7 days, so a customer is due for each rule once.
    """
    data = InfoData(uuid.uuid4().hex[:8])
    with registry.cursor() as cr:
        env = _environment(cr)
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_trigger")
        data.last_cron_trigger_id = cr.fetchone()[0]
        company = env.company
        campaign = env["utm.campaign"].create({"name": f"Gelijktijdige info {data.tag}"})
        product = env["product.template"].create(
            {"name": f"Terracotta pot {data.tag}", "sale_ok": True, "list_price": 12.5}
        )
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Tuincentrum {data.tag} {index}",
                    "is_company": True,
                    "email": f"inkoop-{index}-{data.tag}@gelijktijdig.example",
                    "journey_preferred_channel": "email",
                }
                for index in range(count)
            ]
        )
        leads = env["crm.lead"].create(
            [
                {
                    "name": f"Beursbezoek {data.tag} {index}",
                    "partner_id": partner.id,
                    "email_from": partner.email,
                    "campaign_id": campaign.id,
                    "company_id": company.id,
                }
                for index, partner in enumerate(partners)
            ]
        )
        env.flush_all()
        # A lead is due once its creation is older than the run's `now`, which has no
        # microseconds: date the leads a minute back instead of waiting.
        cr.execute(
            "UPDATE crm_lead SET create_date = create_date - INTERVAL '1 minute' WHERE id = ANY(%s)",
            [leads.ids],
        )
        rules = env[RULE_MODEL].create(
            [
                {
                    "name": f"Potten info {data.tag} {index}",
                    "sequence": index + 1,
                    "trigger": "campaign_lead",
                    "target": "lead",
                    "campaign_ids": [(6, 0, campaign.ids)],
                    "product_ids": [(6, 0, product.ids)],
                    "cap_days": 7,
                    "date_start": fields.Datetime.now() - timedelta(hours=1),
                }
                for index in range(rule_count)
            ]
        )
        data.campaign_id = campaign.id
        data.product_id = product.id
        data.partner_ids = partners.ids
        data.lead_ids = leads.ids
        data.rule_ids = rules.ids
        data.mailing_ids = rules.mailing_id.ids
    return data


def _remove_data(registry, data):
    """Delete everything that ``data``'s test committed, the mails of its runs included."""
    with registry.cursor() as cr:
        env = _environment(cr)
        mailings = env["mailing.mailing"].browse(data.mailing_ids).exists()
        env["mail.mail"].search([("mailing_id", "in", mailings.ids)]).unlink()
        env["mailing.trace"].search([("mass_mailing_id", "in", mailings.ids)]).unlink()
        env["link.tracker"].search([("mass_mailing_id", "in", mailings.ids)]).unlink()
        # The sends go with their rules (ondelete cascade).
        env[RULE_MODEL].with_context(active_test=False).browse(data.rule_ids).exists().unlink()
        sources = mailings.source_id
        mailings.unlink()
        sources.exists().unlink()
        # mail.thread removes the leads' messages and activities with the leads.
        env["crm.lead"].with_context(active_test=False).browse(data.lead_ids).exists().unlink()
        if data.partner_ids:
            cr.execute("DELETE FROM customer_journey_touchpoint WHERE partner_id = ANY(%s)", [data.partner_ids])
            cr.execute("DELETE FROM customer_journey_history WHERE partner_id = ANY(%s)", [data.partner_ids])
            cr.execute(
                "DELETE FROM customer_journey_response_lock WHERE key = ANY(%s)",
                [[f"partner,{partner_id}" for partner_id in data.partner_ids]],
            )
            env["mail.message"].search(
                [("model", "=", "res.partner"), ("res_id", "in", data.partner_ids)]
            ).unlink()
            cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [data.partner_ids])
        if data.product_id:
            template = env["product.template"].browse(data.product_id).exists()
            variants = template.with_context(active_test=False).product_variant_ids
            # Deleting the template deletes its variant in SQL, which leaves the variant's messages.
            env["mail.message"].search(
                [("model", "=", "product.product"), ("res_id", "in", variants.ids)]
            ).unlink()
            template.unlink()
        if data.campaign_id:
            env["utm.campaign"].browse(data.campaign_id).exists().unlink()
        # The runs asked the mail queue to run soon, and the new leads asked for lead
        # enrichment: nothing runs the scheduled actions of the test database.
        cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", [data.last_cron_trigger_id])


# --------------------------------------------------------------------------
# Reading the outcome
# --------------------------------------------------------------------------


def _sends(cr, rule_ids):
    """Return the rules' sends as dicts, by id."""
    cr.execute(
        """
        SELECT s.id, s.rule_id, s.res_id, s.partner_id, s.state, s.skip_reason, s.trace_id, t.mail_mail_id
          FROM customer_journey_info_send s
     LEFT JOIN mailing_trace t ON t.id = s.trace_id
         WHERE s.rule_id = ANY(%s)
      ORDER BY s.id
        """,
        [rule_ids],
    )
    return {row["id"]: row for row in cr.dictfetchall()}


def _mails_by_lead(cr, mailing_ids):
    """Return {lead id: number of mail.mail} of the mailings."""
    cr.execute(
        """
        SELECT m.res_id, COUNT(*)
          FROM mail_mail mm
          JOIN mail_message m ON m.id = mm.mail_message_id
         WHERE mm.mailing_id = ANY(%s) AND m.model = 'crm.lead'
      GROUP BY m.res_id
        """,
        [mailing_ids],
    )
    return dict(cr.fetchall())


def _traces_by_lead(cr, mailing_ids):
    """Return {lead id: number of mailing.trace} of the mailings."""
    cr.execute(
        """
        SELECT res_id, COUNT(*) FROM mailing_trace
         WHERE mass_mailing_id = ANY(%s) AND model = 'crm.lead'
      GROUP BY res_id
        """,
        [mailing_ids],
    )
    return dict(cr.fetchall())


def _assert_each_lead_mailed_once(cr, data):
    sends = _sends(cr, data.rule_ids)
    sends_by_lead = {}
    for send in sends.values():
        sends_by_lead.setdefault(send["res_id"], []).append(send)
    mails = _mails_by_lead(cr, data.mailing_ids)
    traces = _traces_by_lead(cr, data.mailing_ids)
    for lead_id in data.lead_ids:
        lead_sends = sends_by_lead.get(lead_id, [])
        assert len(lead_sends) == 1, f"lead {lead_id} has {len(lead_sends)} sends"
        assert lead_sends[0]["state"] == "mail", f"lead {lead_id}: {lead_sends[0]}"
        assert lead_sends[0]["mail_mail_id"], f"the send of lead {lead_id} has no mail"
        assert mails.get(lead_id) == 1, f"lead {lead_id} has {mails.get(lead_id, 0)} mails"
        assert traces.get(lead_id) == 1, f"lead {lead_id} has {traces.get(lead_id, 0)} mail traces"
    assert sum(mails.values()) == len(data.lead_ids)
    assert sum(traces.values()) == len(data.lead_ids)
    assert len(sends) == len(data.lead_ids)


def _assert_one_send_per_customer(cr, data):
    """Check that each customer got one mail, from the first rule: the frequency cap held back the second."""
    sends_by_customer = {}
    for send in _sends(cr, data.rule_ids).values():
        sends_by_customer.setdefault(send["partner_id"], []).append(send)
    for partner_id in data.partner_ids:
        customer_sends = sends_by_customer.get(partner_id, [])
        assert len(customer_sends) == 1, f"customer {partner_id} has {len(customer_sends)} sends"
        assert customer_sends[0]["state"] == "mail", f"customer {partner_id}: {customer_sends[0]}"
        assert customer_sends[0]["rule_id"] == data.rule_ids[0], f"customer {partner_id}: {customer_sends[0]}"
    assert sum(_mails_by_lead(cr, data.mailing_ids).values()) == len(data.partner_ids)


# --------------------------------------------------------------------------
# Running the sending action
# --------------------------------------------------------------------------


def _run_rules(registry, rule_ids, batch_size):
    """Run the sending action on the rules in a new transaction, as the scheduled action does."""
    with registry.cursor() as cr:
        env = _environment(cr)
        rules = env[RULE_MODEL].browse(rule_ids)
        return env[SEND_MODEL]._run_info_rules(rules, batch_size=batch_size, commit=True)


def _run_child(code):
    """Run ``code`` with ``env`` in a child process on the test database, and return the process.

    Unlike conftest.run_python_process, a non-zero exit status is returned,
    not raised: the crash test expects one.
    """
    command = [
        sys.executable,
        "-c",
        _RUN_PYTHON_SCRIPT,
        f"--database={odoo_config['db_name']}",
        f"--addons-path={odoo_config['addons_path']}",
        *current_pg_connection().odoo_args(),
        "--log-level=warn",
    ]
    return subprocess.run(
        command,
        input=code,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        env=_child_env(),
        cwd=PROJECT_ROOT,
        check=False,
    )


# Child process: run the rule in batches of 3 and die (no commit, no cleanup)
# in the second batch, after its mails were created.
CRASH_IN_SECOND_BATCH = """
import os
import sys
from unittest.mock import patch

Send = env.registry["customer.journey.info.send"]
create_mails = Send._create_mails
calls = []


def create_mails_then_crash(self, rule, plans):
    mails = create_mails(self, rule, plans)
    calls.append(1)
    if len(calls) == 2:
        self.env.flush_all()
        print("CRASHED_MAILS", ",".join(str(trace.mail_mail_id.id) for trace in mails.values()))
        print("CRASHED_SENDS", ",".join(str(send_id) for send_id in mails))
        sys.stdout.flush()
        os._exit(1)
    return mails


with patch.object(Send, "_create_mails", create_mails_then_crash):
    env["customer.journey.info.send"]._run_info_rules(
        env["customer.journey.info.rule"].browse({rule_id}), batch_size=3, commit=True
    )
print("NOT_CRASHED")
"""


def _output_ids(output, label):
    for line in output.splitlines():
        if line.startswith(label + " "):
            return [int(value) for value in line.split(" ", 1)[1].split(",") if value]
    raise AssertionError(f"the child process printed no {label} line:\n{output}")


# --------------------------------------------------------------------------
# A crash in the middle of a run
# --------------------------------------------------------------------------


def test_crash_mid_batch_then_rerun(registry):
    data = _create_data(registry, 7)
    try:
        rule_id = data.rule_ids[0]
        child = _run_child(CRASH_IN_SECOND_BATCH.format(rule_id=rule_id))
        assert child.returncode == 1, f"the child must die in the second batch:\n{child.stdout}\n{child.stderr}"
        crashed_mail_ids = _output_ids(child.stdout, "CRASHED_MAILS")
        crashed_send_ids = _output_ids(child.stdout, "CRASHED_SENDS")
        assert len(crashed_mail_ids) == 3

        with registry.cursor() as cr:
            sends = _sends(cr, data.rule_ids)
            assert len(sends) == 7, "the selection was committed before the first batch"
            sent = [send for send in sends.values() if send["state"] == "mail"]
            pending = [send for send in sends.values() if send["state"] == "pending"]
            assert len(sent) == 3, "the first batch was committed"
            assert len(pending) == 4, "the crashed batch and the last one stay pending"
            assert set(crashed_send_ids) <= {send["id"] for send in pending}
            assert all(send["mail_mail_id"] for send in sent)
            cr.execute("SELECT id FROM mail_mail WHERE id = ANY(%s)", [crashed_mail_ids])
            assert cr.fetchall() == [], "the mails of the crashed batch were rolled back"
            mails = _mails_by_lead(cr, data.mailing_ids)
            assert mails == {send["res_id"]: 1 for send in sent}
            assert _traces_by_lead(cr, data.mailing_ids) == mails

        rerun = _run_rules(registry, data.rule_ids, batch_size=3)
        assert rerun.get("queued", 0) == 0
        assert rerun.get("mail") == 4

        with registry.cursor() as cr:
            _assert_each_lead_mailed_once(cr, data)
            mails_before = _mails_by_lead(cr, data.mailing_ids)

        third_run = _run_rules(registry, data.rule_ids, batch_size=3)
        assert third_run.get("queued", 0) == 0
        assert third_run.get("mail", 0) == 0
        with registry.cursor() as cr:
            _assert_each_lead_mailed_once(cr, data)
            assert _mails_by_lead(cr, data.mailing_ids) == mails_before
    finally:
        _remove_data(registry, data)


# --------------------------------------------------------------------------
# Two workers at once
# --------------------------------------------------------------------------


class Workers:
    """Two threads that run the sending action, each on its own cursor, and what each handled."""

    def __init__(self, registry, rule_ids, batch_size):
        self.registry = registry
        self.rule_ids = rule_ids
        self.rule_ids_by_worker = {}
        self.batch_size = batch_size
        self.results = {}
        self.errors = {}
        self.dispatched = {"worker-a": [], "worker-b": []}
        self.threads = []

    def start(self, name, before_run=None):
        thread = threading.Thread(target=self._run, args=(name, before_run), name=name)
        self.threads.append(thread)
        thread.start()

    def _run(self, name, before_run):
        try:
            with self.registry.cursor() as cr:
                env = _environment(cr)
                rules = env[RULE_MODEL].browse(self.rule_ids_by_worker.get(name, self.rule_ids))
                if before_run:
                    before_run(env)
                self.results[name] = env[SEND_MODEL]._run_info_rules(
                    rules, batch_size=self.batch_size, commit=True
                )
        except Exception:  # noqa: BLE001 - reported by join()
            self.errors[name] = traceback.format_exc()

    def wait(self):
        for thread in self.threads:
            thread.join(timeout=WORKER_TIMEOUT)

    def join(self):
        """Wait for both workers, and fail if one is stuck or raised."""
        self.wait()
        stuck = [thread.name for thread in self.threads if thread.is_alive()]
        assert not stuck, f"workers still running after {WORKER_TIMEOUT} s (a deadlock?): {stuck}"
        assert not self.errors, "a worker failed:\n" + "\n".join(self.errors.values())

    def record_dispatch(self, dispatch):
        """Return a replacement of _dispatch that records which worker handled which sends."""
        workers = self

        def recording_dispatch(sends):
            workers.dispatched.setdefault(threading.current_thread().name, []).extend(sends.ids)
            return dispatch(sends)

        return recording_dispatch


def _slow_create_mails(create_mails, delay=0.2):
    """Return a replacement of _create_mails that takes ``delay`` seconds longer.

    Both workers stay inside a batch, with its sends locked, long enough to overlap.
    """

    def create_mails_slowly(self, rule, plans):
        time.sleep(delay)
        return create_mails(self, rule, plans)

    return create_mails_slowly


def _patch_send_model(registry, workers, on_create_mails=None):
    """Return the patches of the send model for two workers: slow mails, recorded dispatch.

    ``on_create_mails`` is called before each batch's mails are created.
    """
    Send = registry[SEND_MODEL]
    slow_create_mails = _slow_create_mails(Send._create_mails)

    def create_mails(self, rule, plans):
        if on_create_mails:
            on_create_mails()
        return slow_create_mails(self, rule, plans)

    dispatch = workers.record_dispatch(Send._dispatch)
    return (
        patch.object(Send, "_create_mails", create_mails),
        patch.object(Send, "_dispatch", dispatch),
    )


def _assert_disjoint_dispatch(workers, data):
    handled_a = workers.dispatched.get("worker-a", [])
    handled_b = workers.dispatched.get("worker-b", [])
    _logger.info(
        "Two workers: worker A handled %s sends in %s, worker B %s sends in %s",
        len(handled_a), workers.results.get("worker-a"), len(handled_b), workers.results.get("worker-b"),
    )
    assert not set(handled_a) & set(handled_b), "both workers handled the same send"
    assert len(handled_a) == len(set(handled_a)), "worker A handled a send twice"
    assert len(handled_b) == len(set(handled_b)), "worker B handled a send twice"
    assert len(handled_a) + len(handled_b) == len(data.lead_ids)


def _assert_idle_worker_skipped_selection(workers, caplog):
    """Check that a worker that sent nothing found the company's selection locked by the other.

    Once a worker has committed its selection, the other worker can lock only
    the sends after the first batch, so it has work as long as the first
    worker is still in its (slowed) batches.
    """
    skipped = {
        record.threadName
        for record in caplog.records
        if "is being selected by another worker" in record.getMessage()
    }
    for name in ("worker-a", "worker-b"):
        if not workers.dispatched.get(name):
            _logger.info("Two workers: %s sent nothing, because the other held the selection lock", name)
            assert name in skipped, f"{name} sent nothing, yet it did not find the selection locked"


def test_two_workers_start_together(registry, caplog):
    caplog.set_level(logging.INFO, logger="odoo.addons.wholesale_customer_journey")
    data = _create_data(registry, 40)
    workers = Workers(registry, data.rule_ids, batch_size=5)
    try:
        barrier = threading.Barrier(2, timeout=WORKER_TIMEOUT)
        slow_mails, recorded_dispatch = _patch_send_model(registry, workers)
        with slow_mails, recorded_dispatch:
            workers.start("worker-a", lambda env: barrier.wait())
            workers.start("worker-b", lambda env: barrier.wait())
            workers.join()

        _assert_disjoint_dispatch(workers, data)
        _assert_idle_worker_skipped_selection(workers, caplog)
        totals = [workers.results["worker-a"], workers.results["worker-b"]]
        assert sum(total.get("queued", 0) for total in totals) == 40, "each due lead was queued once"
        assert sum(total.get("mail", 0) for total in totals) == 40
        with registry.cursor() as cr:
            _assert_each_lead_mailed_once(cr, data)
    finally:
        # A failed check must not clean up while a worker still commits.
        workers.wait()
        _remove_data(registry, data)


def test_second_worker_joins_mid_dispatch(registry):
    data = _create_data(registry, 40)
    workers = Workers(registry, data.rule_ids, batch_size=5)
    try:
        first_batch_locked = threading.Event()
        slow_mails, recorded_dispatch = _patch_send_model(
            registry, workers, on_create_mails=first_batch_locked.set
        )
        with slow_mails, recorded_dispatch:
            workers.start("worker-a")
            # Worker B starts while worker A holds its first batch of sends locked.
            assert first_batch_locked.wait(timeout=WORKER_TIMEOUT)
            workers.start("worker-b")
            workers.join()

        _assert_disjoint_dispatch(workers, data)
        assert workers.dispatched["worker-a"], "worker A sent nothing"
        assert workers.dispatched["worker-b"], "worker B sent nothing: it never overlapped worker A"
        assert workers.results["worker-a"].get("queued") == 40
        assert workers.results["worker-b"].get("queued", 0) == 0
        total_mails = workers.results["worker-a"].get("mail", 0) + workers.results["worker-b"].get("mail", 0)
        assert total_mails == 40
        with registry.cursor() as cr:
            _assert_each_lead_mailed_once(cr, data)
    finally:
        workers.wait()
        _remove_data(registry, data)


def test_frequency_cap_across_rules_two_workers(registry, caplog):
    caplog.set_level(logging.INFO, logger="odoo.addons.wholesale_customer_journey")
    data = _create_data(registry, 20, rule_count=2)
    workers = Workers(registry, data.rule_ids, batch_size=5)
    try:
        barrier = threading.Barrier(2, timeout=WORKER_TIMEOUT)
        slow_mails, recorded_dispatch = _patch_send_model(registry, workers)
        with slow_mails, recorded_dispatch:
            workers.start("worker-a", lambda env: barrier.wait())
            workers.start("worker-b", lambda env: barrier.wait())
            workers.join()

        _assert_disjoint_dispatch(workers, data)
        _assert_idle_worker_skipped_selection(workers, caplog)
        with registry.cursor() as cr:
            _assert_one_send_per_customer(cr, data)
    finally:
        workers.wait()
        _remove_data(registry, data)


@pytest.mark.parametrize("rules_of_b", ["both", "second"])
def test_worker_with_older_snapshot(registry, rules_of_b):
    """A worker whose transaction began before another worker's selection was committed.

    The scheduled action reads its server action, and the sending action its
    rules, before the selection lock is taken. So at repeatable read a
    worker's snapshot can predate the commit of the sends that another
    worker queued. Worker B runs either both rules, as the scheduled action
    does, or only the second rule.
    """
    data = _create_data(registry, 20, rule_count=2)
    workers = Workers(registry, data.rule_ids, batch_size=5)
    if rules_of_b == "second":
        workers.rule_ids_by_worker["worker-b"] = data.rule_ids[1:]
    try:
        selection_committed = threading.Event()
        Send = registry[SEND_MODEL]
        dispatch_pending = Send._dispatch_pending

        def signal_dispatch_pending(self, rules, batch_size, commit=False):
            if threading.current_thread().name == "worker-a":
                selection_committed.set()
            return dispatch_pending(self, rules, batch_size=batch_size, commit=commit)

        def begin_then_wait(env):
            env.cr.execute("SELECT 1")
            assert selection_committed.wait(timeout=WORKER_TIMEOUT)

        slow_mails, recorded_dispatch = _patch_send_model(registry, workers)
        with slow_mails, recorded_dispatch, patch.object(Send, "_dispatch_pending", signal_dispatch_pending):
            workers.start("worker-b", begin_then_wait)
            workers.start("worker-a")
            workers.join()

        _assert_disjoint_dispatch(workers, data)
        with registry.cursor() as cr:
            _assert_one_send_per_customer(cr, data)
    finally:
        workers.wait()
        _remove_data(registry, data)


def test_batch_lock_retried_after_commit(registry, caplog):
    """A worker locks a batch after another worker sent sends that its snapshot shows as pending.

    Worker B counts the pending sends, which takes its snapshot, then waits
    while worker A sends and commits the first batch. At repeatable read,
    PostgreSQL cannot lock those sends for B: B must lock the others in a
    new snapshot, not fail.
    """
    caplog.set_level(logging.INFO, logger="odoo.addons.wholesale_customer_journey")
    data = _create_data(registry, 10)
    with registry.cursor() as cr:
        env = _environment(cr)
        assert env[RULE_MODEL].browse(data.rule_ids)._queue_due_sends() == 10
    workers = Workers(registry, data.rule_ids, batch_size=5)
    try:
        b_counted = threading.Event()
        a_committed = threading.Event()
        b_locked = threading.Event()
        calls = {"worker-a": 0, "worker-b": 0}
        Send = registry[SEND_MODEL]
        lock_pending_batch = Send._lock_pending_batch

        def lock_in_order(self, rules, batch_size, can_retry=False):
            name = threading.current_thread().name
            calls[name] += 1
            if name == "worker-b" and calls[name] == 1:
                b_counted.set()
                assert a_committed.wait(timeout=WORKER_TIMEOUT)
                try:
                    return lock_pending_batch(self, rules, batch_size, can_retry=can_retry)
                finally:
                    b_locked.set()
            if name == "worker-a" and calls[name] == 2:
                # Worker A committed its first batch.
                a_committed.set()
                assert b_locked.wait(timeout=WORKER_TIMEOUT)
            return lock_pending_batch(self, rules, batch_size, can_retry=can_retry)

        dispatch = workers.record_dispatch(Send._dispatch)
        with patch.object(Send, "_lock_pending_batch", lock_in_order), patch.object(Send, "_dispatch", dispatch):
            workers.start("worker-b")
            assert b_counted.wait(timeout=WORKER_TIMEOUT)
            workers.start("worker-a")
            workers.join()

        _assert_disjoint_dispatch(workers, data)
        assert len(workers.dispatched["worker-a"]) == 5
        assert len(workers.dispatched["worker-b"]) == 5
        assert "locking again" in caplog.text, "worker B did not meet the sends that worker A sent"
        with registry.cursor() as cr:
            _assert_each_lead_mailed_once(cr, data)
    finally:
        workers.wait()
        _remove_data(registry, data)
