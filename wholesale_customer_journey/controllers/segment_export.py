# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import content_disposition, request
from odoo.tools import osutil

from odoo.addons.web.controllers.export import CSVExport, ExcelExport

_logger = logging.getLogger(__name__)

EXPORT_WRITERS = {"csv": CSVExport, "xlsx": ExcelExport}


class SegmentExportController(http.Controller):
    """Download a segment's member addresses with Odoo's own CSV and XLSX writers.

    Odoo's export dialog loses the list's sort order when all records of a
    domain are exported, so the segment exports its members itself, in
    the order set on the segment.
    """

    @http.route("/wholesale_customer_journey/segment/<int:segment_id>/addresses", type="http", auth="user")
    def export_segment_addresses(self, segment_id):
        if not request.env.user.has_group("base.group_allow_export"):
            raise AccessError(request.env._("You are not allowed to export data. Ask your administrator for the export right."))
        segment = request.env["customer.journey.segment"].browse(segment_id).exists()
        if not segment:
            raise request.not_found()
        segment.check_access("read")
        fields_info, headers, rows = segment._get_export_data()
        writer = EXPORT_WRITERS[segment.export_format]()
        content = writer.from_data(fields_info, headers, rows)
        _logger.info(
            "User %d exported %d addresses of segment %d (%s) as %s",
            request.env.uid, len(rows), segment.id, segment.name, segment.export_format,
        )
        # A character that a file name may not hold, such as the en dash of
        # "Flemish customers – email", becomes "-" instead of vanishing. The
        # header carries the name in UTF-8, so accented letters stay.
        filename = osutil.clean_filename(segment.name + writer.extension, replacement="-")
        return request.make_response(
            content,
            headers=[("Content-Disposition", content_disposition(filename)), ("Content-Type", writer.content_type)],
        )
