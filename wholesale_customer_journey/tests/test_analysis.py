# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tests of the cross-sell and re-order statistics, in plain Python without a database."""
import unittest
from datetime import date, timedelta

from ..analysis.cross_sell import Thresholds, ThresholdError, confidence_and_lift, mine_pairs
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
