"""setup.py installs the addons, with every data file, into the odoo.addons namespace."""

import ast
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ADDON_NAMES = ("wholesale_customer_journey", "wholesale_customer_journey_loyalty")


def test_pip_install_ships_manifest_files(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
         "--target", str(tmp_path), str(PROJECT_ROOT)],
        check=True,
        capture_output=True,
    )
    assert not (tmp_path / "odoo" / "__init__.py").exists(), "odoo must stay a namespace, not shadow Odoo"
    assert not (tmp_path / "odoo" / "addons" / "__init__.py").exists()
    for name in ADDON_NAMES:
        _check_installed_addon(tmp_path / "odoo" / "addons" / name, PROJECT_ROOT / name)


def _check_installed_addon(installed, source):
    assert (installed / "__manifest__.py").is_file(), f"{installed.name} is not installed"

    manifest = ast.literal_eval((installed / "__manifest__.py").read_text())
    for data_file in manifest["data"] + manifest.get("demo", []):
        assert (installed / data_file).is_file(), f"{data_file} is missing from the package"
    source_files = {
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    installed_files = {
        path.relative_to(installed) for path in installed.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert source_files - installed_files == set()
