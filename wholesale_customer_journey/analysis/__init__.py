# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Statistics of cross-sell rules and re-order cycles, in plain Python without Odoo.

The scheduled actions compute the same measures in SQL over the order lines.
These functions define them, check the thresholds, and serve as the
reference that the SQL is tested against on small histories.
"""
