# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models, tools


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        """Post a reply to a lead-creating mailing on its response lead.

        A mailing whose replies go to a sales team's alias would make the
        gateway create a second lead next to the one that the response
        creates or updates. Such a route is pointed at that lead instead.
        The reply's trace touchpoint records the reply, so the incoming
        mail records no message touchpoint of its own.
        """
        references = message_dict.get("references") or message_dict.get("in_reply_to") or ""
        message_ids = tools.mail.mail_header_msgid_re.findall(references)
        traces = self.env["mailing.trace"]
        if routes and message_ids:
            traces = traces.sudo().search([("message_id", "in", message_ids)])
        if not traces:
            return super()._message_route_process(message, message_dict, routes)
        # mass_mailing marks the traces in its own override, which runs after
        # this one. Marking them first creates the response lead before the
        # routes are read. The second marking finds the traces replied and
        # records nothing new.
        traces.set_opened()
        traces.set_replied()
        routes = [self._journey_reply_route(route, traces) for route in routes]
        return super(
            MailThread, self.with_context(journey_skip_message_touchpoint=True)
        )._message_route_process(message, message_dict, routes)

    @api.model
    def _journey_reply_route(self, route, traces):
        model, thread_id, custom_values, user_id, alias = route
        if model != "crm.lead" or thread_id:
            return route
        for trace in traces.filtered("mass_mailing_id.journey_create_leads"):
            recipient = trace._journey_recipient()
            lead = trace._journey_open_lead(recipient, trace._journey_company(recipient))
            if lead:
                return (model, lead.id, custom_values, user_id, alias)
        return route
