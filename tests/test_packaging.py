"""setup.py installs the addon, with every data file, into the odoo.addons namespace."""

import ast
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ADDON_NAME = "wholesale_customer_journey"


def test_pip_install_ships_manifest_files(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
         "--target", str(tmp_path), str(PROJECT_ROOT)],
        check=True,
        capture_output=True,
    )
    installed = tmp_path / "odoo" / "addons" / ADDON_NAME
    assert (installed / "__manifest__.py").is_file()
    assert not (tmp_path / "odoo" / "__init__.py").exists(), "odoo must stay a namespace, not shadow Odoo"
    assert not (tmp_path / "odoo" / "addons" / "__init__.py").exists()

    manifest = ast.literal_eval((installed / "__manifest__.py").read_text())
    for data_file in manifest["data"] + manifest.get("demo", []):
        assert (installed / data_file).is_file(), f"{data_file} is missing from the package"
    source_files = {
        path.relative_to(PROJECT_ROOT / ADDON_NAME)
        for path in (PROJECT_ROOT / ADDON_NAME).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    installed_files = {
        path.relative_to(installed) for path in installed.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert source_files - installed_files == set()
