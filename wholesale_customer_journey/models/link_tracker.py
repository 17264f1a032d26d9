# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    @api.model
    def add_click(self, code, **route_values):
        """Register the click, as a journey response only when its link is the trace's mailing's.

        The public route ``/r/<code>/m/<trace id>`` accepts any link code with
        any trace id. A link of another mailing, or of no mailing, on a trace
        means the URL was put together by hand: Odoo still counts the click,
        but it creates no touchpoint and no lead.
        """
        clicks = self
        trace_id = route_values.get("mailing_trace_id")
        if trace_id:
            link = self.env["link.tracker.code"].sudo().search([("code", "=", code)], limit=1).link_id
            trace = self.env["mailing.trace"].sudo().browse(trace_id).exists()
            if trace and link.mass_mailing_id != trace.mass_mailing_id:
                clicks = self.with_context(journey_untrusted_click=True)
        return super(LinkTrackerClick, clicks).add_click(code, **route_values)
