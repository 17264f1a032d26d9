# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tests of the cross-sell and re-order statistics, in plain Python without a database."""
import random
import statistics
import unittest
from datetime import date, timedelta

from ..analysis.cross_sell import Thresholds, ThresholdError, confidence_and_lift, mine_pairs, pair_measures
from ..analysis.reorder import reorder_cycle

START = date(2026, 1, 5)


def day(offset):
    return START + timedelta(days=offset)


# Five customers. Known measures of "A then B": see the tests.
HISTORY = [
    ("c1", "A", day(0), 10), ("c1", "B", day(30), 5),  # B on the last day of a 30-day window
    ("c2", "A", day(0), 4), ("c2", "B", day(31), 2),  # B one day after a 30-day window
    ("c3", "A", day(0), 2), ("c3", "B", day(0), 3),  # B on the same day as A
    ("c4", "B", day(5), 1),  # B without A
    ("c5", "A", day(10), 1),  # A without B
]


def brute_force_measures(firsts, window, population):
    """Return {(A, B, window): measures} of {customer: {item: (day, quantity)}}, by the definition."""
    item_customers = {}
    for items in firsts.values():
        for item in items:
            item_customers[item] = item_customers.get(item, 0) + 1
    follow_ups = {}
    for items in firsts.values():
        for antecedent, (day_a, quantity_a) in items.items():
            for consequent, (day_b, quantity_b) in items.items():
                if consequent != antecedent and 0 <= day_b - day_a <= window:
                    follow_ups.setdefault((antecedent, consequent), []).append(
                        (day_b - day_a, quantity_b, quantity_b / quantity_a)
                    )
    measures = {}
    for (antecedent, consequent), rows in follow_ups.items():
        confidence, lift = confidence_and_lift(
            len(rows), item_customers[antecedent], item_customers[consequent], population
        )
        measures[antecedent, consequent, window] = (
            len(rows),
            item_customers[antecedent],
            confidence,
            lift,
            statistics.median(row[1] for row in rows),
            statistics.median(row[2] for row in rows),
            statistics.median(row[0] for row in rows),
        )
    return measures


def measures_of(pairs, antecedent, consequent):
    found = [pair for pair in pairs if pair.antecedent == antecedent and pair.consequent == consequent]
    return found[0] if found else None


