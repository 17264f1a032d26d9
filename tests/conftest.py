"""Fixtures for the project tests in tests/ (run them with scripts/test).

pytest-odoo has already parsed Odoo's configuration (database, addons path,
db_host/db_port/db_user) and loaded the registry of the test database, in
which scripts/test installed wholesale_customer_journey with demo data.

Fixtures:
    registry  the Odoo registry of the test database (session scope)
    cr        a new cursor per test, rolled back at teardown
    env       an Environment(cr, SUPERUSER_ID, {}) on that cursor
    fresh_db  a factory of throwaway databases for install, upgrade and
              uninstall tests; see FreshDatabase

`cr` only isolates tests that do not commit: code under test that calls
cr.commit() writes to the shared test database. Use fresh_db for such code.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import odoo
import odoo.sql_db
from odoo.modules.registry import Registry
from odoo.tools import config as odoo_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import _odoo_env  # noqa: E402  (needs the sys.path entry above)

ADDON_NAME = _odoo_env.ADDON_NAME
# Each Odoo command of a test gets at most this many seconds.
ODOO_COMMAND_TIMEOUT = 1200

# Child-process script: runs the code from stdin with `env` (superuser) and
# `odoo` defined, on the database named on the command line. It commits at
# the end unless the code raises.
_RUN_PYTHON_SCRIPT = """
import sys
import odoo
from odoo.tools import config
config.parse_config(sys.argv[1:])
registry = odoo.modules.registry.Registry(config["db_name"])
with registry.cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    code = compile(sys.stdin.read(), "<run_python>", "exec")
    exec(code, {"env": env, "odoo": odoo})
"""


def current_pg_connection() -> _odoo_env.PgConnection:
    """Return the PostgreSQL settings that this pytest run was given."""
    return _odoo_env.PgConnection(
        host=odoo_config["db_host"] or None,
        port=int(odoo_config["db_port"]) if odoo_config["db_port"] else None,
        user=odoo_config["db_user"] or None,
    )


def _child_env() -> dict[str, str]:
    """Return an environment in which child processes import this same Odoo."""
    env = dict(os.environ)
    source_dir = str(Path(odoo.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_dir, env.get("PYTHONPATH")]))
    return env


def run_odoo(db: str, *args: str, timeout: int = ODOO_COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    """Run an Odoo server command (e.g. "-i", "crm") on db and wait for it.

    Adds --stop-after-init and --no-http. Raises AssertionError with the end
    of the output when Odoo exits non-zero.
    """
    command = _odoo_env.odoo_cli(
        f"--database={db}",
        f"--addons-path={odoo_config['addons_path']}",
        *current_pg_connection().odoo_args(),
        "--stop-after-init",
        "--no-http",
        "--log-level=warn",
        *args,
    )
    return _run_checked(command, timeout=timeout)


def run_python(db: str, code: str, timeout: int = ODOO_COMMAND_TIMEOUT) -> str:
    """Run Python code in a child process with `env` on db, commit, and return its stdout.

    Example: run_python(db, "print(env['res.partner'].search_count([]))").
    """
    return run_python_process(db, code, timeout).stdout


def run_python_process(db: str, code: str, timeout: int = ODOO_COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    """Run Python code like run_python and return the finished process, with its log on stderr."""
    command = [
        sys.executable,
        "-c",
        _RUN_PYTHON_SCRIPT,
        f"--database={db}",
        f"--addons-path={odoo_config['addons_path']}",
        *current_pg_connection().odoo_args(),
        "--log-level=warn",
    ]
    return _run_checked(command, timeout=timeout, stdin=code)


def _run_checked(command: list[str], timeout: int, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_child_env(),
        cwd=PROJECT_ROOT,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise AssertionError(
            f"command failed with exit code {result.returncode}: {' '.join(command[:3])} ...\n"
            + "\n".join(output[-60:])
        )
    return result


def addon_dependencies() -> list[str]:
    """Return the `depends` list of the addon's manifest, sorted."""
    manifest_file = PROJECT_ROOT / ADDON_NAME / "__manifest__.py"
    manifest = ast.literal_eval(manifest_file.read_text(encoding="utf-8"))
    return sorted(manifest.get("depends", []))


