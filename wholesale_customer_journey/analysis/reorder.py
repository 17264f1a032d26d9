# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Re-order cycles: how often a customer buys a product again, when it is regular.

The cycle of a customer and a product needs purchases on at least
``MIN_PURCHASE_DAYS`` separate days. Its interval is the median of the gaps
between those days. Its spread is the median absolute deviation of the gaps
divided by that median. The spread is 0 for a customer who orders like
clockwork, and 1 when the gaps typically differ from the median by the
median itself. A cycle with
a spread above ``max_spread`` is irregular: it gets no expected next order
date, because a guess would be wrong as often as right.
"""
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

MIN_PURCHASE_DAYS = 3
DEFAULT_MAX_SPREAD = 0.5


@dataclass(frozen=True)
class ReorderCycle:
    """Re-order cycle of one customer and one product."""

    purchase_days: int
    median_interval: float
    spread: float
    typical_quantity: float
    last_date: date
    regular: bool
    next_date: date | None


def reorder_cycle(purchases, max_spread=DEFAULT_MAX_SPREAD, min_purchase_days=MIN_PURCHASE_DAYS):
    """Return the ReorderCycle of (day, quantity) purchases, or None with too few purchase days.

    Purchases of one day count as one purchase of their summed quantity.
    """
    if max_spread < 0:
        raise ValueError(f"The maximum spread cannot be negative: {max_spread}.")
    quantities = {}
    for day, quantity in purchases:
        quantities[day] = quantities.get(day, 0.0) + quantity
    days = sorted(quantities)
    if len(days) < max(min_purchase_days, 2):
        return None
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:])]
    median_interval = statistics.median(gaps)
    deviation = statistics.median(abs(gap - median_interval) for gap in gaps)
    spread = deviation / median_interval if median_interval else 0.0
    regular = spread <= max_spread
    last_date = days[-1]
    next_date = last_date + timedelta(days=round(median_interval)) if regular else None
    return ReorderCycle(
        purchase_days=len(days),
        median_interval=float(median_interval),
        spread=spread,
        typical_quantity=float(statistics.median(quantities[day] for day in days)),
        last_date=last_date,
        regular=regular,
        next_date=next_date,
    )
