"""Install on a database with history, nightly recompute, upgrade and uninstall.

The tests of this module share one throwaway database, copied from a
template with the addon's dependencies and their demo data (customers,
leads, quotations and confirmed orders), and run in file order: install,
cron, upgrade, uninstall.
"""

import pytest
from conftest import last_json_line as _json, template_copy

ADDON_NAME = "wholesale_customer_journey"

BUSINESS_RECORDS = """
import json
print(json.dumps({
    "partners": env["res.partner"].with_context(active_test=False).search([]).ids,
    "leads": env["crm.lead"].with_context(active_test=False).search([]).ids,
    "orders": env["sale.order"].search([]).ids,
    "confirmed": env["sale.order"].search([("state", "=", "sale")]).ids,
}))
"""

STAGES_OF_CUSTOMERS = """
import json
env.cr.execute('''
    SELECT p.commercial_partner_id, MIN(so.date_order)
      FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
     WHERE so.state = 'sale'
  GROUP BY p.commercial_partner_id''')
first_order = {partner_id: date for partner_id, date in env.cr.fetchall()}
conversion = env.ref("wholesale_customer_journey.stage_conversion")
result = {}
for partner in env["res.partner"].browse(list(first_order)):
    history = env["customer.journey.history"].search([("partner_id", "=", partner.id)], order="date_start, id")
    entered = history.filtered(lambda row: row.stage_id.sequence >= conversion.sequence)[:1]
    result[partner.id] = {
        "stage_sequence": partner.journey_stage_id.sequence,
        "conversion_sequence": conversion.sequence,
        "first_order": str(first_order[partner.id]),
        "entered_conversion": str(entered.date_start) if entered else None,
        "history_rows": len(history),
        "ends_open": bool(history) and not history[-1].date_end,
    }
env.cr.execute('''
    SELECT COUNT(*) FROM res_partner p
     WHERE p.journey_stage_id IS NOT NULL AND p.id = p.commercial_partner_id
       AND NOT EXISTS (SELECT 1 FROM sale_order so JOIN res_partner c ON c.id = so.partner_id
                        WHERE c.commercial_partner_id = p.id AND so.state IN ('sent', 'sale'))
       AND NOT EXISTS (SELECT 1 FROM crm_lead l JOIN res_partner c ON c.id = l.partner_id
                        WHERE c.commercial_partner_id = p.id)
       AND NOT EXISTS (SELECT 1 FROM customer_journey_history h
                        WHERE h.partner_id = p.id AND h.event_code = 'manual')''')
print(json.dumps({"customers": result, "staged_without_records": env.cr.fetchone()[0]}))
"""


@pytest.fixture(scope="module")
def lifecycle_db(fresh_db_template):
    """Copy the template once for this module, and drop it afterwards."""
    with template_copy(fresh_db_template, "wcj_lifecycle") as database:
        database.records_before = _json(database.run_python(BUSINESS_RECORDS))
        yield database


def test_install_backfills_customers_from_history(lifecycle_db):
    assert lifecycle_db.records_before["confirmed"], "the template needs confirmed orders"

    lifecycle_db.install()

    state = _json(lifecycle_db.run_python(STAGES_OF_CUSTOMERS))
    customers = state["customers"]
    assert customers, "no customer with a confirmed order"
    for partner_id, row in customers.items():
        assert row["stage_sequence"] >= row["conversion_sequence"], f"partner {partner_id} not converted: {row}"
        assert row["entered_conversion"] is not None, f"partner {partner_id} has no history: {row}"
        assert row["entered_conversion"] >= row["first_order"], f"partner {partner_id}: {row}"
        assert row["ends_open"], f"partner {partner_id}: the last history row must be open"
    assert any(row["entered_conversion"] == row["first_order"] for row in customers.values()), (
        "history rows are dated from the orders"
    )
    assert state["staged_without_records"] == 0


def test_cron_recompute_commits_and_reports_progress(lifecycle_db):
    output = lifecycle_db.run_python(
        """
import json
customer = env["res.partner"].create({"name": "Cron Klant", "is_company": True})
print(json.dumps({"partner": customer.id}))
order = env["sale.order"].create({"partner_id": customer.id})
env.cr.execute("UPDATE sale_order SET state = 'sale' WHERE id = %s", [order.id])
env.invalidate_all()
cron = env.ref("wholesale_customer_journey.ir_cron_recompute_stages")
cron.method_direct_trigger()
progress = env["ir.cron.progress"].search([("cron_id", "=", cron.id)], order="id desc", limit=1)
print(json.dumps({
    "stage": customer.journey_stage_id.name,
    "done": progress.done,
    "remaining": progress.remaining,
}))
"""
    )
    lifecycle_db.cron_partner_id = _json(output.strip().splitlines()[-2])["partner"]
    result = _json(output)
    assert result["stage"] == "Conversion"
    assert result["done"] >= 1
    assert result["remaining"] == 0


def test_upgrade_keeps_journey_data(lifecycle_db):
    before = lifecycle_db.run_python("print(env['customer.journey.history'].search_count([]))").split()[-1]

    lifecycle_db.upgrade()

    after = lifecycle_db.run_python("print(env['customer.journey.history'].search_count([]))").split()[-1]
    assert int(after) == int(before) > 0
    assert lifecycle_db.module_state() == "installed"


def test_uninstall_keeps_partners_leads_orders(lifecycle_db):
    """Records that are not the addon's own demo data survive the uninstall."""
    log = lifecycle_db.uninstall()

    assert lifecycle_db.module_state() == "uninstalled"
    errors = [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert errors == [], "the uninstall logs errors"
    after = _json(lifecycle_db.run_python(BUSINESS_RECORDS))
    for kind, ids in lifecycle_db.records_before.items():
        missing = set(ids) - set(after[kind])
        assert not missing, f"{kind} lost by the uninstall: {sorted(missing)}"
    assert lifecycle_db.cron_partner_id in after["partners"], "a customer created while installed is kept"
    tables = lifecycle_db.run_python(
        """
env.cr.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE 'customer_journey%%'")
print(env.cr.fetchone()[0])
env.cr.execute('''SELECT COUNT(*) FROM information_schema.columns
                   WHERE table_name = 'res_partner' AND column_name LIKE 'journey%%' ''')
print(env.cr.fetchone()[0])
"""
    ).split()
    assert tables[-2:] == ["0", "0"], "journey tables and partner columns are removed"
