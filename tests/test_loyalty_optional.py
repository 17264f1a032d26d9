"""The journey addon works without Odoo's loyalty app; installing the app brings the glue addon.

The tests share one throwaway database with the journey addon's
dependencies, and run in file order: the addon alone, then sale_loyalty
(which auto-installs wholesale_customer_journey_loyalty), then the glue
addon's uninstall.
"""

import pytest
from conftest import last_json_line as _json, template_copy

GLUE = "wholesale_customer_journey_loyalty"

SUGGESTIONS = """
import json
Suggestion = env["customer.journey.suggestion"]
mine = [("partner_id.name", "=", "Klant zonder coupon")]
print(json.dumps({
    "count": Suggestion.search_count(mine),
    "sent": Suggestion.search_count(mine + [("state", "=", "sent")]),
    "has_offer_field": "loyalty_program_id" in Suggestion._fields,
}))
"""


@pytest.fixture(scope="module")
def loyalty_db(fresh_db_template):
    with template_copy(fresh_db_template, "wcj_loyalty") as database:
        yield database


def test_suggestion_mail_without_loyalty(loyalty_db):
    loyalty_db.install()

    assert loyalty_db.module_state() == "installed"
    assert loyalty_db.module_state("sale_loyalty") in (None, "uninstalled")
    assert loyalty_db.module_state(GLUE) in (None, "uninstalled")
    output = loyalty_db.run_python(
        """
from datetime import timedelta
from odoo import Command, fields
Product = env["product.product"]
pot = Product.create({"name": "Pot zonder coupon", "type": "consu", "list_price": 30})
saucer = Product.create({"name": "Schotel zonder coupon", "type": "consu", "list_price": 4})
env["customer.journey.cross.sell.rule"].create({
    "level": "product", "antecedent_product_id": pot.id, "consequent_product_id": saucer.id,
    "window_days": 30, "median_quantity": 6,
})
customer = env["res.partner"].create({
    "name": "Klant zonder coupon", "is_company": True, "email": "inkoop@zonder-coupon.example",
    "user_id": env.ref("base.user_admin").id,
})
order = env["sale.order"].create({
    "partner_id": customer.id, "order_line": [Command.create({"product_id": pot.id, "product_uom_qty": 1})],
})
order.action_confirm()
env["ir.config_parameter"].set_param("wholesale_customer_journey.suggestion_follow_up", "mail")
env["customer.journey.suggestion"]._cron_generate_suggestions()
"""
        + SUGGESTIONS
    )

    result = _json(output)
    assert result == {"count": 1, "sent": 1, "has_offer_field": False}


def test_loyalty_app_brings_the_glue_addon(loyalty_db):
    loyalty_db.install("sale_loyalty")

    assert loyalty_db.module_state(GLUE) == "installed", "the glue addon installs itself with sale_loyalty"
    result = _json(loyalty_db.run_python(SUGGESTIONS))
    assert result == {"count": 1, "sent": 1, "has_offer_field": True}


def test_uninstall_glue_keeps_suggestions(loyalty_db):
    log = loyalty_db.uninstall(GLUE)

    assert loyalty_db.module_state(GLUE) == "uninstalled"
    assert loyalty_db.module_state() == "installed"
    assert [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line] == []
    result = _json(loyalty_db.run_python(SUGGESTIONS))
    assert result == {"count": 1, "sent": 1, "has_offer_field": False}