class TestCrossSellMeasures(unittest.TestCase):
    def test_window_last_day_inside(self):
        pair = measures_of(mine_pairs(HISTORY, window=30), "A", "B")

        self.assertEqual(pair.support, 2)  # c1 on day 30 and c3 on day 0; c2 on day 31 is outside
        self.assertEqual(pair.confidence, 0.5)  # 2 of the 4 customers who bought A
        self.assertAlmostEqual(pair.lift, 0.625)  # 0.5 / (4 of 5 customers bought B)
        self.assertEqual(pair.median_quantity, 4)  # median of 5 and 3
        self.assertEqual(pair.median_quantity_ratio, 1.0)  # median of 5/10 and 3/2
        self.assertEqual(pair.median_delay, 15)  # median of 30 and 0 days

    def test_window_one_day_longer(self):
        pair = measures_of(mine_pairs(HISTORY, window=31), "A", "B")

        self.assertEqual(pair.support, 3)
        self.assertEqual(pair.confidence, 0.75)
        self.assertAlmostEqual(pair.lift, 0.9375)
        self.assertEqual(pair.median_quantity, 3)
        self.assertEqual(pair.median_quantity_ratio, 0.5)
        self.assertEqual(pair.median_delay, 30)

    def test_reverse_pair_needs_order(self):
        pair = measures_of(mine_pairs(HISTORY, window=30), "B", "A")

        # Only c3 bought A on or after a day it bought B.
        self.assertEqual(pair.support, 1)
        self.assertEqual(pair.confidence, 0.25)
        self.assertAlmostEqual(pair.lift, 0.3125)

    def test_same_day_lines_summed(self):
        history = [("c1", "A", day(0), 2), ("c1", "A", day(0), 3), ("c1", "B", day(2), 10)]

        pair = measures_of(mine_pairs(history, window=7), "A", "B")

        self.assertEqual(pair.median_quantity_ratio, 2.0)  # 10 / (2 + 3)

    def test_first_purchases_count(self):
        history = [("c1", "A", day(0), 2), ("c1", "B", day(50), 7), ("c1", "A", day(40), 1), ("c1", "B", day(45), 4)]

        # The A of day 40 is a re-order: B first came 45 days after the first A.
        self.assertIsNone(measures_of(mine_pairs(history, window=44), "A", "B"))
        pair = measures_of(mine_pairs(history, window=45), "A", "B")
        self.assertEqual(pair.support, 1)
        self.assertEqual(pair.median_delay, 45)
        self.assertEqual(pair.median_quantity, 4)
        self.assertEqual(pair.median_quantity_ratio, 2.0)  # 4 / 2, the quantities of the first purchases

    def test_same_item_no_pair(self):
        history = [("c1", "A", day(0), 1), ("c1", "A", day(3), 1)]

        self.assertEqual(mine_pairs(history, window=30), [])

    def test_counts_of_zero(self):
        self.assertEqual(confidence_and_lift(0, 0, 0, 0), (0.0, 0.0))
        self.assertEqual(confidence_and_lift(1, 2, 0, 10), (0.5, 0.0))

    def test_thresholds_accept(self):
        pair = measures_of(mine_pairs(HISTORY, window=31), "A", "B")

        self.assertTrue(Thresholds(min_support=3, min_confidence=0.75, min_lift=0.9).accepts(pair))
        self.assertFalse(Thresholds(min_support=4, min_confidence=0.1, min_lift=0.0).accepts(pair))
        self.assertFalse(Thresholds(min_support=1, min_confidence=0.8, min_lift=0.0).accepts(pair))
        self.assertFalse(Thresholds(min_support=1, min_confidence=0.1, min_lift=1.0).accepts(pair))

    def test_invalid_thresholds(self):
        cases = [
            ({"min_support": 0}, "min_support"),
            ({"min_confidence": 1.5}, "min_confidence"),
            ({"min_confidence": -0.1}, "min_confidence"),
            ({"min_lift": -1.0}, "min_lift"),
            ({"windows": ()}, "windows"),
            ({"windows": (30, 4000)}, "windows"),
            ({"windows": (-1,)}, "windows"),
            ({"horizon_days": 0}, "horizon_days"),
            ({"levels": ()}, "levels"),
            ({"levels": ("product", "brand")}, "levels"),
        ]
        for values, field in cases:
            with self.subTest(values=values), self.assertRaises(ThresholdError) as error:
                Thresholds(**values).validate()
            self.assertEqual(error.exception.field, field)

    def test_default_thresholds_valid(self):
        Thresholds().validate()

    def test_pair_measures_match_definition(self):
        # Random histories against the definition, with thresholds and windows that cut anywhere.
        rng = random.Random(20261205)
        for trial in range(300):
            firsts = {}
            for customer in range(rng.randint(1, 15)):
                items = rng.sample("ABCDEFGH", rng.randint(0, 6))
                firsts[customer] = {item: (rng.randint(0, 60), float(rng.randint(1, 9))) for item in items}
            windows = tuple(sorted(rng.sample([0, 1, 2, 5, 10, 30, 31, 45], rng.randint(1, 5))))
            thresholds = Thresholds(
                min_support=rng.randint(1, 3),
                min_confidence=rng.choice([0.0, 0.2, 0.5, 0.6]),
                min_lift=rng.choice([0.0, 1.0, 1.5]),
                windows=windows,
            )
            population = sum(1 for items in firsts.values() if items) + rng.randint(0, 3)
            rows = [(customer, item, *first) for customer, items in firsts.items() for item, first in items.items()]
            expected = {
                key: measures
                for window in windows
                for key, measures in brute_force_measures(firsts, window, population).items()
                if measures[0] >= thresholds.min_support
                and measures[2] >= thresholds.min_confidence
                and measures[3] >= thresholds.min_lift
            }

            found = {
                (pair.antecedent, pair.consequent, pair.window): (
                    pair.support, pair.antecedent_customers, pair.confidence, pair.lift,
                    pair.median_quantity, pair.median_quantity_ratio, pair.median_delay,
                )
                for pair in pair_measures(rows, thresholds, population)
            }

            self.assertEqual(found, expected, f"trial {trial}")

    def test_confidence_on_the_boundary_kept(self):
        # 7 of 25 buyers of A: exactly the minimum confidence of 0.28, though 0.28 * 25 is 7.000000000000001.
        rows = [(customer, "A", 0, 1.0) for customer in range(25)]
        rows += [(customer, "B", 1, 1.0) for customer in range(7)]

        pairs = pair_measures(rows, Thresholds(min_support=1, min_confidence=0.28, min_lift=0.0, windows=(7,)))

        self.assertEqual([(pair.antecedent, pair.consequent, pair.support) for pair in pairs], [("A", "B", 7)])

    def test_rare_item_still_in_population(self):
        # D has one customer: no pair with D passes a minimum support of 2, but its customer is in the lift's base.
        rows = [("c1", "A", 0, 1.0), ("c1", "B", 2, 1.0), ("c2", "A", 0, 1.0), ("c2", "B", 3, 1.0), ("c3", "D", 0, 1.0)]

        pairs = pair_measures(rows, Thresholds(min_support=2, min_confidence=0.0, min_lift=0.0, windows=(7,)))

        self.assertEqual([(pair.antecedent, pair.consequent) for pair in pairs], [("A", "B")])
        self.assertEqual(pairs[0].lift, 1.5)  # confidence 1 / (2 of 3 customers bought B)


