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


def test_unknown_salesperson_rejected(env, tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(
        "invoice,stock_code,quantity,invoice_date,unit_price,customer_id\n"
        "900001,900A,6,2011-01-02 08:26:00,2.55,90001\n",
        encoding="utf-8",
    )

    result = subprocess.run(
        [sys.executable, str(LAUNCHER), "--database", env.cr.dbname, "--salesperson", "nobody_here", str(history)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 1, result.stderr[-2000:]
    assert "--salesperson nobody_here: no internal user has this login" in result.stderr
