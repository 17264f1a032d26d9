# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Streaming reader of sales-history CSV files exported from a previous system.

Plain Python without Odoo, so that it runs and is tested on its own. Each row
is one invoice line: invoice, stock code, description, quantity, invoice date,
unit price, customer id and country. The reader reads the file in up to three
passes, so that memory grows with the number of invoices, customers, stock
codes and cancellations, never with the number of lines:

1. ``validate()`` parses every line, collects up to ``max_errors`` errors,
   classifies each line and records the cancellations.
2. When there are cancellations, ``validate()`` reads the file again to find
   the kept lines that they can offset, then matches them in memory.
3. ``iter_invoices()`` reads the file a last time and yields one invoice at a
   time with its kept lines.

A line is skipped for the first reason of ``SKIP_REASONS`` that applies, in
that order. The lines of one invoice must be next to each other in the file,
as exports list them, because exact duplicates are only looked for inside the
current invoice.
"""
import codecs
import gzip
import io
import math
import os
import re
from collections import Counter
from csv import Error as CsvError
from csv import reader as csv_reader
from csv import writer as csv_writer
from dataclasses import dataclass
from datetime import datetime, timedelta


def _lt(message):
    """Mark ``message`` for translation. The Odoo side translates it when it shows it."""
    return message


FIELDS = (
    "invoice",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)
REQUIRED_FIELDS = frozenset(
    {"invoice", "stock_code", "quantity", "invoice_date", "unit_price", "customer_id"}
)
DEFAULT_MAPPING = {name: name for name in FIELDS}
# Header names of other exports of the same data, tried when a field keeps its
# default mapping. Headers are compared in lower case without spaces, dashes
# or underscores, so "StockCode" and "Customer ID" need no alias.
COLUMN_ALIASES = {
    "invoice": ("invoiceno", "invoicenumber"),
    "unit_price": ("price",),
}

DEFAULT_ENCODING = "utf-8"
DEFAULT_MAX_QUANTITY = 10000
# Postage, carriage, discounts, manual lines, fees, samples, gift vouchers,
# charity and test lines of the Online Retail data set. "*" matches any text.
DEFAULT_NON_PRODUCT_CODES = (
    "POST",
    "DOT",
    "M",
    "C2",
    "D",
    "S",
    "B",
    "CRUK",
    "PADS",
    "AMAZONFEE",
    "BANK CHARGES",
    "GIFT_0001_*",
    "DCGS*",
    "TEST*",
)

# Checked in this order: a line gets the first reason that applies.
SKIP_REASONS = {
    "bad_debt": _lt("Bad-debt adjustment (invoice starting with A)"),
    "no_customer": _lt("No customer"),
    "duplicate": _lt("Exact duplicate of an earlier line"),
    "cancellation": _lt("Cancellation or credit note (invoice starting with C)"),
    "non_product": _lt("Non-product code"),
    "stock_adjustment": _lt("Zero or negative quantity outside a cancellation"),
    "quantity_above_max": _lt("Quantity above the maximum"),
    "negative_price": _lt("Negative unit price"),
    # Set after matching, on kept lines that a later credit note cancels.
    "cancelled": _lt("Cancelled by a later credit note"),
}

ERROR_MESSAGES = {
    "empty_file": _lt(
        "The file is empty. Choose a CSV file whose first line contains the column names."
    ),
    "missing_columns": _lt(
        "The file has no column %(columns)s. Columns found: %(found)s. "
        "Map each field to a column of the file, or add the column."
    ),
    "unknown_encoding": _lt(
        'The encoding "%(encoding)s" is unknown or not supported. '
        "Use an encoding such as utf-8, latin-1 or cp1252."
    ),
    "bad_csv": _lt("Line %(line)s: %(error)s. Check the quotes and the delimiter of this line."),
    "decode": _lt(
        'Line %(line)s, column "%(column)s": the text is not valid %(encoding)s '
        "(byte %(byte)s). Select the encoding the file was saved in, for example "
        "latin-1, or save the file as UTF-8."
    ),
    "field_count": _lt(
        "Line %(line)s has %(count)s columns, but the header has %(expected)s. "
        "Check the delimiter and the quotes of this line."
    ),
    "required": _lt(
        'Line %(line)s, column "%(column)s": the value is missing. Fill it in or remove the line.'
    ),
    "number": _lt(
        'Line %(line)s, column "%(column)s": "%(value)s" is not a number. '
        "Fix the value or remove the line."
    ),
    "number_separator": _lt(
        'Line %(line)s, column "%(column)s": "%(value)s" is not a number with the decimal '
        'separator "%(separator)s". Set the decimal separator of the file to "%(other)s", '
        "fix the value, or remove the line."
    ),
    "date_range": _lt(
        'Line %(line)s, column "%(column)s": "%(value)s" is before 1900 or in the future, '
        "which no invoice of a sales history is. Fix the value or remove the line."
    ),
    "date": _lt(
        'Line %(line)s, column "%(column)s": "%(value)s" is not a date in the format '
        "%(format)s. Fix the value, set the date format of the file, or remove the line."
    ),
    "not_contiguous": _lt(
        'Line %(line)s, column "%(column)s": invoice %(value)s already appeared on '
        "line %(first_line)s, before other invoices. Sort the file so that the lines "
        "of each invoice are next to each other."
    ),
    "customer_conflict": _lt(
        'Line %(line)s, column "%(column)s": invoice %(invoice)s belongs to customer '
        "%(expected)s (line %(first_line)s), not %(value)s. Fix the customer or the "
        "invoice number."
    ),
    "more_errors": _lt("%(count)s more errors are not shown."),
}

# Decimal separators by the name that the command line takes.
DECIMAL_SEPARATORS = {"point": ".", "comma": ","}
DEFAULT_DECIMAL_SEPARATOR = "."
# With a decimal point, a comma may only group thousands: "1,234" or "-1,234,567.89".
_POINT_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
# With a decimal comma, a point may only group thousands: "1.234,56", "1234,56", ",5".
_COMMA_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]*)?|,[0-9]+)")

DEFAULT_DATE_FORMAT = "iso"
# Invoice dates before this year are typing errors.
MIN_INVOICE_YEAR = 1900
_HEADER_CLEANUP = re.compile(r"[\s_\-.]+")
_INTEGER_FLOAT = re.compile(r"^(\d+)\.0*$")


def _date_regex(date, time_separator=r"\s+", meridiem=False):
    """Compile a regular expression for ``date`` followed by an optional time.

    The time is "8:26" or "08:26:00", and with ``meridiem`` may end in AM or PM.
    """
    time = r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    if meridiem:
        time += r"(?:\s*(?P<meridiem>[AaPp][Mm]))?"
    return re.compile(r"%s(?:%s%s)?" % (date, time_separator, time))


@dataclass(frozen=True)
class DateFormat:
    """A format of the invoice dates that users pick by an example date.

    Day and month may have one or two digits, and a time with or without
    seconds may follow the date. ``pattern`` names the format in error messages.
    """

    label: str
    pattern: str
    regex: re.Pattern
    # Try datetime.fromisoformat() first, which also reads UTC offsets and
    # fractions of a second.
    iso: bool = False

    def parse(self, text):
        """Return the datetime that ``text`` contains, or raise ValueError."""
        if self.iso:
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        match = self.regex.fullmatch(text)
        if match is None:
            raise ValueError("%r does not match %s" % (text, self.pattern))
        hour = int(match["hour"] or 0)
        meridiem = match.groupdict().get("meridiem")
        if meridiem:
            if not 1 <= hour <= 12:
                raise ValueError("hour %s is not between 1 and 12 before AM or PM" % hour)
            hour = hour % 12 + (12 if meridiem.upper() == "PM" else 0)
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            hour,
            int(match["minute"] or 0),
            int(match["second"] or 0),
        )


_DAY = r"(?P<day>[0-9]{1,2})"
_MONTH = r"(?P<month>[0-9]{1,2})"
_YEAR = r"(?P<year>[0-9]{4})"
# Keys are the values of the wizard's selection and of --date-format.
DATE_FORMATS = {
    "iso": DateFormat(
        "2011-12-09 12:50 (ISO)",
        "YYYY-MM-DD HH:MM:SS",
        _date_regex(r"%s-%s-%s" % (_YEAR, _MONTH, _DAY), time_separator=r"(?:T|\s+)"),
        iso=True,
    ),
    "day_first": DateFormat(
        "09/12/2011 12:50 (day first)",
        "DD/MM/YYYY HH:MM:SS",
        _date_regex(r"%s/%s/%s" % (_DAY, _MONTH, _YEAR), meridiem=True),
    ),
    "month_first": DateFormat(
        "12/09/2011 12:50 (month first)",
        "MM/DD/YYYY HH:MM:SS",
        _date_regex(r"%s/%s/%s" % (_MONTH, _DAY, _YEAR), meridiem=True),
    ),
    "day_first_dash": DateFormat(
        "09-12-2011 12:50",
        "DD-MM-YYYY HH:MM:SS",
        _date_regex(r"%s-%s-%s" % (_DAY, _MONTH, _YEAR), meridiem=True),
    ),
    "day_first_dot": DateFormat(
        "09.12.2011 12:50",
        "DD.MM.YYYY HH:MM:SS",
        _date_regex(r"%s\.%s\.%s" % (_DAY, _MONTH, _YEAR), meridiem=True),
    ),
}


def parse_number(text, decimal_separator=DEFAULT_DECIMAL_SEPARATOR, integer_first=True):
    """Return the finite number that ``text`` contains, or None when it contains none.

    With a decimal point, a comma is accepted only as a thousands separator
    in groups of three digits ("1,234.56"). With a decimal comma, a point is
    accepted only as such a separator ("1.234,56").

    :param text: the value without surrounding spaces
    :param integer_first: return an int when the value has no decimal part
    """
    if decimal_separator == ",":
        if not _COMMA_NUMBER.fullmatch(text):
            return None
        text = text.replace(".", "")
        if integer_first and "," not in text:
            return int(text)
        number = float(text.replace(",", "."))
    else:
        if integer_first:
            try:
                return int(text)
            except ValueError:
                pass
        try:
            number = float(text)
        except ValueError:
            # NOTE: "1,250" reads as 1250, so a file with decimal commas is
            # rejected only when one of its values has other than three decimals.
            if not _POINT_GROUPED_NUMBER.fullmatch(text):
                return None
            text = text.replace(",", "")
            if integer_first and "." not in text:
                return int(text)
            number = float(text)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Issue:
    """One reason why a file cannot be imported, as a message code and its values."""

    code: str
    params: dict

    @property
    def template(self):
        return ERROR_MESSAGES[self.code]

    def __str__(self):
        return self.template % self.params


class SalesHistoryError(ValueError):
    """The file cannot be imported. ``issues`` lists the first errors found.

    ``total`` counts every error, including those left out of ``issues``.
    """

    def __init__(self, issues, total=None):
        self.issues = list(issues)
        self.total = total if total is not None else len(self.issues)
        lines = [str(issue) for issue in self.issues]
        if self.total > len(self.issues):
            lines.append(
                str(Issue("more_errors", {"count": self.total - len(self.issues)}))
            )
        super().__init__("\n".join(lines))


@dataclass(slots=True)
class SalesLine:
    """One parsed line of the file. ``line`` is its number in the file, header is 1."""

    line: int
    invoice: str
    stock_code: str
    description: str
    quantity: float
    date: datetime
    unit_price: float
    customer_id: str
    country: str
    reason: str = None
    # Cancellation: the line it offsets. Cancelled line: its cancellation.
    related_line: int = None


@dataclass(slots=True)
class SalesInvoice:
    """The kept lines of one invoice, dated at its earliest kept line."""

    number: str
    customer_id: str
    country: str
    date: datetime
    lines: list


@dataclass(slots=True)
class ProductSummary:
    """Description counts and latest unit price of one stock code, from kept lines."""

    descriptions: Counter
    price: float = 0.0
    price_date: datetime = None

    @property
    def name(self):
        """Return the most frequent description, the first seen on a tie."""
        if not self.descriptions:
            return ""
        return self.descriptions.most_common(1)[0][0]


def compile_code_patterns(codes):
    """Return a regular expression matching any of ``codes``, case-insensitively.

    :param codes: stock codes, as an iterable or one comma-separated string.
        "*" in a code matches any text.
    """
    if isinstance(codes, str):
        codes = codes.split(",")
    alternatives = [
        ".*".join(re.escape(part) for part in code.strip().upper().split("*"))
        for code in codes or ()
        if code.strip()
    ]
    if not alternatives:
        return None
    return re.compile("(?:%s)" % "|".join(alternatives), re.IGNORECASE)


def normalize_header(name):
    """Return a column name in lower case without spaces, dashes, dots or underscores."""
    return _HEADER_CLEANUP.sub("", (name or "").strip().lstrip("\ufeff")).lower()


def normalize_customer_id(value):
    """Return the customer id without spaces and without a ".0" that spreadsheets add."""
    value = value.strip()
    match = _INTEGER_FLOAT.match(value)
    return match.group(1) if match else value


class SalesHistoryReader:
    """Parse, validate and group a sales-history CSV file in a streaming way.

    :param source: path of a .csv or .csv.gz file, its content as bytes, or a
        seekable binary file object. Gzip is recognised by its first bytes.
    :param mapping: {field: column name in the file} for the fields of
        ``FIELDS``. Fields left out keep their default name. An empty name
        marks an optional field (description, country) as absent.
    :param encoding: encoding of the text, utf-8 by default. Only encodings
        that write ASCII characters as single bytes are supported.
    :param max_quantity: a line with a larger quantity is skipped
    :param non_product_codes: stock codes that are not products, see
        ``compile_code_patterns``
    :param decimal_separator: "." (the default) or "," in quantities and unit
        prices, see ``parse_number``
    :param date_format: key of ``DATE_FORMATS``, "iso" by default, or a
        ``strptime`` format, recognised by its "%" codes
    :param max_errors: number of errors kept for the report, though all are counted
    """

    def __init__(
        self,
        source,
        mapping=None,
        encoding=None,
        delimiter=",",
        max_quantity=DEFAULT_MAX_QUANTITY,
        non_product_codes=DEFAULT_NON_PRODUCT_CODES,
        date_format=None,
        max_errors=20,
        decimal_separator=DEFAULT_DECIMAL_SEPARATOR,
    ):
        if isinstance(source, str | os.PathLike):
            self.source = os.fspath(source)
        elif isinstance(source, bytes | bytearray | memoryview):
            self.source = bytes(source)
        elif hasattr(source, "read") and hasattr(source, "seek"):
            self.source = source
        else:
            raise TypeError("source must be a path, bytes or a seekable binary file object")
        self.mapping = dict(DEFAULT_MAPPING)
        self.mapping.update(mapping or {})
        unknown = set(self.mapping) - set(FIELDS)
        if unknown:
            raise ValueError("Unknown fields in the mapping: %s" % ", ".join(sorted(unknown)))
        self.encoding = (encoding or DEFAULT_ENCODING).strip()
        self.delimiter = delimiter or ","
        self.max_quantity = max_quantity
        self.non_product_pattern = compile_code_patterns(non_product_codes)
        self.decimal_separator = decimal_separator or DEFAULT_DECIMAL_SEPARATOR
        if self.decimal_separator not in DECIMAL_SEPARATORS.values():
            raise ValueError('Unknown decimal separator %r: use "." or ","' % decimal_separator)
        self.date_format = date_format or DEFAULT_DATE_FORMAT
        if self.date_format in DATE_FORMATS:
            self._date_pattern = DATE_FORMATS[self.date_format].pattern
            self._read_date = DATE_FORMATS[self.date_format].parse
        elif "%" in self.date_format:
            self._date_pattern = self.date_format
            self._read_date = self._read_strptime_date
        else:
            raise ValueError(
                "Unknown date format %r: use one of %s, or a strptime format such as %%d/%%m/%%Y"
                % (date_format, ", ".join(DATE_FORMATS))
            )
        self.max_errors = max_errors
        self._errors = []
        self._error_count = 0
        self._decode_errors = {}
        self._columns = None
        self._validated = False
        self.stats = None
        self.products = {}
        self.customers = {}
        # Original line -> cancellation line, and back.
        self.offsets = {}
        self.cancellation_matches = {}

    # ------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------

    def _open_binary(self):
        """Return (stream of the uncompressed file from its start, stream to close)."""
        if isinstance(self.source, str):
            raw = open(self.source, "rb")  # noqa: SIM115 - closed in _rows
        elif isinstance(self.source, bytes):
            raw = io.BytesIO(self.source)
        else:
            self.source.seek(0)
            raw = self.source
        magic = raw.read(2)
        raw.seek(0)
        stream = raw
        if magic == b"\x1f\x8b":
            # The buffered reader splits lines in C, several times faster than GzipFile.
            stream = io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), 1 << 16)
        # A file object of the caller stays open.
        return stream, (raw if raw is not self.source else None)

    def _check_encoding(self):
        try:
            codec = codecs.lookup(self.encoding)
        except LookupError:
            raise SalesHistoryError([Issue("unknown_encoding", {"encoding": self.encoding})]) from None
        # Lines are split on b"\n" before decoding, which only works when the
        # encoding writes ASCII as single bytes (not UTF-16 or UTF-32).
        if codec.encode('\n,;\t"')[0] != b'\n,;\t"':
            raise SalesHistoryError([Issue("unknown_encoding", {"encoding": self.encoding})])
        return codec

    def _text_lines(self, stream, codec):
        """Yield the decoded lines of ``stream``, remembering undecodable ones.

        Invalid bytes are kept as surrogates so that the row can still be split
        into columns and the error can name the column.
        """
        decode = codec.decode
        for number, raw in enumerate(stream, start=1):
            try:
                text = decode(raw)[0]
            except UnicodeDecodeError as error:
                self._decode_errors[number] = "0x%02x" % raw[error.start]
                text = decode(raw, "surrogateescape")[0]
            if number == 1:
                text = text.lstrip("\ufeff")
            yield text

    def _resolve_columns(self, header):
        """Return {field: column index}, or raise when a mapped column is missing."""
        normalized = [normalize_header(name) for name in header]
        exact = {name.strip(): index for index, name in reversed(list(enumerate(header)))}
        by_normalized = {}
        for index, name in enumerate(normalized):
            by_normalized.setdefault(name, index)
        columns = {}
        missing = []
        for field in FIELDS:
            column_name = (self.mapping.get(field) or "").strip()
            if not column_name:
                if field in REQUIRED_FIELDS:
                    missing.append(field)
                continue
            index = exact.get(column_name, by_normalized.get(normalize_header(column_name)))
            if index is None and column_name == DEFAULT_MAPPING[field]:
                for alias in COLUMN_ALIASES.get(field, ()):
                    index = by_normalized.get(alias)
                    if index is not None:
                        break
            if index is not None:
                columns[field] = index
            elif field in REQUIRED_FIELDS or column_name != DEFAULT_MAPPING[field]:
                # An optional field under its default name may be absent, but
                # a column that the user named must exist.
                missing.append(column_name)
        if missing:
            raise SalesHistoryError(
                [
                    Issue(
                        "missing_columns",
                        {
                            "columns": ", ".join('"%s"' % name for name in missing),
                            "found": ", ".join('"%s"' % name for name in header) or "-",
                        },
                    )
                ]
            )
        return columns

    def _error(self, code, **params):
        self._error_count += 1
        if len(self._errors) < self.max_errors:
            self._errors.append(Issue(code, params))

    def _column_name(self, field):
        return self._header[self._columns[field]]

    def _rows(self):
        """Yield (line number, row) for each non-blank data row, header excluded."""
        codec = self._check_encoding()
        stream, owned = self._open_binary()
        try:
            lines = self._text_lines(stream, codec)
            rows = csv_reader(lines, delimiter=self.delimiter)
            try:
                header = next(rows, None)
            except CsvError as error:
                raise SalesHistoryError([Issue("bad_csv", {"line": 1, "error": str(error)})]) from None
            if not header or not any(name.strip() for name in header):
                raise SalesHistoryError([Issue("empty_file", {})])
            self._header = [name.strip() for name in header]
            self._columns = self._resolve_columns(header)
            width = len(header)
            end_line = rows.line_num
            while True:
                start_line = end_line + 1
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except CsvError as error:
                    # The csv module cannot resume after a parse error.
                    self._error("bad_csv", line=start_line, error=str(error))
                    break
                end_line = rows.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if self._decode_errors:
                    self._report_decode_errors(start_line, end_line, row)
                if len(row) != width:
                    self._error("field_count", line=start_line, count=len(row), expected=width)
                    continue
                yield start_line, row
        finally:
            if owned is not None:
                owned.close()

    def _report_decode_errors(self, start_line, end_line, row):
        byte = None
        for number in range(start_line, end_line + 1):
            byte = self._decode_errors.pop(number, None) or byte
        if byte is None:
            return
        column = next(
            (name for name, value in zip(self._header, row) if any("\udc80" <= char <= "\udcff" for char in value)),
            self._header[0],
        )
        self._error("decode", line=start_line, column=column, encoding=self.encoding, byte=byte)

    def _parse_number(self, line, field, value, integer_first=True):
        text = value.strip()
        number = parse_number(text, self.decimal_separator, integer_first)
        if number is not None:
            return number
        column = self._column_name(field)
        other = "," if self.decimal_separator == "." else "."
        if not text:
            self._error("required", line=line, column=column)
        elif parse_number(text, other, integer_first) is not None:
            self._error(
                "number_separator",
                line=line,
                column=column,
                value=value,
                separator=self.decimal_separator,
                other=other,
            )
        else:
            self._error("number", line=line, column=column, value=value)
        return None

    def _read_strptime_date(self, text):
        return datetime.strptime(text, self.date_format)

    def _parse_date(self, line, value):
        text = value.strip()
        if not text:
            self._error("required", line=line, column=self._column_name("invoice_date"))
            return None
        try:
            date = self._read_date(text)
        except ValueError:
            self._error(
                "date",
                line=line,
                column=self._column_name("invoice_date"),
                value=value,
                format=self._date_pattern,
            )
            return None
        # A day of margin for time zones: the dates are local, the clock is not.
        naive = date.replace(tzinfo=None)
        if naive.year < MIN_INVOICE_YEAR or naive > datetime.now() + timedelta(days=1):
            self._error("date_range", line=line, column=self._column_name("invoice_date"), value=value)
            return None
        return date

    def _parse_lines(self):
        """Yield a SalesLine for each valid row, with its skip reason set.

        The reasons set here depend on the line alone or on its invoice.
        ``cancelled`` needs the whole file and is applied by the callers.
        Invalid rows are recorded as errors and left out.
        """
        columns = None
        invoice_first_line = {}
        current_invoice = None
        current_customer = None
        seen_rows = set()
        last_date_text = None
        last_date = None
        for line, row in self._rows():
            if columns is None:
                columns = self._columns
                index_of = columns.get
                invoice_index = columns["invoice"]
                code_index = columns["stock_code"]
                quantity_index = columns["quantity"]
                date_index = columns["invoice_date"]
                price_index = columns["unit_price"]
                customer_index = columns["customer_id"]
                description_index = index_of("description")
                country_index = index_of("country")
            invoice = row[invoice_index].strip().upper()
            code = row[code_index].strip().upper()
            valid = True
            if not invoice:
                self._error("required", line=line, column=self._column_name("invoice"))
                valid = False
            if not code:
                self._error("required", line=line, column=self._column_name("stock_code"))
                valid = False
            quantity = self._parse_number(line, "quantity", row[quantity_index])
            price = self._parse_number(line, "unit_price", row[price_index], integer_first=False)
            date_text = row[date_index]
            if date_text != last_date_text:
                last_date = self._parse_date(line, date_text)
                last_date_text = date_text if last_date is not None else None
            date = last_date if date_text == last_date_text else None
            if quantity is None or price is None or date is None:
                valid = False
            customer = normalize_customer_id(row[customer_index])

            # Grouping checks, also on invalid lines so that every error shows.
            if invoice != current_invoice:
                first_line = invoice_first_line.get(invoice)
                if first_line is not None:
                    self._error(
                        "not_contiguous",
                        line=line,
                        column=self._column_name("invoice"),
                        value=invoice,
                        first_line=first_line,
                    )
                    valid = False
                else:
                    invoice_first_line[invoice] = line
                current_invoice = invoice
                current_customer = None
                seen_rows.clear()
            if customer:
                if current_customer is None:
                    current_customer = (customer, line)
                elif current_customer[0] != customer:
                    self._error(
                        "customer_conflict",
                        line=line,
                        column=self._column_name("customer_id"),
                        invoice=invoice,
                        expected=current_customer[0],
                        first_line=current_customer[1],
                        value=customer,
                    )
                    valid = False
            if not valid:
                continue

            sales_line = SalesLine(
                line=line,
                invoice=invoice,
                stock_code=code,
                description=row[description_index].strip() if description_index is not None else "",
                quantity=quantity,
                date=date,
                unit_price=price,
                customer_id=customer,
                country=row[country_index].strip() if country_index is not None else "",
            )
            row_key = tuple(row)
            duplicate = row_key in seen_rows
            seen_rows.add(row_key)
            sales_line.reason = self._classify(sales_line, duplicate)
            yield sales_line

    def _classify(self, line, duplicate):
        """Return the skip reason of ``line``, or None to keep it."""
        if line.invoice.startswith("A"):
            return "bad_debt"
        if not line.customer_id:
            return "no_customer"
        if duplicate:
            return "duplicate"
        if line.invoice.startswith("C"):
            return "cancellation"
        if self.non_product_pattern and self.non_product_pattern.fullmatch(line.stock_code):
            return "non_product"
        if line.quantity <= 0:
            return "stock_adjustment"
        if self.max_quantity and line.quantity > self.max_quantity:
            return "quantity_above_max"
        if line.unit_price < 0:
            return "negative_price"
        return None

    # ------------------------------------------------------------
    # Passes
    # ------------------------------------------------------------

    def validate(self):
        """Read the whole file, raise SalesHistoryError if it has errors, return the stats.

        Also fills ``products`` ({stock code: ProductSummary}), ``customers``
        ({customer id: country of the latest kept line}) and the offsets
        between cancellations and the lines they cancel.

        :return: dict with ``lines``, ``kept_lines``, ``invoices``,
            ``customers``, ``stock_codes``, ``skipped`` ({reason: count}),
            ``offsets`` and ``unmatched_cancellations``
        """
        self._errors = []
        self._error_count = 0
        self._decode_errors = {}
        self.customers = {}
        self.offsets = {}
        self.cancellation_matches = {}
        skipped = Counter()
        kept_per_invoice = Counter()
        kept_per_customer = Counter()
        kept_per_code = Counter()
        # (customer, stock code, quantity of the original) -> [(date, line)]
        cancellations = {}
        customer_dates = {}
        products = {}
        line_count = 0
        for line in self._parse_lines():
            line_count += 1
            if line.reason == "cancellation":
                key = (line.customer_id, line.stock_code, -line.quantity)
                cancellations.setdefault(key, []).append((line.date, line.line))
            if line.reason:
                skipped[line.reason] += 1
                continue
            kept_per_invoice[line.invoice] += 1
            kept_per_customer[line.customer_id] += 1
            kept_per_code[line.stock_code] += 1
            product = products.get(line.stock_code)
            if product is None:
                product = products[line.stock_code] = ProductSummary(Counter())
            if line.description:
                product.descriptions[line.description] += 1
            if product.price_date is None or line.date >= product.price_date:
                product.price = line.unit_price
                product.price_date = line.date
            if line.country and (
                line.customer_id not in customer_dates or line.date >= customer_dates[line.customer_id]
            ):
                self.customers[line.customer_id] = line.country
                customer_dates[line.customer_id] = line.date
            else:
                self.customers.setdefault(line.customer_id, "")
        if self._error_count:
            raise SalesHistoryError(self._errors, self._error_count)

        self.products = products
        for invoice, customer, code in self._match_cancellations(cancellations) if cancellations else ():
            kept_per_invoice[invoice] -= 1
            kept_per_customer[customer] -= 1
            kept_per_code[code] -= 1
        skipped["cancelled"] = len(self.offsets)
        for customer, count in kept_per_customer.items():
            if count <= 0:
                del self.customers[customer]
        self.stats = {
            "lines": line_count,
            "kept_lines": line_count - sum(skipped.values()),
            "invoices": sum(1 for count in kept_per_invoice.values() if count > 0),
            "customers": len(self.customers),
            "stock_codes": sum(1 for count in kept_per_code.values() if count > 0),
            "skipped": {reason: skipped[reason] for reason in SKIP_REASONS if skipped[reason]},
            "offsets": len(self.offsets),
            "unmatched_cancellations": skipped["cancellation"] - len(self.offsets),
        }
        self._validated = True
        return self.stats

    def _match_cancellations(self, cancellations):
        """Match each cancellation with the kept line that it cancels.

        A match has the same customer and stock code, the opposite quantity
        and is dated no later than the cancellation. Among several, the latest
        one wins, and each line is cancelled at most once. Fills ``offsets``
        and ``cancellation_matches``.

        :return: (invoice, customer id, stock code) of each cancelled line
        """
        # Second pass: only kept lines that some cancellation may offset.
        candidates = {}
        for line in self._parse_lines():
            if line.reason is None:
                key = (line.customer_id, line.stock_code, line.quantity)
                if key in cancellations:
                    candidates.setdefault(key, []).append((line.date, line.line, line.invoice))
        cancelled = []
        for key, cancels in cancellations.items():
            originals = candidates.get(key)
            if not originals:
                continue
            for cancel_date, cancel_line in sorted(cancels):
                best = None
                for original in originals:
                    if original[0] <= cancel_date and original[1] not in self.offsets:
                        if best is None or original[:2] > best[:2]:
                            best = original
                if best is not None:
                    self.offsets[best[1]] = cancel_line
                    self.cancellation_matches[cancel_line] = best[1]
                    cancelled.append((best[2], key[0], key[1]))
        return cancelled

    def iter_invoices(self, on_skip=None):
        """Yield a SalesInvoice for each invoice that keeps at least one line.

        :param on_skip: called with each skipped SalesLine, in file order,
            with ``reason`` and ``related_line`` set
        """
        if not self._validated:
            self.validate()
        invoice = None
        for line in self._parse_lines():
            if line.reason is None and line.line in self.offsets:
                line.reason = "cancelled"
                line.related_line = self.offsets[line.line]
            elif line.reason == "cancellation":
                line.related_line = self.cancellation_matches.get(line.line)
            if invoice is not None and line.invoice != invoice.number:
                if invoice.lines:
                    yield invoice
                invoice = None
            if line.reason:
                if on_skip is not None:
                    on_skip(line)
                continue
            if invoice is None:
                invoice = SalesInvoice(line.invoice, line.customer_id, line.country, line.date, [])
            invoice.lines.append(line)
            if line.date < invoice.date:
                invoice.date = line.date
        if self._error_count:
            # The file changed since it was validated.
            raise SalesHistoryError(self._errors, self._error_count)
        if invoice is not None and invoice.lines:
            yield invoice


class SkipReport:
    """Collect the skipped lines: the first ``keep`` in memory, all as CSV rows.

    Pass an instance as ``on_skip``. ``stream`` is a text file object, or
    None to keep only the first lines.

    :param label: returns the text shown for a reason code
    """

    HEADER = ("line", "reason", "reason_label", "invoice", "stock_code", "quantity", "customer_id", "related_line")

    def __init__(self, stream=None, keep=50, label=None):
        self.first_lines = []
        self.count = 0
        self.keep = keep
        self.label = label or (lambda reason: SKIP_REASONS[reason])
        self._labels = {}
        self._writer = None
        if stream is not None:
            self._writer = csv_writer(stream)
            self._writer.writerow(self.HEADER)

    def __call__(self, line):
        self.count += 1
        if len(self.first_lines) < self.keep:
            self.first_lines.append(line)
        if self._writer is not None:
            label = self._labels.get(line.reason)
            if label is None:
                label = self._labels[line.reason] = self.label(line.reason)
            self._writer.writerow(
                (
                    line.line,
                    line.reason,
                    label,
                    line.invoice,
                    line.stock_code,
                    line.quantity,
                    line.customer_id,
                    line.related_line or "",
                )
            )
