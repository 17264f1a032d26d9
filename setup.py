# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Install the addons into the ``odoo.addons`` namespace.

``pip install .`` puts the addons at ``odoo/addons/wholesale_customer_journey``
and ``odoo/addons/wholesale_customer_journey_loyalty`` in site-packages, where
Odoo finds them without a change to the addons path (``odoo.addons`` is a
namespace package that spans every ``sys.path`` entry).
"""
import ast
from pathlib import Path

from setuptools import setup

# The first addon names the distribution and gives its version and summary.
ADDONS = ("wholesale_customer_journey", "wholesale_customer_journey_loyalty")
ROOT = Path(__file__).resolve().parent
MANIFEST = ast.literal_eval((ROOT / ADDONS[0] / "__manifest__.py").read_text())
DATA_SUFFIXES = {".xml", ".csv", ".po", ".pot", ".js", ".scss", ".css", ".png", ".svg", ".html", ".md", ".rst"}


def addon_packages():
    """Return the addons' Python packages, mapped into ``odoo.addons``."""
    packages = {}
    for init in sorted(init for addon in ADDONS for init in (ROOT / addon).rglob("__init__.py")):
        relative = init.parent.relative_to(ROOT)
        packages[".".join(("odoo", "addons", *relative.parts))] = str(relative)
    return packages


def addon_data(packages):
    """Return the non-Python files of each package: views, data, translations, assets."""
    data = {}
    for package, folder in packages.items():
        base = ROOT / folder
        data[package] = [
            str(path.relative_to(base))
            for path in base.rglob("*")
            if path.is_file() and path.suffix in DATA_SUFFIXES and _owning_package(path) == base
        ]
    return data


def _owning_package(path):
    """Return the folder of the innermost Python package that contains ``path``."""
    for parent in path.parents:
        if (parent / "__init__.py").exists():
            return parent
    return None


PACKAGES = addon_packages()

setup(
    name="odoo-addon-wholesale_customer_journey",
    version=MANIFEST["version"],
    description=MANIFEST["summary"],
    license="LGPL-3",
    author=MANIFEST["author"],
    python_requires=">=3.10",
    packages=list(PACKAGES),
    package_dir=PACKAGES,
    package_data=addon_data(PACKAGES),
    include_package_data=False,
    zip_safe=False,
)