class TestReorderCycle(unittest.TestCase):
    def test_regular_customer(self):
        cycle = reorder_cycle([(day(0), 10), (day(30), 12), (day(61), 10), (day(90), 8)])

        self.assertEqual(cycle.purchase_days, 4)
        self.assertEqual(cycle.median_interval, 30)  # gaps 30, 31 and 29
        self.assertAlmostEqual(cycle.spread, 1 / 30)  # median absolute deviation 1 day
        self.assertEqual(cycle.typical_quantity, 10)
        self.assertEqual(cycle.last_date, day(90))
        self.assertTrue(cycle.regular)
        self.assertEqual(cycle.next_date, day(120))

    def test_irregular_customer_not_guessed(self):
        cycle = reorder_cycle([(day(0), 1), (day(5), 1), (day(60), 1), (day(62), 1)])

        self.assertEqual(cycle.median_interval, 5)  # gaps 5, 55 and 2
        self.assertAlmostEqual(cycle.spread, 0.6)  # deviations 0, 50 and 3: median 3
        self.assertFalse(cycle.regular)
        self.assertIsNone(cycle.next_date)

    def test_too_few_purchase_days(self):
        self.assertIsNone(reorder_cycle([(day(0), 5), (day(30), 5)]))
        # Three lines on two days are two purchase days.
        self.assertIsNone(reorder_cycle([(day(0), 5), (day(0), 2), (day(30), 5)]))

    def test_same_day_quantities_summed(self):
        cycle = reorder_cycle([(day(0), 2), (day(0), 3), (day(10), 5), (day(20), 5)])

        self.assertEqual(cycle.purchase_days, 3)
        self.assertEqual(cycle.typical_quantity, 5)

    def test_negative_spread_rejected(self):
        with self.assertRaises(ValueError):
            reorder_cycle([(day(0), 1), (day(10), 1), (day(20), 1)], max_spread=-0.1)