def template_name(dependencies: list[str]) -> str:
    """Return the template database name for these dependencies and this Odoo version.

    NOTE: the key holds Odoo's release version (18.0), not its source
    revision, so after updating Odoo's source drop the wcj_tpl_* databases.
    """
    key = ",".join(dependencies) + "|" + odoo.release.version + "|demo"
    return "wcj_tpl_" + hashlib.sha256(key.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------
# Fixtures on the test database
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def registry():
    return Registry(odoo_config["db_name"])


@pytest.fixture
def cr(registry):
    cursor = registry.cursor()
    try:
        yield cursor
    finally:
        cursor.rollback()
        cursor.close()


@pytest.fixture
def env(cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


# --------------------------------------------------------------------------
# Throwaway databases
# --------------------------------------------------------------------------


class FreshDatabase:
    """A throwaway database copied from the template (dependencies installed, not the addon)."""

    def __init__(self, name: str):
        self.name = name

    def odoo(self, *args: str) -> subprocess.CompletedProcess:
        """Run an Odoo server command on this database, e.g. db.odoo("-u", "crm")."""
        return run_odoo(self.name, *args)

    def install(self, modules: str = ADDON_NAME) -> None:
        """Install comma-separated modules with demo data (-i)."""
        self.odoo(f"--init={modules}", "--without-demo=")

    def upgrade(self, modules: str = ADDON_NAME) -> None:
        """Update comma-separated modules (-u)."""
        self.odoo(f"--update={modules}")

    def uninstall(self, module: str = ADDON_NAME) -> str:
        """Uninstall a module the way the Apps menu does, and return the log."""
        return run_python_process(
            self.name,
            f"env['ir.module.module'].search([('name', '=', {module!r})])"
            ".button_immediate_uninstall()",
        ).stderr

    def run_python(self, code: str) -> str:
        """Run code with `env` on this database, commit, and return its stdout."""
        return run_python(self.name, code)

    def module_state(self, module: str = ADDON_NAME) -> str | None:
        """Return the module's state, e.g. 'installed' or 'uninstalled'."""
        return _odoo_env.module_state(current_pg_connection(), self.name, module)


@pytest.fixture(scope="session")
def fresh_db_template() -> str:
    """Return the name of the template database, building it on first use.

    The template has the addon's dependencies installed with demo data and
    is kept across runs, because building it takes minutes.
    """
    pg = current_pg_connection()
    dependencies = addon_dependencies()
    name = template_name(dependencies)

    # The advisory lock makes parallel runs wait for one build instead of
    # building the same template twice.
    lock = pg.connect()
    lock.autocommit = True
    try:
        with lock.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        if _template_is_complete(pg, name, dependencies):
            return name
        _build_template(pg, name, dependencies)
    finally:
        lock.close()
    return name


def _template_is_complete(pg, name: str, dependencies: list[str]) -> bool:
    if not _odoo_env.database_exists(pg, name):
        return False
    return all(_odoo_env.module_state(pg, name, module) == "installed" for module in dependencies)


def _build_template(pg, name: str, dependencies: list[str]) -> None:
    """Install the dependencies into a temporary database, then rename it to name.

    Building under another name means an interrupted build never leaves a
    half-installed template behind under the final name.
    """
    building = f"{name}_build_{os.getpid()}"
    _drop(pg, building)
    _drop(pg, name)
    run_odoo(building, f"--init={','.join(dependencies)}", "--without-demo=")
    odoo.sql_db.close_db(building)
    _execute_autocommit(pg, f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    built_filestore = Path(odoo_config.filestore(building))
    if built_filestore.exists():
        built_filestore.rename(odoo_config.filestore(name))


def _execute_autocommit(pg, statement: str) -> None:
    connection = pg.connect()
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _drop(pg, name: str) -> None:
    """Drop a database and its filestore if they exist."""
    # odoo.service.db.exp_drop() would skip it: with --database set, Odoo
    # lists only that database as existing.
    odoo.sql_db.close_db(name)
    _odoo_env.drop_database_sql(pg, name)
    shutil.rmtree(odoo_config.filestore(name), ignore_errors=True)


@contextlib.contextmanager
def template_copy(template: str, prefix: str):
    """Yield a FreshDatabase copied from the template database, and drop it on exit."""
    pg = current_pg_connection()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _execute_autocommit(pg, f'CREATE DATABASE "{name}" ENCODING \'unicode\' TEMPLATE "{template}"')
    try:
        yield FreshDatabase(name)
    finally:
        _drop(pg, name)


def last_json_line(output: str):
    """Return the JSON value printed on the last line of a script's output."""
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture
def fresh_db(fresh_db_template):
    """Return a factory: each call copies the template into a new FreshDatabase.

    The copies are dropped after the test.
    """
    pg = current_pg_connection()
    created = []

    def create() -> FreshDatabase:
        name = f"wcj_fresh_{uuid.uuid4().hex[:12]}"
        created.append(name)
        _execute_autocommit(
            pg, f'CREATE DATABASE "{name}" ENCODING \'unicode\' TEMPLATE "{fresh_db_template}"'
        )
        # Attachments such as compiled assets live in the filestore, which a
        # template copy of the database does not include.
        template_filestore = Path(odoo_config.filestore(fresh_db_template))
        if template_filestore.exists():
            shutil.copytree(template_filestore, odoo_config.filestore(name))
        return FreshDatabase(name)

    yield create

    for name in created:
        _drop(pg, name)
