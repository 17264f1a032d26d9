#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time the command-line sales-history import on the full Online Retail file.

Imports the first half of the file's lines into ``--half-database``, then the
whole file into ``--database``, each in its own process, and prints the wall
time, lines per second and peak memory (RSS) of each run. Equal peak memory
for both runs shows that memory does not grow with the file size. The caller
creates both databases with the addon installed, for example:

    python3 -m odoo -d imp_full -i wholesale_customer_journey --without-demo=all --stop-after-init
    createdb -T imp_full imp_half
    benchmarks/bench_import_sales_history.py --database imp_full --half-database imp_half

The half file is written to a temporary folder and removed afterwards.
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench_common import PROJECT_ROOT, machine

DEFAULT_FILE = PROJECT_ROOT.parent / "shared" / "datasets" / "online-retail" / "online_retail_2010-12_2011-12.csv.gz"
LAUNCHER = PROJECT_ROOT / "scripts" / "import-sales-history"


def write_head(source, target, data_lines):
    """Write the header and the first ``data_lines`` lines of ``source`` to ``target``, gzipped."""
    with gzip.open(source, "rb") as reader, gzip.open(target, "wb") as writer:
        writer.write(reader.readline())
        for _index, line in zip(range(data_lines), reader):
            writer.write(line)


def count_lines(path):
    with gzip.open(path, "rb") as reader:
        return sum(1 for _line in reader) - 1


def run_import(database, path, extra_arguments):
    """Run the command-line import in a child process and return (seconds, peak RSS MiB, output)."""
    command = [sys.executable, str(LAUNCHER), "--database", database, "--tz", "Europe/London",
               *extra_arguments, str(path)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = process.stdout.read()
    # wait4 gives the resource usage of this child alone.
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit("error: the import into %s exited with %s:\n%s" % (database, process.returncode, output))
    return seconds, usage.ru_maxrss / 1024, output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="database for the whole file, addon installed")
    parser.add_argument("--half-database", help="database for the first half of the lines, addon installed")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="CSV file (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, help="invoices per batch (default: the command's)")
    options = parser.parse_args()
    extra = ["--batch-size", str(options.batch_size)] if options.batch_size else []

    print("Machine:", machine())
    total_lines = count_lines(options.file)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        if options.half_database:
            half = Path(folder) / "half.csv.gz"
            write_head(options.file, half, total_lines // 2)
            runs.append(("first %s lines" % (total_lines // 2), options.half_database, half, total_lines // 2))
        runs.append(("all %s lines" % total_lines, options.database, options.file, total_lines))
        for label, database, path, lines in runs:
            seconds, peak_rss, output = run_import(database, path, extra)
            print("\n== %s into %s" % (label, database))
            print(output.rstrip())
            print("Measured by the benchmark: %.1f s wall, %.0f lines/s, peak RSS %.0f MiB"
                  % (seconds, lines / seconds, peak_rss))


if __name__ == "__main__":
    main()
