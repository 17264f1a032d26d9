# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Cross-sell measures: customers who bought A bought B within a window of days.

A purchase is (customer, item, day, quantity): the item is a product or a
product category, and the customer is the customer company. Several lines of
one item on one day are one purchase of their summed quantity.

For a pair (A, B) of different items and a window of N days, a customer
supports the pair when it bought B on the day of a purchase of A or up to N
days after it. Day N is inside the window, and day N + 1 is outside. The
measures:

- support: the number of customers who support the pair;
- confidence: support / the number of customers who bought A;
- lift: confidence / (the number of customers who bought B / all customers);
- typical quantity of B: the median of the quantity of B that each supporting
  customer bought first after (or with) A, and the median ratio of that
  quantity to the quantity of A it followed;
- typical delay: the median of those delays in days.
"""
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

# Maximum window and history horizon: 10 years. A longer one is a typing error.
MAX_DAYS = 3650


class ThresholdError(ValueError):
    """An invalid mining threshold, with the field it belongs to."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Thresholds:
    """Settings of a mining run: what makes a pair a rule."""

    min_support: int = 3
    min_confidence: float = 0.1
    min_lift: float = 1.5
    windows: tuple = (30,)
    horizon_days: int = 730

    def validate(self):
        """Raise a ThresholdError naming the first invalid setting and its valid range."""
        if self.min_support < 1:
            raise ThresholdError("min_support", f"Minimum support must be 1 or more customers, not {self.min_support}.")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ThresholdError(
                "min_confidence", f"Minimum confidence must be from 0 to 1 (0 % to 100 %), not {self.min_confidence}."
            )
        if self.min_lift < 0.0:
            raise ThresholdError("min_lift", f"Minimum lift cannot be negative: {self.min_lift}.")
        if not self.windows:
            raise ThresholdError("windows", "Give at least one window, in days.")
        for window in self.windows:
            if not 0 <= window <= MAX_DAYS:
                raise ThresholdError("windows", f"A window must be from 0 to {MAX_DAYS} days, not {window}.")
        if not 1 <= self.horizon_days <= MAX_DAYS:
            raise ThresholdError(
                "horizon_days", f"The history horizon must be from 1 to {MAX_DAYS} days, not {self.horizon_days}."
            )

    def accepts(self, measures):
        """Tell whether ``measures`` (a PairMeasures) pass every threshold."""
        return (
            measures.support >= self.min_support
            and measures.confidence >= self.min_confidence
            and measures.lift >= self.min_lift
        )


@dataclass(frozen=True)
class PairMeasures:
    """Measures of one pair (A, B) in one window."""

    antecedent: object
    consequent: object
    window: int
    support: int
    confidence: float
    lift: float
    median_quantity: float
    median_quantity_ratio: float
    median_delay: float


def confidence_and_lift(support, antecedent_customers, consequent_customers, total_customers):
    """Return (confidence, lift) of a pair from its customer counts.

    Both are 0.0 when a count they divide by is 0.
    """
    confidence = support / antecedent_customers if antecedent_customers else 0.0
    base_rate = consequent_customers / total_customers if total_customers else 0.0
    lift = confidence / base_rate if base_rate else 0.0
    return confidence, lift


def group_purchases(purchases):
    """Return {customer: {item: {day: summed quantity}}} of (customer, item, day, quantity) tuples."""
    grouped = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for customer, item, day, quantity in purchases:
        if isinstance(day, date):
            grouped[customer][item][day] += quantity
        else:
            raise TypeError(f"The day of a purchase must be a date, not {day!r}.")
    return grouped


def first_follow_up(antecedent_days, consequent_days, window):
    """Return (delay, day of A, day of B) of the earliest A purchase followed by B within ``window``, or None.

    :param antecedent_days: sorted days of A
    :param consequent_days: sorted days of B
    """
    for a_day in antecedent_days:
        for b_day in consequent_days:
            delay = (b_day - a_day).days
            if delay < 0:
                continue
            if delay <= window:
                return delay, a_day, b_day
            break
    return None


def mine_pairs(purchases, window):
    """Return [PairMeasures] of every pair with a support of 1 or more in ``window`` days.

    A reference implementation, quadratic in the items of a customer: the
    scheduled action computes the same in SQL.
    """
    grouped = group_purchases(purchases)
    total_customers = len(grouped)
    item_customers = defaultdict(int)
    for items in grouped.values():
        for item in items:
            item_customers[item] += 1
    follow_ups = defaultdict(list)
    for items in grouped.values():
        days = {item: sorted(quantities) for item, quantities in items.items()}
        for antecedent, antecedent_days in days.items():
            for consequent, consequent_days in days.items():
                if consequent == antecedent:
                    continue
                found = first_follow_up(antecedent_days, consequent_days, window)
                if found is None:
                    continue
                delay, a_day, b_day = found
                quantity_a = items[antecedent][a_day]
                quantity_b = items[consequent][b_day]
                follow_ups[antecedent, consequent].append((delay, quantity_b, quantity_b / quantity_a))
    result = []
    for (antecedent, consequent), rows in sorted(follow_ups.items(), key=lambda item: str(item[0])):
        confidence, lift = confidence_and_lift(
            len(rows), item_customers[antecedent], item_customers[consequent], total_customers
        )
        result.append(
            PairMeasures(
                antecedent=antecedent,
                consequent=consequent,
                window=window,
                support=len(rows),
                confidence=confidence,
                lift=lift,
                median_quantity=statistics.median(row[1] for row in rows),
                median_quantity_ratio=statistics.median(row[2] for row in rows),
                median_delay=statistics.median(row[0] for row in rows),
            )
        )
    return result
