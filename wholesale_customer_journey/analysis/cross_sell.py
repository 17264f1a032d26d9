# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Cross-sell measures: customers who bought A bought B within a window of days.

A purchase is (customer, item, day, quantity): the item is a product or a
product category, and the customer is the customer company. Several lines of
one item on one day are one purchase of their summed quantity.

Cross-selling is about products new to the customer, so what counts is the day
a customer first bought each item. For a pair (A, B) of different items and a
window of N days, a customer supports the pair when its first purchase of B
came on the day of its first purchase of A or up to N days after it. Day N is
inside the window, and day N + 1 is outside. Buying B again later is a
re-order, which the re-order cycles cover. The measures:

- support: the number of customers who support the pair;
- confidence: support / the number of customers who bought A;
- lift: confidence / (the number of customers who bought B / all customers);
- typical quantity of B: the median quantity of the first purchase of B of the
  supporting customers, and the median ratio of that quantity to the quantity
  of their first purchase of A;
- typical delay: the median number of days between the two first purchases.
"""
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

# Maximum window and history horizon: 10 years. A longer one is a typing error.
MAX_DAYS = 3650
# Most windows mined in one run: each window adds a count to every pair of the pair table.
MAX_WINDOWS = 10
# Highest minimum support: more customers than any wholesaler has.
MAX_SUPPORT = 1_000_000
# Levels of a rule's items: a product or a product category.
LEVELS = ("product", "category")


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
    levels: tuple = LEVELS

    def validate(self):
        """Raise a ThresholdError naming the first invalid setting and its valid range."""
        if not 1 <= self.min_support <= MAX_SUPPORT:
            raise ThresholdError(
                "min_support", f"Minimum support must be from 1 to {MAX_SUPPORT} customers, not {self.min_support}."
            )
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ThresholdError(
                "min_confidence", f"Minimum confidence must be from 0 to 1 (0 % to 100 %), not {self.min_confidence}."
            )
        if not math.isfinite(self.min_lift) or self.min_lift < 0.0:
            raise ThresholdError("min_lift", f"Minimum lift cannot be negative: {self.min_lift}.")
        if not 1 <= len(self.windows) <= MAX_WINDOWS:
            raise ThresholdError("windows", f"Give from 1 to {MAX_WINDOWS} windows, in days, not {len(self.windows)}.")
        for window in self.windows:
            if not 0 <= window <= MAX_DAYS:
                raise ThresholdError("windows", f"A window must be from 0 to {MAX_DAYS} days, not {window}.")
        if not self.levels or not set(self.levels) <= set(LEVELS):
            raise ThresholdError("levels", f"Mine products, categories or both, not {self.levels}.")
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


def first_purchases(purchases):
    """Return {customer: {item: (first day, summed quantity of that day)}} of (customer, item, day, quantity) tuples."""
    firsts = {}
    for customer, items in group_purchases(purchases).items():
        firsts[customer] = {}
        for item, quantities in items.items():
            first_day = min(quantities)
            firsts[customer][item] = (first_day, quantities[first_day])
    return firsts


def mine_pairs(purchases, window):
    """Return [PairMeasures] of every pair with a support of 1 or more in ``window`` days.

    A reference implementation, quadratic in the items of a customer: the
    scheduled action computes the same in SQL.
    """
    firsts = first_purchases(purchases)
    total_customers = len(firsts)
    item_customers = defaultdict(int)
    for items in firsts.values():
        for item in items:
            item_customers[item] += 1
    follow_ups = defaultdict(list)
    for items in firsts.values():
        for antecedent, (a_day, quantity_a) in items.items():
            for consequent, (b_day, quantity_b) in items.items():
                delay = (b_day - a_day).days
                if consequent != antecedent and 0 <= delay <= window:
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
