# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Helpers shared by the benchmark scripts: databases, registries, machine facts."""
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import _odoo_env  # noqa: E402  (needs the sys.path entry above)

DEPENDENCIES = "contacts,crm,mail,sale_crm,utm"
ADDON = "wholesale_customer_journey"


def odoo_install():
    """Return the Odoo 18.0 installation the project's commands use."""
    return _odoo_env.find_odoo()


def addons_path():
    return _odoo_env.addons_path(odoo_install())


def run_odoo(db, *args):
    """Run an Odoo command on ``db`` in a child process and fail loudly."""
    install = odoo_install()
    command = [sys.executable, "-m", "odoo", "-d", db, f"--addons-path={addons_path()}", "--stop-after-init",
               "--log-level=warn", *args]
    env = _odoo_env.child_env(install)
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: odoo {' '.join(args)} failed on {db}:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def drop_db(db):
    """Close this process's connections to ``db``, then drop it."""
    import odoo.sql_db

    odoo.sql_db.close_db(db)
    subprocess.run(["dropdb", "--if-exists", db], check=True)


_config_parsed = False


def open_registry(db):
    """Return a fresh registry of ``db``, parsing Odoo's configuration once."""
    global _config_parsed
    import odoo
    from odoo.tools import config

    if not _config_parsed:
        # Odoo's parser cannot run twice in one process.
        config.parse_config([f"--addons-path={addons_path()}", "--log-level=warn"])
        _config_parsed = True
    config["db_name"] = db
    odoo.modules.registry.Registry.delete(db)
    return odoo.modules.registry.Registry(db)


@contextmanager
def environment(registry):
    import odoo

    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def machine():
    """Return a one-line description of this machine for docs/benchmarks.md."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        pg = subprocess.run(["psql", "-At", "-c", "SHOW server_version", "postgres"], capture_output=True,
                            text=True).stdout.strip()
    except OSError:
        pg = "?"
    return (f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), {memory:.0f} GiB RAM, "
            f"Python {platform.python_version()}, PostgreSQL {pg}")
