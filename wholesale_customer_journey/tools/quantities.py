# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Quantities of sale order lines summed in the product's unit of measure."""


def min_net_quantity(env):
    """Return the smallest net quantity that counts as bought: half the last digit of a quantity.

    Lines that cancel out leave a remainder once converted to the product's
    unit of measure or summed as floats: 1 dozen sold and 12 units returned,
    or 0.1 + 0.2 - 0.3. Mining, the re-order cycles and the conversion of
    suggestions compare a net quantity with this value instead of 0.
    """
    return 0.5 * 10 ** -env["decimal.precision"].precision_get("Product Unit of Measure")
