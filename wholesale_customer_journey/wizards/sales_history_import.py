# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import binascii
import io
import tempfile

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools.sales_history import (
    DATE_FORMATS,
    DEFAULT_DATE_FORMAT,
    DEFAULT_DECIMAL_SEPARATOR,
    DEFAULT_MAPPING,
    DEFAULT_MAX_QUANTITY,
    DEFAULT_NON_PRODUCT_CODES,
    FIELDS,
    SkipReport,
)

# Skipped lines shown in the result. The CSV report lists all of them.
SKIPPED_LINES_SHOWN = 50


class CustomerJourneySalesImportWizard(models.TransientModel):
    """Upload of a sales-history CSV file, with its column mapping and result."""

    _name = "customer.journey.sales.import.wizard"
    _description = "Import Sales History"

    state = fields.Selection([("draft", "Settings"), ("done", "Result")], default="draft", required=True)
    data_file = fields.Binary(string="File", attachment=False, help="CSV file, or CSV compressed with gzip (.csv.gz).")
    filename = fields.Char()
    encoding = fields.Selection(
        [
            ("utf-8", "UTF-8"),
            ("cp1252", "Windows-1252 (Western European)"),
            ("latin-1", "ISO-8859-1 (Latin-1)"),
        ],
        default="utf-8",
        required=True,
        help="Character encoding the file was saved in. Choose Windows-1252 for "
        "files that spreadsheet programs save as CSV on Windows.",
    )
    delimiter = fields.Selection(
        [(",", "Comma"), (";", "Semicolon"), ("\t", "Tab"), ("|", "Vertical bar")],
        default=",",
        required=True,
    )
    decimal_separator = fields.Selection(
        [(".", "Point (1,234.56)"), (",", "Comma (1.234,56)")],
        default=DEFAULT_DECIMAL_SEPARATOR,
        required=True,
        help="Decimal separator of the quantities and unit prices. With a point, a comma "
        "may separate thousands. With a comma, a point may separate thousands.",
    )
    date_format = fields.Selection(
        [(key, date_format.label) for key, date_format in DATE_FORMATS.items()],
        string="Date Format",
        default=DEFAULT_DATE_FORMAT,
        required=True,
        help="Format of the invoice dates. Each example is 9 December 2011 at 12:50. Day and "
        "month may have one or two digits. The time is optional, with or without seconds, "
        "and outside ISO dates it may end in AM or PM.",
    )
    tz = fields.Selection(
        _tz_get,
        string="Time Zone of the Dates",
        default=lambda self: self.env.user.tz or "UTC",
        required=True,
        help="Time zone in which the previous system wrote the invoice dates.",
    )
    column_invoice = fields.Char(string="Invoice Column", default=DEFAULT_MAPPING["invoice"], required=True)
    column_stock_code = fields.Char(
        string="Stock Code Column", default=DEFAULT_MAPPING["stock_code"], required=True
    )
    column_description = fields.Char(
        string="Description Column",
        default=DEFAULT_MAPPING["description"],
        help="Leave empty when the file has no description. Products are then named after their stock code.",
    )
    column_quantity = fields.Char(string="Quantity Column", default=DEFAULT_MAPPING["quantity"], required=True)
    column_invoice_date = fields.Char(
        string="Invoice Date Column", default=DEFAULT_MAPPING["invoice_date"], required=True
    )
    column_unit_price = fields.Char(
        string="Unit Price Column", default=DEFAULT_MAPPING["unit_price"], required=True
    )
    column_customer_id = fields.Char(
        string="Customer Column", default=DEFAULT_MAPPING["customer_id"], required=True
    )
    column_country = fields.Char(
        string="Country Column",
        default=DEFAULT_MAPPING["country"],
        help="Leave empty when the file has no country.",
    )
    max_quantity = fields.Integer(
        string="Maximum Quantity",
        default=DEFAULT_MAX_QUANTITY,
        help="Lines with a larger quantity are skipped as input errors. 0 means no maximum.",
    )
    non_product_codes = fields.Char(
        string="Non-Product Codes",
        default=", ".join(DEFAULT_NON_PRODUCT_CODES),
        help="Comma-separated stock codes of postage, fees, discounts and other lines that "
        "are not products. * matches any text, and case does not matter.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson of New Customers",
        domain=[("share", "=", False)],
        help="The customers that the import creates get this salesperson, so that the follow-up of their "
        "suggestions reaches someone. Customers found by their reference keep theirs. Empty: no salesperson.",
    )
    result_html = fields.Html(string="Result", readonly=True, sanitize=True)
    skip_report = fields.Binary(string="Skipped Lines Report", readonly=True, attachment=True)
    skip_report_name = fields.Char(string="Skipped Lines File Name")

    @api.constrains("max_quantity")
    def _check_max_quantity(self):
        for wizard in self:
            if wizard.max_quantity < 0:
                raise ValidationError(_("The maximum quantity cannot be negative. Enter 0 for no maximum."))

    def _get_mapping(self):
        return {field: (self["column_%s" % field] or "").strip() for field in FIELDS}

    def _check_manager(self):
        if not self.env.user.has_group("wholesale_customer_journey.group_journey_manager"):
            raise AccessError(_("Only Customer Journey managers can import a sales history."))

    def action_import(self):
        """Import the file and show the result in the same window."""
        self.ensure_one()
        self._check_manager()
        if not self.data_file:
            raise UserError(_("No file selected. Choose the CSV file of the sales history."))
        try:
            content = base64.b64decode(self.data_file, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(_("The uploaded file could not be read. Upload it again.")) from None

        importer = self.env["customer.journey.sales.import"]
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as report_file:
            report = SkipReport(report_file, keep=SKIPPED_LINES_SHOWN, label=importer._skip_reason_label)
            stats = importer._import_sales_history(
                io.BytesIO(content),
                mapping=self._get_mapping(),
                encoding=self.encoding,
                delimiter=self.delimiter,
                max_quantity=self.max_quantity,
                non_product_codes=self.non_product_codes or "",
                date_format=self.date_format,
                decimal_separator=self.decimal_separator,
                tz=self.tz,
                on_skip=report,
                salesperson=self.user_id,
            )
            report_file.seek(0)
            report_data = report_file.read().encode("utf-8")
        base_name = (self.filename or "sales_history").rsplit(".csv", 1)[0]
        self.write(
            {
                "state": "done",
                "data_file": False,
                "result_html": self._render_result(stats, report),
                "skip_report": base64.b64encode(report_data) if report.count else False,
                "skip_report_name": "%s_skipped_lines.csv" % base_name,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Import Sales History"),
        }

    def action_open_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("journey_historical", "=", True)]
        action["context"] = {}
        return action

    def _render_result(self, stats, report):
        """Return the HTML summary of the import: counts, then the first skipped lines."""
        importer = self.env["customer.journey.sales.import"]
        rows = [
            (_("Lines read"), stats["lines"]),
            (_("Lines imported"), stats["kept_lines"]),
            (_("Orders created"), stats["orders_created"]),
            (_("Orders already imported before"), stats["orders_existing"]),
            (_("Touchpoints created"), stats["touchpoints_created"]),
            (_("Customers created"), stats["customers_created"]),
            (_("Existing customers reused"), stats["customers_reused"]),
            (_("Products created"), stats["products_created"]),
            (_("Existing products reused"), stats["products_reused"]),
            (_("Customers moved to a new journey stage"), stats["customers_moved"]),
            (_("Cancellations offset against their original line"), stats["offsets"]),
            (_("Cancellations without a matching original line"), stats["unmatched_cancellations"]),
        ]
        rows += [
            (_("Skipped: %(reason)s", reason=importer._skip_reason_label(reason)), count)
            for reason, count in stats["skipped"].items()
        ]
        html = Markup('<table class="table table-sm o_journey_import_counts"><tbody>')
        for label, value in rows:
            html += Markup('<tr><td>%s</td><td class="text-end">%s</td></tr>') % (label, value)
        html += Markup("</tbody></table>")
        if report.first_lines:
            html += Markup("<p>%s</p>") % _(
                "First %(shown)s of %(count)s skipped lines. Download the report for all of them.",
                shown=len(report.first_lines),
                count=report.count,
            )
            html += Markup('<table class="table table-sm o_journey_import_skipped"><thead><tr>')
            for title in (_("Line"), _("Reason"), _("Invoice"), _("Stock Code"), _("Quantity"), _("Customer")):
                html += Markup("<th>%s</th>") % title
            html += Markup("</tr></thead><tbody>")
            for line in report.first_lines:
                reason = importer._skip_reason_label(line.reason)
                if line.related_line:
                    reason = _("%(reason)s (line %(line)s)", reason=reason, line=line.related_line)
                html += Markup("<tr>%s</tr>") % Markup("").join(
                    Markup("<td>%s</td>") % escape(value)
                    for value in (
                        line.line,
                        reason,
                        line.invoice,
                        line.stock_code,
                        line.quantity,
                        line.customer_id or "",
                    )
                )
            html += Markup("</tbody></table>")
        return html
