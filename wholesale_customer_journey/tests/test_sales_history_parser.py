# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tests of the sales-history CSV reader, in plain Python without a database."""
import contextlib
import gzip
import io
import os
import tempfile
import unittest
from datetime import datetime

from ..tools.import_sales_history import build_parser
from ..tools.sales_history import (
    DATE_FORMATS,
    SalesHistoryError,
    SalesHistoryReader,
    SkipReport,
    compile_code_patterns,
    parse_number,
)

HEADER = "invoice,stock_code,description,quantity,invoice_date,unit_price,customer_id,country"


def make_csv(*rows, header=HEADER):
    """Return the bytes of a CSV file. Line 1 is the header, and ``rows[0]`` is line 2."""
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def read_all(content, **options):
    """Return (stats, invoices, skipped lines) of ``content``."""
    reader = SalesHistoryReader(content, **options)
    stats = reader.validate()
    skipped = []
    invoices = list(reader.iter_invoices(on_skip=skipped.append))
    return stats, invoices, skipped


def skipped_by_line(skipped):
    return {line.line: line.reason for line in skipped}


class TestSalesHistoryParser(unittest.TestCase):
    """Classification, offsetting, grouping and errors of SalesHistoryReader."""

    def test_groups_lines_per_invoice(self):
        content = make_csv(
            "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",
            "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom",
        )
        stats, invoices, skipped = read_all(content)
        self.assertEqual([invoice.number for invoice in invoices], ["536365", "536366"])
        self.assertEqual([line.line for line in invoices[0].lines], [2, 3])
        self.assertEqual(invoices[0].customer_id, "17850")
        self.assertEqual(invoices[0].country, "United Kingdom")
        self.assertEqual(invoices[0].date, datetime(2010, 12, 1, 8, 26))
        self.assertEqual(invoices[0].lines[0].quantity, 6)
        self.assertEqual(invoices[0].lines[0].unit_price, 2.55)
        self.assertEqual(skipped, [])
        self.assertEqual(stats["lines"], 3)
        self.assertEqual(stats["kept_lines"], 3)
        self.assertEqual(stats["invoices"], 2)
        self.assertEqual(stats["customers"], 1)
        self.assertEqual(stats["stock_codes"], 3)
        self.assertEqual(stats["skipped"], {})

    def test_invoice_dated_at_earliest_line(self):
        content = make_csv(
            "536591,22633,HAND WARMER,6,2010-12-01 16:58:00,1.85,14606,United Kingdom",
            "536591,22632,HAND WARMER RED,6,2010-12-01 16:57:00,1.85,14606,United Kingdom",
        )
        _stats, invoices, _skipped = read_all(content)
        self.assertEqual(invoices[0].date, datetime(2010, 12, 1, 16, 57))

    def test_skip_reasons_with_line_numbers(self):
        content = make_csv(
            # line 2: kept
            "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            # line 3: bad debt, even with a customer
            "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,17850,United Kingdom",
            # line 4: no customer
            "536544,22760,TRAY BREAKFAST IN BED,1,2010-12-01 14:32:00,25.49,,United Kingdom",
            # lines 5-6: the second is an exact duplicate of the first
            "536559,51014L,FEATHER PEN LIGHT PINK,12,2010-12-01 14:54:00,0.85,17873,United Kingdom",
            "536559,51014L,FEATHER PEN LIGHT PINK,12,2010-12-01 14:54:00,0.85,17873,United Kingdom",
            # line 7: cancellation without an original
            "C536548,22245,HOOK 1 HANGER,-2,2010-12-01 14:33:00,0.85,12472,Germany",
            # lines 8-10: non-product codes, in any case
            "536560,POST,POSTAGE,3,2010-12-01 14:55:00,18.00,12472,Germany",
            "536560,gift_0001_20,Dotcomgiftshop Gift Voucher,1,2010-12-01 14:55:00,17.02,12472,Germany",
            "536560,dcgs0003,BOXED GLASS ASHTRAY,1,2010-12-01 14:55:00,2.46,12472,Germany",
            # line 11: negative quantity outside a cancellation
            "536561,21108,FAIRY CAKE FLANNEL,-3,2010-12-01 14:56:00,2.10,12472,Germany",
            # line 12: zero quantity
            "536562,21109,FAIRY CAKE TOWEL,0,2010-12-01 14:57:00,2.10,12472,Germany",
            # line 13: above the maximum quantity
            "581483,23843,PAPER CRAFT LITTLE BIRDIE,80995,2011-12-09 09:15:00,2.08,16446,United Kingdom",
            # line 14: negative unit price
            "581484,23844,PAPER CRAFT BIG BIRDIE,1,2011-12-09 09:16:00,-2.08,16446,United Kingdom",
        )
        stats, invoices, skipped = read_all(content)
        self.assertEqual(
            skipped_by_line(skipped),
            {
                3: "bad_debt",
                4: "no_customer",
                6: "duplicate",
                7: "cancellation",
                8: "non_product",
                9: "non_product",
                10: "non_product",
                11: "stock_adjustment",
                12: "stock_adjustment",
                13: "quantity_above_max",
                14: "negative_price",
            },
        )
        self.assertEqual([invoice.number for invoice in invoices], ["536365", "536559"])
        self.assertEqual(
            stats["skipped"],
            {
                "bad_debt": 1,
                "no_customer": 1,
                "duplicate": 1,
                "cancellation": 1,
                "non_product": 3,
                "stock_adjustment": 2,
                "quantity_above_max": 1,
                "negative_price": 1,
            },
        )
        self.assertEqual(stats["kept_lines"], 2)
        self.assertEqual(stats["unmatched_cancellations"], 1)
        self.assertEqual(stats["offsets"], 0)

    def test_max_quantity_is_configurable(self):
        content = make_csv(
            "536365,85123A,WHITE HANGING HEART,600,2010-12-01 08:26:00,2.55,17850,United Kingdom",
        )
        _stats, invoices, _skipped = read_all(content, max_quantity=500)
        self.assertEqual(invoices, [])
        _stats, invoices, _skipped = read_all(content, max_quantity=0)
        self.assertEqual(len(invoices), 1, "0 means no maximum")

    def test_non_product_codes_are_configurable(self):
        content = make_csv(
            "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850,United Kingdom",
            "536365,XMAS01,CHRISTMAS CARD,1,2010-12-01 08:26:00,1.00,17850,United Kingdom",
        )
        _stats, _invoices, skipped = read_all(content, non_product_codes="xmas*")
        self.assertEqual(skipped_by_line(skipped), {3: "non_product"})
        _stats, invoices, _skipped = read_all(content, non_product_codes="")
        self.assertEqual(len(invoices[0].lines), 2)

    def test_code_patterns(self):
        pattern = compile_code_patterns(["POST", "gift_0001_*", "BANK CHARGES"])
        self.assertTrue(pattern.fullmatch("POST"))
        self.assertTrue(pattern.fullmatch("post"))
        self.assertTrue(pattern.fullmatch("GIFT_0001_40"))
        self.assertTrue(pattern.fullmatch("BANK CHARGES"))
        self.assertFalse(pattern.fullmatch("POSTCARD"))
        self.assertFalse(pattern.fullmatch("85123A"))
        self.assertIsNone(compile_code_patterns(" , "))

    def test_offset_removes_latest_earlier_original(self):
        content = make_csv(
            # lines 2 and 3: two earlier originals, the later one is offset
            "541000,23166,STORAGE JAR,12,2011-01-10 10:00:00,1.04,12346,United Kingdom",
            "541001,23166,STORAGE JAR,12,2011-01-12 10:00:00,1.04,12346,United Kingdom",
            "541001,23167,SMALL STORAGE JAR,6,2011-01-12 10:00:00,0.85,12346,United Kingdom",
            # line 5: the cancellation
            "C541433,23166,STORAGE JAR,-12,2011-01-18 10:17:00,1.04,12346,United Kingdom",
            # line 6: same quantity but later than the cancellation, so kept
            "541500,23166,STORAGE JAR,12,2011-01-20 10:00:00,1.04,12346,United Kingdom",
        )
        stats, invoices, skipped = read_all(content)
        by_line = {line.line: line for line in skipped}
        self.assertEqual(by_line[3].reason, "cancelled")
        self.assertEqual(by_line[3].related_line, 5)
        self.assertEqual(by_line[5].reason, "cancellation")
        self.assertEqual(by_line[5].related_line, 3)
        self.assertEqual(
            {invoice.number: [line.line for line in invoice.lines] for invoice in invoices},
            {"541000": [2], "541001": [4], "541500": [6]},
        )
        self.assertEqual(stats["offsets"], 1)
        self.assertEqual(stats["unmatched_cancellations"], 0)
        self.assertEqual(stats["skipped"], {"cancellation": 1, "cancelled": 1})
        self.assertEqual(stats["kept_lines"], 3)

    def test_offset_needs_same_customer_code_and_quantity(self):
        content = make_csv(
            "541000,23166,STORAGE JAR,12,2011-01-10 10:00:00,1.04,12346,United Kingdom",
            "C541001,23166,STORAGE JAR,-12,2011-01-11 10:00:00,1.04,99999,United Kingdom",
            "C541002,23167,STORAGE JAR,-12,2011-01-11 10:00:00,1.04,12346,United Kingdom",
            "C541003,23166,STORAGE JAR,-6,2011-01-11 10:00:00,1.04,12346,United Kingdom",
        )
        stats, invoices, _skipped = read_all(content)
        self.assertEqual([line.line for line in invoices[0].lines], [2])
        self.assertEqual(stats["offsets"], 0)
        self.assertEqual(stats["unmatched_cancellations"], 3)

    def test_offset_each_original_once(self):
        content = make_csv(
            "541000,23166,STORAGE JAR,12,2011-01-10 10:00:00,1.04,12346,United Kingdom",
            "C541001,23166,STORAGE JAR,-12,2011-01-11 10:00:00,1.04,12346,United Kingdom",
            "C541002,23166,STORAGE JAR,-12,2011-01-12 10:00:00,1.04,12346,United Kingdom",
        )
        stats, invoices, skipped = read_all(content)
        self.assertEqual(invoices, [], "an invoice without kept lines is left out")
        self.assertEqual(stats["invoices"], 0)
        self.assertEqual(stats["customers"], 0)
        self.assertEqual(stats["stock_codes"], 0)
        self.assertEqual(stats["offsets"], 1)
        self.assertEqual(stats["unmatched_cancellations"], 1)
        by_line = {line.line: line for line in skipped}
        self.assertEqual(by_line[2].related_line, 3)
        self.assertIsNone(by_line[4].related_line)

    def test_offset_matches_codes_in_any_case(self):
        content = make_csv(
            "541000,47566b,PARTY BUNTING,4,2011-01-10 10:00:00,4.95,12346,United Kingdom",
            "C541001,47566B,PARTY BUNTING,-4,2011-01-11 10:00:00,4.95,12346,United Kingdom",
        )
        stats, _invoices, _skipped = read_all(content)
        self.assertEqual(stats["offsets"], 1)

    def test_duplicate_cancellation_offsets_once(self):
        content = make_csv(
            "541000,23166,STORAGE JAR,12,2011-01-10 10:00:00,1.04,12346,United Kingdom",
            "541001,23166,STORAGE JAR,12,2011-01-11 10:00:00,1.04,12346,United Kingdom",
            "C541002,23166,STORAGE JAR,-12,2011-01-12 10:00:00,1.04,12346,United Kingdom",
            "C541002,23166,STORAGE JAR,-12,2011-01-12 10:00:00,1.04,12346,United Kingdom",
        )
        stats, invoices, skipped = read_all(content)
        self.assertEqual(skipped_by_line(skipped), {3: "cancelled", 4: "cancellation", 5: "duplicate"})
        self.assertEqual([invoice.number for invoice in invoices], ["541000"])
        self.assertEqual(stats["offsets"], 1)

    def test_duplicates_need_every_column_equal(self):
        content = make_csv(
            "536559,51014L,FEATHER PEN,12,2010-12-01 14:54:00,0.85,17873,United Kingdom",
            "536559,51014L,FEATHER PEN,12,2010-12-01 14:54:00,0.95,17873,United Kingdom",
            "536559,51014l,FEATHER PEN,12,2010-12-01 14:54:00,0.85,17873,United Kingdom",
            "536559,51014L,FEATHER PEN,12,2010-12-01 14:54:00,0.85,17873,United Kingdom",
        )
        _stats, invoices, skipped = read_all(content)
        self.assertEqual(skipped_by_line(skipped), {5: "duplicate"})
        self.assertEqual(len(invoices[0].lines), 3)

    def test_codes_are_upper_case(self):
        content = make_csv(
            "536365,47566b,PARTY BUNTING,4,2010-12-01 08:26:00,4.95,17850,United Kingdom",
            "536366,47566B,PARTY BUNTING,4,2010-12-02 08:26:00,4.65,17850,United Kingdom",
        )
        reader = SalesHistoryReader(content)
        stats = reader.validate()
        codes = [line.stock_code for invoice in reader.iter_invoices() for line in invoice.lines]
        self.assertEqual(codes, ["47566B", "47566B"])
        self.assertEqual(stats["stock_codes"], 1)
        self.assertEqual(list(reader.products), ["47566B"])

    def test_product_summary(self):
        content = make_csv(
            "536365,85123A,CREAM HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536366,85123A,WHITE HANGING HEART,6,2010-12-02 08:26:00,2.65,17850,United Kingdom",
            "536367,85123A,WHITE HANGING HEART,6,2010-12-03 08:26:00,2.95,17850,United Kingdom",
            "536368,85123A,,6,2010-12-04 08:26:00,2.75,17850,United Kingdom",
        )
        reader = SalesHistoryReader(content)
        reader.validate()
        product = reader.products["85123A"]
        self.assertEqual(product.name, "WHITE HANGING HEART")
        self.assertEqual(product.price, 2.75, "the price of the latest line")

    def test_customer_country_of_latest_line(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,12370,Cyprus",
            "536366,85123A,HEART,6,2010-12-02 08:26:00,2.55,12370,Austria",
        )
        reader = SalesHistoryReader(content)
        reader.validate()
        self.assertEqual(reader.customers, {"12370": "Austria"})

    def test_customer_id_spreadsheet_float(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
            "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39, 17850 ,United Kingdom",
        )
        _stats, invoices, _skipped = read_all(content)
        self.assertEqual({line.customer_id for line in invoices[0].lines}, {"17850"})

    def test_mapping_custom_columns(self):
        content = make_csv(
            "R-1;A1;Mug;2;2024-03-01 10:00:00;3.5;C-7;Belgium",
            header="Beleg;Artikel;Text;Menge;Datum;Preis;Kunde;Land",
        )
        mapping = {
            "invoice": "Beleg",
            "stock_code": "Artikel",
            "description": "Text",
            "quantity": "Menge",
            "invoice_date": "Datum",
            "unit_price": "Preis",
            "customer_id": "Kunde",
            "country": "Land",
        }
        _stats, invoices, _skipped = read_all(content, mapping=mapping, delimiter=";")
        line = invoices[0].lines[0]
        self.assertEqual((line.invoice, line.stock_code, line.description), ("R-1", "A1", "Mug"))
        self.assertEqual((line.quantity, line.unit_price, line.customer_id, line.country), (2, 3.5, "C-7", "Belgium"))

    def test_mapping_original_uci_headers(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            header="InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
        )
        _stats, invoices, _skipped = read_all(content)
        self.assertEqual(invoices[0].number, "536365")
        self.assertEqual(invoices[0].lines[0].unit_price, 2.55)

    def test_optional_columns_may_be_absent(self):
        content = make_csv(
            "536365,85123A,6,2010-12-01 08:26:00,2.55,17850",
            header="invoice,stock_code,quantity,invoice_date,unit_price,customer_id",
        )
        _stats, invoices, _skipped = read_all(content)
        self.assertEqual(invoices[0].lines[0].description, "")
        self.assertEqual(invoices[0].country, "")

    def test_missing_columns_rejected(self):
        content = make_csv("536365,85123A,6", header="invoice,stock_code,qty")
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        message = str(caught.exception)
        self.assertIn('The file has no column "quantity", "invoice_date", "unit_price", "customer_id"', message)
        self.assertIn('Columns found: "invoice", "stock_code", "qty"', message)
        self.assertEqual(caught.exception.issues[0].code, "missing_columns")

    def test_mapped_optional_column_must_exist(self):
        content = make_csv("536365,85123A,6,2010-12-01 08:26:00,2.55,17850,UK")
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content, mapping={"country": "Land"}).validate()
        self.assertIn('The file has no column "Land"', str(caught.exception))

    def test_bad_number_names_line_and_column(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536365,71053,LANTERN,12x,2010-12-01 08:26:00,3.39,17850,United Kingdom",
            "536365,71054,LANTERN,1,2010-12-01 08:26:00,£3.39,17850,United Kingdom",
        )
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertEqual(
            [str(issue) for issue in caught.exception.issues],
            [
                'Line 3, column "quantity": "12x" is not a number. Fix the value or remove the line.',
                'Line 4, column "unit_price": "£3.39" is not a number. Fix the value or remove the line.',
            ],
        )

    def test_missing_value_names_line_and_column(self):
        content = make_csv("536365,85123A,HEART,,2010-12-01 08:26:00,2.55,17850,United Kingdom")
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertEqual(
            str(caught.exception),
            'Line 2, column "quantity": the value is missing. Fill it in or remove the line.',
        )

    def test_bad_date_names_line_and_column(self):
        content = make_csv("536365,85123A,HEART,6,31/12/2010 08:26,2.55,17850,United Kingdom")
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertEqual(
            str(caught.exception),
            'Line 2, column "invoice_date": "31/12/2010 08:26" is not a date in the format '
            "YYYY-MM-DD HH:MM:SS. Fix the value, set the date format of the file, or remove the line.",
        )

    def test_future_or_ancient_date_rejected(self):
        for value in ("2099-03-01 10:00:00", "1850-03-01 10:00:00"):
            content = make_csv(f"536365,85123A,HEART,6,{value},2.55,17850,United Kingdom")
            with self.assertRaises(SalesHistoryError) as caught:
                SalesHistoryReader(content).validate()
            self.assertEqual(
                str(caught.exception),
                f'Line 2, column "invoice_date": "{value}" is before 1900 or in the future, which no '
                "invoice of a sales history is. Fix the value or remove the line.",
            )

    def test_date_format_option(self):
        content = make_csv("536365,85123A,HEART,6,31/12/2010 08:26,2.55,17850,United Kingdom")
        _stats, invoices, _skipped = read_all(content, date_format="%d/%m/%Y %H:%M")
        self.assertEqual(invoices[0].date, datetime(2010, 12, 31, 8, 26))

    def test_date_formats(self):
        cases = {
            "iso": [
                ("2011-12-09 12:50:00", datetime(2011, 12, 9, 12, 50)),
                ("2011-12-09 12:50", datetime(2011, 12, 9, 12, 50)),
                ("2011-12-09T12:50:30", datetime(2011, 12, 9, 12, 50, 30)),
                ("2011-12-09", datetime(2011, 12, 9)),
                ("2011-1-5 8:26", datetime(2011, 1, 5, 8, 26)),
            ],
            "day_first": [
                ("09/12/2011 12:50", datetime(2011, 12, 9, 12, 50)),
                ("09/12/2011 12:50:30", datetime(2011, 12, 9, 12, 50, 30)),
                ("9/1/2011 8:26", datetime(2011, 1, 9, 8, 26)),
                ("09/12/2011", datetime(2011, 12, 9)),
                ("09/12/2011 12:50 AM", datetime(2011, 12, 9, 0, 50)),
            ],
            "month_first": [
                ("12/09/2011 12:50", datetime(2011, 12, 9, 12, 50)),
                # As spreadsheets write the dates of the original Online Retail file.
                ("12/1/2010 8:26", datetime(2010, 12, 1, 8, 26)),
                ("12/1/2010 8:26:00 PM", datetime(2010, 12, 1, 20, 26)),
                ("12/1/2010", datetime(2010, 12, 1)),
            ],
            "day_first_dash": [
                ("09-12-2011 12:50", datetime(2011, 12, 9, 12, 50)),
                ("9-1-2011 08:26:30", datetime(2011, 1, 9, 8, 26, 30)),
                ("09-12-2011", datetime(2011, 12, 9)),
            ],
            "day_first_dot": [
                ("09.12.2011 12:50", datetime(2011, 12, 9, 12, 50)),
                ("9.1.2011 8:26:30", datetime(2011, 1, 9, 8, 26, 30)),
                ("09.12.2011", datetime(2011, 12, 9)),
            ],
        }
        self.assertEqual(set(cases), set(DATE_FORMATS), "every format is tested")
        for date_format, values in cases.items():
            for text, expected in values:
                content = make_csv("536365,85123A,HEART,6,%s,2.55,17850,United Kingdom" % text)
                with self.subTest(date_format=date_format, text=text):
                    _stats, invoices, _skipped = read_all(content, date_format=date_format)
                    self.assertEqual(invoices[0].date, expected)

    def test_bad_date_per_format(self):
        cases = [
            ("day_first", "12/31/2010 08:26", "DD/MM/YYYY HH:MM:SS"),
            ("month_first", "31/12/2010 08:26", "MM/DD/YYYY HH:MM:SS"),
            ("day_first_dash", "2010-12-31 08:26", "DD-MM-YYYY HH:MM:SS"),
            ("day_first_dot", "31/12/2010 08:26", "DD.MM.YYYY HH:MM:SS"),
            ("day_first", "31/12/10 08:26", "DD/MM/YYYY HH:MM:SS"),
            ("day_first", "31/12/2010 25:00", "DD/MM/YYYY HH:MM:SS"),
            ("month_first", "12/31/2010 13:26 PM", "MM/DD/YYYY HH:MM:SS"),
            ("iso", "2010-02-30 08:26", "YYYY-MM-DD HH:MM:SS"),
        ]
        for date_format, text, pattern in cases:
            content = make_csv("536365,85123A,HEART,6,%s,2.55,17850,United Kingdom" % text)
            with self.subTest(date_format=date_format, text=text):
                with self.assertRaises(SalesHistoryError) as caught:
                    SalesHistoryReader(content, date_format=date_format).validate()
                self.assertEqual(
                    str(caught.exception),
                    'Line 2, column "invoice_date": "%s" is not a date in the format %s. '
                    "Fix the value, set the date format of the file, or remove the line." % (text, pattern),
                )

    def test_unknown_date_format_rejected(self):
        with self.assertRaises(ValueError):
            SalesHistoryReader(make_csv(), date_format="dmy")

    def test_decimal_comma_numbers(self):
        content = make_csv(
            "536365;85123A;HEART;6;2010-12-01 08:26:00;2,55;17850;Belgium",
            "536365;71053;LANTERN;1.200;2010-12-01 08:26:00;1.234,56;17850;Belgium",
            "536365;71054;LANTERN;12;2010-12-01 08:26:00;1.234.567,8;17850;Belgium",
            "536365;71055;LANTERN;3;2010-12-01 08:26:00;,5;17850;Belgium",
            "536365;71056;LANTERN;2;2010-12-01 08:26:00;4;17850;Belgium",
            header=HEADER.replace(",", ";"),
        )
        _stats, invoices, _skipped = read_all(content, delimiter=";", decimal_separator=",")
        lines = invoices[0].lines
        self.assertEqual([line.unit_price for line in lines], [2.55, 1234.56, 1234567.8, 0.5, 4.0])
        self.assertEqual([line.quantity for line in lines], [6, 1200, 12, 3, 2])
        self.assertIsInstance(lines[1].quantity, int)

    def test_decimal_comma_in_quoted_values(self):
        content = make_csv('536365,85123A,HEART,"1.000","2010-12-01 08:26:00","2,55",17850,Belgium')
        _stats, invoices, _skipped = read_all(content, decimal_separator=",")
        self.assertEqual(invoices[0].lines[0].quantity, 1000)
        self.assertEqual(invoices[0].lines[0].unit_price, 2.55)

    def test_decimal_point_thousands_separator(self):
        content = make_csv(
            '536365,85123A,HEART,"1,200",2010-12-01 08:26:00,"1,234.56",17850,United Kingdom',
            '536365,71053,LANTERN,6,2010-12-01 08:26:00,"1,234,567",17850,United Kingdom',
        )
        _stats, invoices, _skipped = read_all(content)
        lines = invoices[0].lines
        self.assertEqual(lines[0].quantity, 1200)
        self.assertEqual(lines[0].unit_price, 1234.56)
        self.assertEqual(lines[1].unit_price, 1234567.0)

    def test_parse_number_strict_thousands_groups(self):
        cases = [
            (".", "1,234.56", 1234.56),
            (".", "-1,234", -1234),
            (".", "1,25", None),
            (".", "1,2345.6", None),
            (".", "12,34,567", None),
            (".", "nan", None),
            (",", "1.234,56", 1234.56),
            (",", "+1,25", 1.25),
            (",", "1.234", 1234),
            (",", "2.55", None),
            (",", "1.23,4", None),
            (",", "1,234.56", None),
            (",", "1e5", None),
            (",", ",", None),
            (",", "", None),
        ]
        for separator, text, expected in cases:
            with self.subTest(separator=separator, text=text):
                self.assertEqual(parse_number(text, separator), expected)

    def test_bad_decimal_comma_number(self):
        content = make_csv(
            "536365;85123A;HEART;6;2010-12-01 08:26:00;2,55;17850;Belgium",
            "536365;71053;LANTERN;12x;2010-12-01 08:26:00;3,39;17850;Belgium",
            "536365;71054;LANTERN;1;2010-12-01 08:26:00;1.23,4;17850;Belgium",
            "536365;71055;LANTERN;1;2010-12-01 08:26:00;3.39;17850;Belgium",
            header=HEADER.replace(",", ";"),
        )
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content, delimiter=";", decimal_separator=",").validate()
        self.assertEqual(
            [str(issue) for issue in caught.exception.issues],
            [
                'Line 3, column "quantity": "12x" is not a number. Fix the value or remove the line.',
                'Line 4, column "unit_price": "1.23,4" is not a number. Fix the value or remove the line.',
                'Line 5, column "unit_price": "3.39" is not a number with the decimal separator ",". '
                'Set the decimal separator of the file to ".", fix the value, or remove the line.',
            ],
        )

    def test_decimal_comma_suggests_separator_option(self):
        content = make_csv(
            "536365;85123A;HEART;6;2010-12-01 08:26:00;2,55;17850;Belgium",
            header=HEADER.replace(",", ";"),
        )
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content, delimiter=";").validate()
        self.assertEqual(
            str(caught.exception),
            'Line 2, column "unit_price": "2,55" is not a number with the decimal separator ".". '
            'Set the decimal separator of the file to ",", fix the value, or remove the line.',
        )

    def test_unknown_decimal_separator_rejected(self):
        with self.assertRaises(ValueError):
            SalesHistoryReader(make_csv(), decimal_separator=";")

    def test_bad_encoding_names_line_and_column(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536365,71053,CAFÉ LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",
        ).decode("utf-8").encode("latin-1")
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertEqual(
            str(caught.exception),
            'Line 3, column "description": the text is not valid utf-8 (byte 0xc9). Select the '
            "encoding the file was saved in, for example latin-1, or save the file as UTF-8.",
        )
        _stats, invoices, _skipped = read_all(content, encoding="latin-1")
        self.assertEqual(invoices[0].lines[1].description, "CAFÉ LANTERN")

    def test_unknown_encoding_rejected(self):
        content = make_csv("536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom")
        for encoding in ("klingon", "utf-16"):
            with self.subTest(encoding=encoding), self.assertRaises(SalesHistoryError) as caught:
                SalesHistoryReader(content, encoding=encoding).validate()
            self.assertEqual(caught.exception.issues[0].code, "unknown_encoding")

    def test_utf8_bom_accepted(self):
        content = b"\xef\xbb\xbf" + make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom"
        )
        _stats, invoices, _skipped = read_all(content)
        self.assertEqual(invoices[0].number, "536365")

    def test_field_count_rejected(self):
        content = make_csv("536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom,extra")
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertEqual(
            str(caught.exception),
            "Line 2 has 9 columns, but the header has 8. Check the delimiter and the quotes of this line.",
        )

    def test_quoted_field_spanning_lines(self):
        content = make_csv(
            '536365,85123A,"HEART\nWHITE",6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
            "536365,71053,LANTERN,x,2010-12-01 08:26:00,3.39,17850,United Kingdom",
        )
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertTrue(str(caught.exception).startswith("Line 4, "), "the line number counts physical lines")

    def test_invoice_lines_must_be_contiguous(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536366,71053,LANTERN,6,2010-12-01 08:28:00,3.39,17850,United Kingdom",
            "536365,71054,LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",
        )
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertEqual(
            str(caught.exception),
            'Line 4, column "invoice": invoice 536365 already appeared on line 2, before other '
            "invoices. Sort the file so that the lines of each invoice are next to each other.",
        )

    def test_invoice_with_two_customers_rejected(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,13047,United Kingdom",
        )
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(content).validate()
        self.assertIn('Line 3, column "customer_id": invoice 536365 belongs to customer 17850', str(caught.exception))

    def test_errors_are_all_counted_first_twenty_shown(self):
        rows = ["536365,85123A,HEART,%sx,2010-12-01 08:26:00,2.55,17850,United Kingdom" % n for n in range(25)]
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(make_csv(*rows)).validate()
        error = caught.exception
        self.assertEqual(len(error.issues), 20)
        self.assertEqual(error.total, 25)
        self.assertTrue(str(error).endswith("5 more errors are not shown."))

    def test_invalid_file_yields_nothing(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536366,71053,LANTERN,6,2010-13-01 08:26:00,3.39,17850,United Kingdom",
        )
        reader = SalesHistoryReader(content)
        yielded = []
        with self.assertRaises(SalesHistoryError):
            for invoice in reader.iter_invoices():
                yielded.append(invoice)
        self.assertEqual(yielded, [], "validation happens before the first invoice")

    def test_empty_file_rejected(self):
        with self.assertRaises(SalesHistoryError) as caught:
            SalesHistoryReader(b"").validate()
        self.assertEqual(caught.exception.issues[0].code, "empty_file")

    def test_gzip_bytes_and_paths(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
            "536366,71053,LANTERN,6,2010-12-01 08:28:00,3.39,17850,United Kingdom",
        )
        expected = read_all(content)[0]
        compressed = gzip.compress(content)
        self.assertEqual(read_all(compressed)[0], expected)
        self.assertEqual(read_all(io.BytesIO(compressed))[0], expected)
        with tempfile.TemporaryDirectory() as folder:
            for name, data in (("history.csv", content), ("history.csv.gz", compressed)):
                path = os.path.join(folder, name)
                with open(path, "wb") as file:
                    file.write(data)
                with self.subTest(name=name):
                    self.assertEqual(read_all(path)[0], expected)

    def test_skip_report_csv(self):
        content = make_csv(
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,,United Kingdom",
            "536366,POST,POSTAGE,1,2010-12-01 08:28:00,18,17850,United Kingdom",
        )
        stream = io.StringIO()
        report = SkipReport(stream, keep=1)
        reader = SalesHistoryReader(content)
        list(reader.iter_invoices(on_skip=report))
        self.assertEqual(report.count, 2)
        self.assertEqual([line.line for line in report.first_lines], [2])
        self.assertEqual(
            stream.getvalue().splitlines(),
            [
                "line,reason,reason_label,invoice,stock_code,quantity,customer_id,related_line",
                "2,no_customer,No customer,536365,85123A,6,,",
                "3,non_product,Non-product code,536366,POST,1,17850,",
            ],
        )


class TestImportCommandOptions(unittest.TestCase):
    """Date format and decimal separator options of the import command."""

    def _parse(self, *arguments):
        return build_parser().parse_args(["history.csv", "--database", "db", *arguments])

    def test_defaults(self):
        options = self._parse()
        self.assertEqual(options.date_format, "iso")
        self.assertEqual(options.decimal_separator, "point")

    def test_date_format_keys_and_strptime(self):
        for key in DATE_FORMATS:
            with self.subTest(key=key):
                self.assertEqual(self._parse("--date-format", key).date_format, key)
        self.assertEqual(self._parse("--date-format", "%d/%m/%y %H:%M").date_format, "%d/%m/%y %H:%M")

    def test_invalid_options_rejected(self):
        for arguments in (("--date-format", "dmy"), ("--decimal-separator", ",")):
            with self.subTest(arguments=arguments), self.assertRaises(SystemExit), \
                    contextlib.redirect_stderr(io.StringIO()):
                self._parse(*arguments)

    def test_decimal_separator_comma(self):
        self.assertEqual(self._parse("--decimal-separator", "comma").decimal_separator, "comma")


if __name__ == "__main__":
    unittest.main()
