"""Two transactions capturing the same event record one touchpoint.

This test commits into the test database, and removes what it committed.
"""

import threading
import time
import uuid

import odoo


def test_same_event_in_two_transactions(registry):
    key = f"concurrency-test,{uuid.uuid4().hex}"
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        partner_id = env["res.partner"].create({"name": "Gelijktijdige Klant", "is_company": True}).id
    vals = {"name": "Beursgesprek", "partner_id": partner_id, "channel": "trade_fair", "source_key": key}
    second_result = {}

    def capture_in_second_transaction():
        with registry.cursor() as cr_b:
            env_b = odoo.api.Environment(cr_b, odoo.SUPERUSER_ID, {})
            second_result["ids"] = env_b["customer.journey.touchpoint"]._record_touchpoints([dict(vals)]).ids

    try:
        with registry.cursor() as cr_a:
            env_a = odoo.api.Environment(cr_a, odoo.SUPERUSER_ID, {})
            first = env_a["customer.journey.touchpoint"]._record_touchpoints([dict(vals)])
            assert len(first) == 1
            second = threading.Thread(target=capture_in_second_transaction)
            second.start()
            # The second transaction now waits on the unique index for this one.
            time.sleep(1)
            assert second.is_alive(), "the second transaction must wait for the first"
            cr_a.commit()
        second.join(timeout=30)

        assert not second.is_alive()
        assert second_result["ids"] == [], "the second transaction records nothing"
        with registry.cursor() as cr:
            cr.execute("SELECT COUNT(*) FROM customer_journey_touchpoint WHERE source_key = %s", [key])
            assert cr.fetchone()[0] == 1
    finally:
        with registry.cursor() as cr:
            cr.execute("DELETE FROM customer_journey_touchpoint WHERE source_key = %s", [key])
            cr.execute("DELETE FROM res_partner WHERE id = %s", [partner_id])
