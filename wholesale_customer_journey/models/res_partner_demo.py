# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict
from datetime import datetime, time, timedelta
from functools import partial

from odoo import api, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

DEMO_MODULE = "wholesale_customer_journey"

# History events that the event of a touchpoint origin writes, when it moves the customer.
ROW_EVENTS_OF_ORIGIN = {
    "lead": ("lead_created", "lead_created_campaign", "crm_stage"),
    "lead_stage": ("crm_stage",),
    "quotation": ("quotation_sent",),
    "order": ("order_confirmed",),
}
# Demo events happen between 08:00 and 16:00 UTC, during working hours in Belgium and the Netherlands.
WORKDAY_START_MINUTES = 8 * 60
WORKDAY_MINUTES = 8 * 60
FULFILMENT_COLUMNS = ("journey_delivered_date", "journey_paid_date")
# Events take their date from the Odoo server's clock and the transaction start comes from
# PostgreSQL's, so events dated up to this margin before the transaction start count as
# events of the load. The dates that the demo file sets itself are several hours older.
CLOCK_MARGIN = timedelta(hours=1)
# Maximum time between a stage change and each event that follows it in the same stage.
FOLLOW_UP_GAP = timedelta(days=1)


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _journey_demo_date_past(self, schedule):
        """Move the journeys of the demo customers back in time, relative to the install day.

        The demo file creates every lead, stage change, quotation, order,
        delivery and done activity while it loads, so they all carry the
        install time. The last call of the demo file gives them a past.

        :param schedule: {xmlid of a demo customer company in this module:
            [days before the install day at which each of its stage history
            rows starts, one number per row, oldest row first]}. The numbers
            decrease and are 1 or more, so every date is before the install.

        Each history row starts on its day, during working hours, and ends
        when the next one starts. The touchpoint of the event that wrote a
        row gets the row's start. Other events of the same stage (done
        activities, a quotation sent in Intent to Purchase, a won
        opportunity) follow one day apart, closer together when the next
        stage starts sooner. A lost opportunity closes the day after the
        customer's latest touchpoint. The customer's stage date, its leads,
        sent and confirmed orders, delivery and payment dates, the chatter
        messages of these records and the creation date of the customer and
        its contacts follow. Draft quotations keep the install time.
        Touchpoints and messages that the demo file dates itself keep their
        dates: the schedule is chosen to fit them.

        The dates are written in SQL, because the ORM rejects writes to the
        stage date and to creation dates. The caches are invalidated and the
        stored fields computed from the dates (days spent in a stage, lead
        durations) are recomputed.

        Only demo customers of this module, and only their records written
        by the current transaction, are changed. Called on a database in use,
        where the demo data loaded in an earlier transaction, it raises
        RuntimeError and changes nothing. Raises ValueError when an xmlid is
        not a demo customer or the schedule does not match its history.
        """
        # Records of this load are created at this transaction's start or later.
        # Odoo stores datetimes to the second, so the comparison is to the second.
        load_start = self.env.cr.now().replace(microsecond=0)
        self.env.flush_all()
        customers = {xmlid: self._journey_demo_customer(xmlid) for xmlid in schedule}
        partner_ids = [customer.id for customer in customers.values()]
        if not self.env["customer.journey.history"].sudo().search_count(
            [("partner_id", "in", partner_ids), ("date_start", ">=", load_start - CLOCK_MARGIN)]
        ):
            raise RuntimeError(
                "_journey_demo_date_past runs only while the demo data of "
                f"{DEMO_MODULE} loads: the demo customers have no stage history "
                "written in this transaction, so nothing is moved back in time."
            )
        plan = defaultdict(dict)
        for position, (xmlid, days_before) in enumerate(schedule.items()):
            self._journey_demo_plan_customer(plan, customers[xmlid], xmlid, days_before, position, load_start)
        self._journey_demo_write(plan)
        # The install hook runs after the demo data and gives every delivered or
        # paid order its order date as delivery or payment date. The demo orders
        # get the dates of their history rows back when the install commits.
        fulfilment = {
            order_id: {column: values[column] for column in FULFILMENT_COLUMNS if column in values}
            for order_id, values in plan["sale_order"].items()
        }
        fulfilment = {order_id: values for order_id, values in fulfilment.items() if values}
        if fulfilment:
            self.env.cr.precommit.add(partial(self._journey_demo_write, {"sale_order": fulfilment}))
        _logger.info("Demo data: dated the journeys of %s customers in the past", len(schedule))

    @api.model
    def _journey_demo_customer(self, xmlid):
        """Return the demo customer company of ``xmlid``, a name in this module."""
        data = self.env["ir.model.data"].sudo().search(
            [("module", "=", DEMO_MODULE), ("name", "=", xmlid), ("model", "=", "res.partner")]
        )
        customer = self.sudo().browse(data.res_id).exists()
        # Odoo loads demo files with noupdate set, and the module's other data has no customers.
        if not (data.noupdate and customer and customer.journey_is_company):
            raise ValueError(
                f"Invalid demo customer {xmlid!r}: not a res.partner company loaded by "
                f"the demo data of {DEMO_MODULE}. Use the xmlid of a demo customer company."
            )
        return customer

    @api.model
    def _journey_demo_moment(self, load_start, days_before, position, index):
        """Return the time of a demo event: a working hour, ``days_before`` the install day.

        ``position`` (the customer's place in the schedule) and ``index`` (the
        event's place in the customer's history) spread the events over the day.
        """
        minutes = WORKDAY_START_MINUTES + (position * 47 + index * 131) % WORKDAY_MINUTES
        day = datetime.combine(load_start.date() - timedelta(days=days_before), time())
        return day + timedelta(minutes=minutes)

    @api.model
    def _journey_demo_plan_customer(self, plan, customer, xmlid, days_before, position, load_start):
        """Add the new dates of ``customer``'s records to ``plan``: {table: {id: {column: value}}}."""
        events_since = load_start - CLOCK_MARGIN
        rows = self.env["customer.journey.history"].sudo().search(
            [("partner_id", "=", customer.id), ("date_start", ">=", events_since)], order="id"
        )
        self._journey_demo_check_schedule(xmlid, rows, days_before)
        starts = [
            self._journey_demo_moment(load_start, days, position, index)
            for index, days in enumerate(days_before)
        ]
        for index, row in enumerate(rows):
            plan["customer_journey_history"][row.id] = {
                "date_start": starts[index],
                "date_end": starts[index + 1] if index + 1 < len(rows) else None,
            }

        touchpoints = self.env["customer.journey.touchpoint"].sudo().search(
            [("partner_id", "=", customer.id)], order="id"
        )
        event_touchpoints = touchpoints.filtered(lambda touchpoint: touchpoint.date >= events_since)
        touchpoint_dates = self._journey_demo_touchpoint_dates(rows, starts, event_touchpoints, events_since)
        for touchpoint_id, date in touchpoint_dates.items():
            plan["customer_journey_touchpoint"][touchpoint_id] = {"date": date}

        all_dates = [touchpoint_dates.get(touchpoint.id, touchpoint.date) for touchpoint in touchpoints]
        latest_contact = max(all_dates, default=starts[-1])
        lost_date = latest_contact + min(FOLLOW_UP_GAP, (events_since - latest_contact) / 2)
        first_contact = min(all_dates + starts)
        # The customer and its contacts existed before the first contact with them.
        partner_created = first_contact - FOLLOW_UP_GAP

        record_created = {}
        partners = self.sudo().with_context(active_test=False).search(
            [("commercial_partner_id", "=", customer.id)]
        )
        for partner in partners:
            values = {}
            if partner.journey_stage_id:
                values["journey_stage_date"] = starts[-1]
            if partner.create_date >= load_start:
                values["create_date"] = partner_created
                record_created[("res.partner", partner.id)] = partner_created
            if values:
                plan["res_partner"][partner.id] = values

        leads = self.env["crm.lead"].sudo().with_context(active_test=False).search(
            [("partner_id", "in", partners.ids), ("create_date", ">=", load_start)]
        )
        for lead in leads:
            values = self._journey_demo_lead_values(
                lead, event_touchpoints, touchpoint_dates, starts, lost_date
            )
            plan["crm_lead"][lead.id] = values
            record_created[("crm.lead", lead.id)] = values["create_date"]

        orders = self.env["sale.order"].sudo().search(
            [("partner_id", "in", partners.ids), ("create_date", ">=", load_start)]
        )
        for order in orders:
            values = self._journey_demo_order_values(order, rows, starts, event_touchpoints, touchpoint_dates)
            if values:
                plan["sale_order"][order.id] = values
                record_created[("sale.order", order.id)] = values["create_date"]

        self._journey_demo_plan_messages(
            plan, customer, rows, starts, event_touchpoints, touchpoint_dates, record_created, events_since
        )

    @api.model
    def _journey_demo_check_schedule(self, xmlid, rows, days_before):
        """Raise ValueError unless ``days_before`` gives one valid start per history row."""
        if not rows:
            raise ValueError(
                f"Invalid demo schedule for {xmlid!r}: the customer has no stage history "
                "written while the demo data loaded. Remove it from the schedule."
            )
        if len(days_before) != len(rows):
            raise ValueError(
                f"Invalid demo schedule for {xmlid!r}: {len(days_before)} start days for "
                f"{len(rows)} stage history rows written while the demo data loaded. "
                "Give one number of days per history row."
            )
        if any(days < 1 for days in days_before) or any(
            earlier <= later for earlier, later in zip(days_before, days_before[1:])
        ):
            raise ValueError(
                f"Invalid demo schedule for {xmlid!r}: {days_before}. Give decreasing "
                "numbers of days of 1 or more, the oldest history row first."
            )
        if rows[:-1].filtered(lambda row: not row.date_end) or rows[-1:].date_end:
            raise ValueError(
                f"Invalid demo history for {xmlid!r}: only its latest row may be open. "
                "Check the stage changes of this customer in the demo file."
            )

    @api.model
    def _journey_demo_touchpoint_dates(self, rows, starts, event_touchpoints, events_since):
        """Return {touchpoint id: date} for the touchpoints of the customer's events.

        A touchpoint whose event wrote a history row gets that row's start.
        The others follow the start of the row that was current when they
        were recorded: the first row with the touchpoint's stage, from the
        row of the previous touchpoint on. Touchpoints recorded before the
        customer had a stage are dated before the first row, one day apart.
        """
        dates = {}
        follow_ups = defaultdict(list)
        before_first_row = []
        claimed = set()
        current_row = 0
        for touchpoint in event_touchpoints:
            own_row = next(
                (
                    index
                    for index in range(current_row, len(rows))
                    if index not in claimed and self._journey_demo_wrote_row(touchpoint, rows[index])
                ),
                None,
            )
            if own_row is not None:
                claimed.add(own_row)
                current_row = own_row
                dates[touchpoint.id] = starts[own_row]
            elif not touchpoint.stage_id:
                before_first_row.append(touchpoint)
            else:
                current_row = next(
                    (
                        index
                        for index in range(current_row, len(rows))
                        if rows[index].stage_id == touchpoint.stage_id
                    ),
                    current_row,
                )
                follow_ups[current_row].append(touchpoint)

        period_ends = starts[1:] + [events_since]
        for index, touchpoints in follow_ups.items():
            gap = min(FOLLOW_UP_GAP, (period_ends[index] - starts[index]) / (len(touchpoints) + 1))
            for number, touchpoint in enumerate(touchpoints, start=1):
                dates[touchpoint.id] = starts[index] + number * gap
        for number, touchpoint in enumerate(reversed(before_first_row), start=1):
            dates[touchpoint.id] = starts[0] - number * FOLLOW_UP_GAP
        return dates

    @api.model
    def _journey_demo_wrote_row(self, touchpoint, row):
        """Return True if the event of ``touchpoint`` wrote history ``row``."""
        return (
            row.event_code in ROW_EVENTS_OF_ORIGIN.get(touchpoint.origin, ())
            and row.res_model == touchpoint.res_model
            and row.res_id == touchpoint.res_id
            and row.stage_id == touchpoint.stage_id
        )

    @api.model
    def _journey_demo_lead_values(self, lead, event_touchpoints, touchpoint_dates, starts, lost_date):
        """Return the new dates of ``lead``: created, assigned, last stage change, closed."""
        lead_touchpoints = event_touchpoints.filtered(
            lambda touchpoint: touchpoint.res_model == "crm.lead" and touchpoint.res_id == lead.id
        )
        created_touchpoint = lead_touchpoints.filtered(lambda touchpoint: touchpoint.origin == "lead")[:1]
        stage_touchpoint = lead_touchpoints.filtered(
            lambda touchpoint: touchpoint.origin == "lead_stage"
        )[-1:]
        # A lead created without touchpoint (journey_no_capture) gets the first row's start.
        created = touchpoint_dates[created_touchpoint.id] if created_touchpoint else starts[0]
        stage_changed = touchpoint_dates[stage_touchpoint.id] if stage_touchpoint else created
        values = {"create_date": created, "date_last_stage_update": stage_changed}
        if lead.date_open:
            values["date_open"] = created
        if lead.date_conversion:
            values["date_conversion"] = created
        if lead.date_closed:
            # A won opportunity closes when it moves to the won stage.
            values["date_closed"] = stage_changed if lead.active else lost_date
        return values

    @api.model
    def _journey_demo_order_values(self, order, rows, starts, event_touchpoints, touchpoint_dates):
        """Return the new dates of ``order``, or {} for a quotation that was never sent."""
        order_touchpoints = event_touchpoints.filtered(
            lambda touchpoint: touchpoint.res_model == "sale.order" and touchpoint.res_id == order.id
        )
        sent = order_touchpoints.filtered(lambda touchpoint: touchpoint.origin == "quotation")[:1]
        confirmed = order_touchpoints.filtered(lambda touchpoint: touchpoint.origin == "order")[:1]
        if not (sent or confirmed):
            return {}

        # Odoo sets the order date again when the order is confirmed.
        date_order = touchpoint_dates[(confirmed or sent).id]
        created = touchpoint_dates[(sent or confirmed).id]
        values = {"create_date": created, "date_order": date_order}
        if order.validity_date:
            # A quotation is valid for a number of days from its creation.
            values["validity_date"] = order.validity_date + (created.date() - order.create_date.date())

        for flag, date_field, event_code in (
            ("journey_delivered", "journey_delivered_date", "order_delivered"),
            ("journey_paid", "journey_paid_date", "order_paid"),
        ):
            if not order[flag]:
                continue
            row_index = next(
                (
                    index
                    for index, row in enumerate(rows)
                    if row.event_code == event_code
                    and row.res_model == "sale.order"
                    and row.res_id == order.id
                ),
                None,
            )
            # An order that did not move the customer gets its order date, as at install.
            values[date_field] = starts[row_index] if row_index is not None else date_order
        return values

    @api.model
    def _journey_demo_plan_messages(
        self, plan, customer, rows, starts, event_touchpoints, touchpoint_dates, record_created, events_since
    ):
        """Date the chatter messages that the demo events posted on the customer's records.

        A journey stage change on the customer gets the start of its history
        row, a done activity the date of its touchpoint. Any other message
        (record created, lead assigned) gets the record's creation date.
        """
        conditions = [
            SQL("(m.model = %s AND m.res_id = %s)", model, record_id) for model, record_id in record_created
        ]
        if not conditions:
            return
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, m.model, m.res_id, m.mail_activity_type_id IS NOT NULL,
                       (SELECT tv.new_value_integer
                          FROM mail_tracking_value tv
                          JOIN ir_model_fields f ON f.id = tv.field_id
                         WHERE tv.mail_message_id = m.id
                           AND f.model = 'res.partner' AND f.name = 'journey_stage_id')
                  FROM mail_message m
                 WHERE m.date >= %s AND (%s)
              ORDER BY m.id
                """,
                events_since,
                SQL(" OR ").join(conditions),
            )
        )
        messages = self.env.cr.fetchall()
        activity_dates = defaultdict(list)
        for touchpoint in event_touchpoints.filtered(lambda touchpoint: touchpoint.origin == "activity"):
            activity_dates[(touchpoint.res_model, touchpoint.res_id)].append(touchpoint_dates[touchpoint.id])
        next_row = 0
        for message_id, model, record_id, is_activity, new_stage_id in messages:
            record = (model, record_id)
            date = record_created[record]
            if new_stage_id and record == ("res.partner", customer.id):
                row_index = next(
                    (
                        index
                        for index in range(next_row, len(rows))
                        if rows[index].stage_id.id == new_stage_id
                    ),
                    None,
                )
                if row_index is not None:
                    date = starts[row_index]
                    next_row = row_index + 1
            elif is_activity and activity_dates[record]:
                date = activity_dates[record].pop(0)
            plan["mail_message"][message_id] = {"date": date}

    @api.model
    def _journey_demo_write(self, plan):
        """Write ``plan`` in SQL, then invalidate the caches and recompute what depends on it."""
        models_of_tables = {
            "customer_journey_history": "customer.journey.history",
            "customer_journey_touchpoint": "customer.journey.touchpoint",
            "res_partner": "res.partner",
            "crm_lead": "crm.lead",
            "sale_order": "sale.order",
            "mail_message": "mail.message",
        }
        for table, values_by_id in plan.items():
            field_names = set()
            for record_id, values in values_by_id.items():
                assignments = SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(column), value) for column, value in values.items()
                )
                self.env.cr.execute(
                    SQL("UPDATE %s SET %s WHERE id = %s", SQL.identifier(table), assignments, record_id)
                )
                field_names.update(values)
            records = self.env[models_of_tables[table]].browse(list(values_by_id))
            records.invalidate_recordset(list(field_names))
            # Schedules the stored fields computed from these dates (stay_days, day_open, ...).
            records.modified(list(field_names))
        self.env.flush_all()
