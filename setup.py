# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Install the addon into the ``odoo.addons`` namespace.

``pip install .`` puts the addon at ``odoo/addons/wholesale_customer_journey``
in site-packages, where Odoo finds it without a change to the addons path
(``odoo.addons`` is a namespace package that spans every ``sys.path`` entry).
"""
import ast
from pathlib import Path

from setuptools import setup

ADDON = "wholesale_customer_journey"
ROOT = Path(__file__).resolve().parent
MANIFEST = ast.literal_eval((ROOT / ADDON / "__manifest__.py").read_text())
DATA_SUFFIXES = {".xml", ".csv", ".po", ".pot", ".js", ".scss", ".css", ".png", ".svg", ".html", ".md", ".rst"}


def addon_packages():
    """Return the addon's Python packages, mapped into ``odoo.addons``."""
    packages = {}
    for init in sorted((ROOT / ADDON).rglob("__init__.py")):
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
