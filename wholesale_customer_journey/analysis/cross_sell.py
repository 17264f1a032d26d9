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
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import accumulate, chain, compress
from operator import itemgetter

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
        return self.passes(measures.support, measures.confidence, measures.lift)

    def passes(self, support, confidence, lift):
        """Tell whether a pair with this support, confidence and lift passes every threshold."""
        return support >= self.min_support and confidence >= self.min_confidence and lift >= self.min_lift


@dataclass(frozen=True)
class PairMeasures:
    """Measures of one pair (A, B) in one window."""

    antecedent: object
    consequent: object
    window: int
    support: int
    antecedent_customers: int
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

    :param purchases: (customer, item, day, quantity) tuples, ``day`` a date
    """
    rows = [
        (customer, item, day.toordinal(), quantity)
        for customer, items in first_purchases(purchases).items()
        for item, (day, quantity) in items.items()
    ]
    pairs = pair_measures(rows, Thresholds(min_support=1, min_confidence=0.0, min_lift=0.0, windows=(window,)))
    return sorted(pairs, key=lambda pair: str((pair.antecedent, pair.consequent)))


def pair_measures(firsts, thresholds, population=None):
    """Return [PairMeasures] of the pairs that pass ``thresholds``, one per pair and window.

    :param firsts: (customer, item, day, quantity) of the first purchases: one
        per customer and item, ``day`` a number of days (an integer)
    :param thresholds: Thresholds; only the support, confidence, lift and
        windows count here
    :param population: the number of customers that the lift compares with,
        by default the customers of ``firsts``
    """
    firsts = list(firsts)
    if population is None:
        population = len(set(map(itemgetter(0), firsts)))
    # An item with fewer customers than the minimum support is in no pair that passes.
    item_customers = Counter(map(itemgetter(1), firsts))
    # One object per item: counting compares keys by identity first, and a few thousand objects stay in
    # the CPU cache. With an object per row, as a database driver gives, this function took 2.5 times as
    # long on one million order lines.
    frequent_items = {
        item: item for item, customers in item_customers.items() if customers >= thresholds.min_support
    }
    firsts.sort(key=itemgetter(2))
    by_customer = defaultdict(list)
    for customer, item, day, quantity in firsts:
        if item in frequent_items:
            by_customer[customer].append((frequent_items[item], day, quantity))
    windows = sorted(thresholds.windows)
    # The first day and quantity of each item's buyers, and the spans that follow each purchase: the
    # items that its customer first bought from that day on, per window. The purchases of one customer
    # and day share their spans.
    buyers = defaultdict(dict)
    spans_of = defaultdict(list)
    for index, purchases in enumerate(by_customer.values()):
        items, days, quantities = zip(*purchases)
        start = 0
        while start < len(days):
            day = days[start]
            end = bisect_right(days, day, start)
            # The increments of the shorter windows, then all of the longest: with several windows, each
            # item is counted at most twice.
            ends = [bisect_right(days, day + window, end) for window in windows]
            spans = (*(items[left:right] for left, right in zip([start, *ends], ends[:-1])), items[start:ends[-1]])
            for position in range(start, end):
                buyers[items[position]][index] = (day, quantities[position])
                spans_of[items[position]].append(spans)
            start = end
    result = []
    for antecedent, consequent, supports in count_pairs(
        spans_of, len(windows), thresholds.min_support, thresholds.min_confidence
    ):
        buyers_a, buyers_b = buyers[antecedent], buyers[consequent]
        passed = []
        for window, support in zip(windows, supports):
            confidence, lift = confidence_and_lift(support, len(buyers_a), len(buyers_b), population)
            if thresholds.passes(support, confidence, lift):
                passed.append((window, support, confidence, lift))
        if not passed:
            continue
        # (delay, quantity of B, ratio of the quantities) of the customers who bought both, in the longest window.
        follow_ups = []
        for index in buyers_a.keys() & buyers_b.keys():
            (day_a, quantity_a), (day_b, quantity_b) = buyers_a[index], buyers_b[index]
            if 0 <= day_b - day_a <= windows[-1]:
                follow_ups.append((day_b - day_a, quantity_b, quantity_b / quantity_a))
        for window, support, confidence, lift in passed:
            rows = [row for row in follow_ups if row[0] <= window]
            result.append(
                PairMeasures(
                    antecedent=antecedent,
                    consequent=consequent,
                    window=window,
                    support=support,
                    antecedent_customers=len(buyers_a),
                    confidence=confidence,
                    lift=lift,
                    median_quantity=statistics.median(row[1] for row in rows),
                    median_quantity_ratio=statistics.median(row[2] for row in rows),
                    median_delay=statistics.median(row[0] for row in rows),
                )
            )
    return result


def count_pairs(spans_of, window_count, min_support, min_confidence=0.0):
    """Count the supporting customers of each pair, and yield the pairs that can pass the thresholds.

    The work grows with the sum of the supports of all pairs, and the counting
    runs in the C code of ``Counter``. On the Online Retail file, that sum is
    12.4 million in a 30-day window. ``pair_measures`` took 1.7 s there, the
    count included, where a GROUP BY of the same pairs in PostgreSQL took 11 s.

    :param spans_of: {item A: [spans]}, one ``spans`` per customer of A: a
        tuple of the items that customer first bought from the day of A on,
        A included. Its first elements are the increments of the shorter
        windows: up to the end of the shortest, then from there to the end of
        the next. The last element contains all items up to the end of the
        longest window.
    :param window_count: number of windows
    :param min_support: a pair yields when its support in the longest window
        reaches it
    :param min_confidence: a pair yields only when its support in the longest
        window reaches about this share of the customers of its antecedent,
        rounded down: the caller checks confidence and lift exactly
    :return: iterator of (antecedent, consequent, supports): ``supports``
        lists the support in each window
    """
    for antecedent, spans in spans_of.items():
        counters = [
            Counter(chain.from_iterable(map(itemgetter(position), spans))) for position in range(window_count)
        ]
        longest = counters.pop()
        del longest[antecedent]
        minimum = max(min_support, math.floor(min_confidence * len(spans) * (1 - 1e-9)))
        for consequent in compress(longest, map(minimum.__le__, longest.values())):
            yield antecedent, consequent, [*accumulate(counter[consequent] for counter in counters), longest[consequent]]
