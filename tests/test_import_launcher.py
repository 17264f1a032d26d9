"""The sales-history import launcher loads the addon from a source checkout."""

import subprocess
import sys
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent.parent / "scripts" / "import-sales-history"


def test_launcher_loads_addon():
    # --help runs after the launcher imported the addon, whose models import other
    # addons (web, link_tracker): a missing folder in odoo.addons fails here.
    result = subprocess.run([sys.executable, str(LAUNCHER), "--help"], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "--database" in result.stdout
