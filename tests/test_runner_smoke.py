"""Smoke test of the test runner: the fixtures reach the installed addon."""

ADDON_NAME = "wholesale_customer_journey"


def test_env_sees_installed_addon(env):
    module = env["ir.module.module"].search([("name", "=", ADDON_NAME)])
    assert module, f"module {ADDON_NAME} is not known to the test database"
    assert module.state == "installed"
