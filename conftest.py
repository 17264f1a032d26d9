"""Project-wide pytest hooks, for the addon's Odoo tests and the tests in tests/.

1. A skipped test fails the run. A tour that does not run is not a passing
   tour: Odoo's HttpCase skips its browser tests when Chrome is missing or
   will not start, and such a run must not look green. Every skip (at
   collection, setup or call) is listed at the end and the exit status
   becomes 1. Expected failures (xfail) are not counted as skips.
2. Odoo 18.0 reads odoo.modules.module.current_test to skip sending mail
   (ir.mail_server) and to check that HTTP requests in an HttpCase belong to
   the running test. Odoo's own runner sets it, and pytest-odoo 2.3.0 sets
   it only for Odoo 19+, so for 18.0 it is set here.
3. odoo.tests is imported once in test mode, so that pytest-odoo's startup
   does not log Odoo's "Importing test framework" error.
"""

from __future__ import annotations

import pytest


class SkipsAreFailures:
    """Plugin that records every skip and turns a passing run into a failed one."""

    def __init__(self):
        self.skips: list[tuple[str, str]] = []

    def _record(self, report) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, _skip_reason(report)))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report):
        if report.when in ("setup", "call"):
            self._record(report)

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report):
        # A module skipped at import (pytest.importorskip, allow_module_level)
        # hides every test in it.
        self._record(report)

    def pytest_sessionfinish(self, session, exitstatus):
        if self.skips and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if not self.skips:
            return
        terminalreporter.section("skipped tests are failures", sep="=", red=True, bold=True)
        terminalreporter.line(
            "a tour that does not run is not a passing tour: fix the cause of each skip below"
        )
        for nodeid, reason in self.skips:
            terminalreporter.line(f"SKIPPED {nodeid or '<collection>'}: {reason}", red=True)


def _skip_reason(report) -> str:
    # A skip's longrepr is (path, line number, "Skipped: <reason>").
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


def pytest_configure(config):
    config.pluginmanager.register(SkipsAreFailures(), "wcj-skips-are-failures")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_cmdline_main(config):
    # tryfirst makes this wrapper run before pytest-odoo's, which imports
    # odoo.tests.
    if config.getoption("--odoo-database", default=None):
        _import_odoo_test_framework()
    return (yield)


def _import_odoo_test_framework() -> None:
    """Import odoo.tests with test mode on, then restore it.

    Importing odoo.tests outside test mode logs an ERROR with a stack trace,
    and pytest-odoo imports it at startup, while test mode is still off.
    Test mode stays off until pytest-odoo turns it on around each test
    module, because loading the registry with it on would make Odoo run
    every installed module's tests.
    """
    from odoo.tools import config as odoo_config

    test_enable = odoo_config["test_enable"]
    odoo_config["test_enable"] = True
    try:
        import odoo.tests.common  # noqa: F401
    finally:
        odoo_config["test_enable"] = test_enable


@pytest.fixture(autouse=True)
def _odoo_current_test(request):
    """Set Odoo's current test for the duration of each test.

    An Odoo test case registers itself, as Odoo's test suite does. Any other
    test gets True, as during Odoo's test loading, which is enough to keep
    mail from being sent.
    """
    if not request.config.getoption("--odoo-database", default=None):
        yield
        return
    from odoo.modules import module
    from odoo.tests.common import BaseCase

    instance = request.instance
    module.current_test = instance if isinstance(instance, BaseCase) else True
    try:
        yield
    finally:
        module.current_test = False
