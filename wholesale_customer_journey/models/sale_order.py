# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL, LazyTranslate

from ..tools.quantities import min_net_quantity
from .customer_journey_suggestion import OPEN_STATES

_lt = LazyTranslate(__name__)


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "customer.journey.document.mixin"]

    journey_stage_id = fields.Many2one(
        related="partner_id.commercial_partner_id.journey_stage_id",
        string="Customer Journey Stage",
        groups="base.group_user",
    )
    journey_stage_snapshot_id = fields.Many2one(
        string="Journey Stage of the Order",
        help="The customer's journey stage after this order's latest event "
        "(quotation sent, order confirmed, delivered or paid).",
    )
    journey_historical = fields.Boolean(
        string="Historical Order",
        readonly=True,
        copy=False,
        help="Imported from a previous system: already delivered and invoiced there.",
    )
    journey_import_ref = fields.Char(
        string="Imported Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Invoice number in the imported sales history.",
    )
    journey_delivered = fields.Boolean(
        string="Fully Delivered",
        compute="_compute_journey_fulfilment",
        store=True,
        copy=False,
        help="Every goods line of the confirmed order is delivered.",
    )
    journey_delivered_date = fields.Datetime(
        string="Fully Delivered On", compute="_compute_journey_fulfilment", store=True, copy=False
    )
    journey_paid = fields.Boolean(
        string="Invoiced and Paid",
        compute="_compute_journey_fulfilment",
        store=True,
        copy=False,
        help="The confirmed order is fully invoiced and its customer invoices are paid.",
    )
    journey_paid_date = fields.Datetime(
        string="Paid On", compute="_compute_journey_fulfilment", store=True, copy=False
    )

    journey_suggestion_ids = fields.Many2many(
        "customer.journey.suggestion",
        string="Suggested Products",
        compute="_compute_journey_suggestion_ids",
        groups="base.group_user",
        help="Open suggestions of the customer company in this company whose product is not on the order yet.",
    )

    _sql_constraints = [
        (
            "journey_import_ref_unique",
            "unique(company_id, journey_import_ref)",
            "This invoice of the sales history is already imported in this company.",
        ),
    ]

    @api.depends(
        "state",
        "journey_historical",
        "invoice_status",
        "order_line.qty_delivered",
        "order_line.product_uom_qty",
        "order_line.display_type",
        "order_line.invoice_lines.move_id.payment_state",
        "order_line.invoice_lines.move_id.state",
    )
    def _compute_journey_fulfilment(self):
        now = fields.Datetime.now()
        for order in self:
            if order.state != "sale":
                delivered = paid = False
            elif order.journey_historical:
                delivered = paid = True
            else:
                goods = order.order_line.filtered(
                    lambda line: not line.display_type and line.product_id.type != "service"
                )
                delivered = bool(goods) and all(
                    line.qty_delivered >= line.product_uom_qty for line in goods
                )
                invoices = order.order_line.invoice_lines.move_id.filtered(
                    lambda move: move.state == "posted" and move.move_type == "out_invoice"
                )
                paid = (
                    order.invoice_status == "invoiced"
                    and bool(invoices)
                    and all(move.payment_state in ("paid", "in_payment") for move in invoices)
                )
            date = order.date_order if order.journey_historical else now
            order.journey_delivered_date = (order.journey_delivered_date or date) if delivered else False
            order.journey_paid_date = (order.journey_paid_date or date) if paid else False
            order.journey_delivered = delivered
            order.journey_paid = paid
        self._journey_schedule_fulfilment()

    def _journey_schedule_fulfilment(self):
        """Apply the Aftersales event before the transaction commits.

        A compute must not change other records, so the stage change waits
        for the pre-commit hooks, when every recomputation is done.
        """
        if self.env.context.get("journey_no_capture"):
            # Imports and scripts replay the stage history from order dates.
            return
        ids = {order.id for order in self if order.id and (order.journey_delivered or order.journey_paid)}
        if not ids:
            return
        pending = self.env.cr.precommit.data.setdefault("wholesale_customer_journey.fulfilled", set())
        if not pending:
            self.env.cr.precommit.add(self._journey_apply_fulfilment_precommit)
        pending.update(ids)

    def _journey_apply_fulfilment_precommit(self):
        ids = self.env.cr.precommit.data.pop("wholesale_customer_journey.fulfilled", set())
        orders = self.env["sale.order"].sudo().browse(ids).exists()
        orders._journey_on_fulfilled()

    def _journey_on_fulfilled(self):
        """Raise the Aftersales event each order's company uses."""
        by_delivery = self.filtered(
            lambda order: order.company_id.journey_aftersales_trigger == "delivery" and order.journey_delivered
        )
        by_payment = self.filtered(
            lambda order: order.company_id.journey_aftersales_trigger == "payment" and order.journey_paid
        )
        Partner = self.env["res.partner"]
        Partner._journey_event("order_delivered", by_delivery)
        Partner._journey_event("order_paid", by_payment)
        (by_delivery | by_payment)._journey_snapshot()

    @api.depends("partner_id", "company_id", "order_line.product_id")
    def _compute_journey_suggestion_ids(self):
        suggestions = self.env["customer.journey.suggestion"].search(
            [
                ("partner_id", "in", self.partner_id.commercial_partner_id.ids),
                ("company_id", "in", self.company_id.ids),
                ("state", "in", ("new", "planned", "sent")),
            ]
        )
        for order in self:
            products = order.order_line.product_id
            order.journey_suggestion_ids = suggestions.filtered(
                lambda s: s.partner_id == order.partner_id.commercial_partner_id
                and s.company_id == order.company_id
                and s.product_id not in products
            )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        newly_sent = self.browse()
        if vals.get("state") == "sent":
            newly_sent = self.filtered(lambda order: order.state == "draft")
        res = super().write(vals)
        if newly_sent and not self.env.context.get("journey_no_capture"):
            newly_sent._journey_on_quotation_sent()
        return res

    def message_post(self, **kwargs):
        if self.env.context.get("mark_so_as_sent"):
            # The quotation-sent touchpoint stands for this mail.
            self = self.with_context(journey_skip_message_touchpoint=True)
        return super().message_post(**kwargs)

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _action_confirm(self):
        res = super()._action_confirm()
        if not self.env.context.get("journey_no_capture"):
            self._journey_on_confirmed()
            self._journey_convert_suggestions()
        return res

    def _journey_convert_suggestions(self):
        """Mark the open suggestions whose product the confirmed orders contain as converted by them.

        Only the suggestions of the order's customer company in the order's
        company count, and only a product whose lines in the order add up to
        a quantity: 1 dozen sold and 12 units returned convert nothing.
        """
        self.env.flush_all()
        zero = min_net_quantity(self.env)
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_suggestion s
                   SET state = 'converted', order_id = so.id, date_closed = so.date_order::date,
                       write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN (SELECT sol.order_id, sol.product_id
                          FROM sale_order_line sol
                          JOIN product_product pp ON pp.id = sol.product_id
                          JOIN product_template pt ON pt.id = pp.product_tmpl_id
                          JOIN uom_uom line_uom ON line_uom.id = sol.product_uom
                          JOIN uom_uom product_uom ON product_uom.id = pt.uom_id
                         WHERE sol.order_id IN %(ids)s AND sol.display_type IS NULL
                      GROUP BY 1, 2
                        HAVING SUM(sol.product_uom_qty / line_uom.factor * product_uom.factor) > %(zero)s
                       ) AS bought ON bought.order_id = so.id
                 WHERE so.id IN %(ids)s AND s.state IN %(open)s
                   AND s.company_id = so.company_id AND s.partner_id = p.commercial_partner_id
                   AND s.product_id = bought.product_id
             RETURNING s.activity_id
                """,
                ids=tuple(self.ids),
                open=OPEN_STATES,
                uid=self.env.uid,
                zero=zero,
            )
        )
        activity_ids = [row[0] for row in self.env.cr.fetchall() if row[0]]
        if self.env.cr.rowcount:
            self.env["customer.journey.suggestion"].invalidate_model()
        # Nothing left to follow up: the salesperson's activity goes.
        self.env["mail.activity"].sudo().browse(activity_ids).exists().unlink()

    def _action_cancel(self):
        res = super()._action_cancel()
        self._journey_reopen_suggestions()
        return res

    def _journey_reopen_suggestions(self):
        """Reopen the suggestions that the cancelled orders converted or carried, as new ones without order.

        A suggestion whose product got a new open suggestion meanwhile stays as it is.
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_journey_suggestion s
                   SET state = 'new', order_id = NULL, date_closed = NULL,
                       write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE s.order_id IN %(ids)s AND s.state IN ('planned', 'sent', 'accepted', 'converted')
                   AND NOT EXISTS (
                       SELECT FROM customer_journey_suggestion o
                        WHERE o.company_id = s.company_id AND o.partner_id = s.partner_id
                          AND o.product_id = s.product_id AND o.state IN %(open)s AND o.id != s.id
                          AND o.order_id IS DISTINCT FROM s.order_id)
                """,
                ids=tuple(self.ids),
                open=OPEN_STATES,
                uid=self.env.uid,
            )
        )
        if self.env.cr.rowcount:
            self.env["customer.journey.suggestion"].invalidate_model()

    def _journey_on_quotation_sent(self):
        self.env["res.partner"]._journey_event("quotation_sent", self)
        self.env["customer.journey.suggestion"].sudo().search(
            [("order_id", "in", self.ids), ("state", "in", ("new", "planned"))]
        ).write({"state": "sent"})
        by_mail = bool(self.env.context.get("mark_so_as_sent"))
        self.env["customer.journey.touchpoint"]._record_touchpoints(
            [
                order._journey_touchpoint_vals(
                    "quotation",
                    _lt("Quotation %(name)s sent", name=order.name),
                    f"sale.order,{order.id},sent",
                    channel="email" if by_mail else "other",
                    direction="outbound",
                )
                for order in self
            ]
        )
        self._journey_snapshot()

    def _journey_on_confirmed(self):
        self.env["res.partner"]._journey_event("order_confirmed", self)
        by_customer = self.env.user.share
        self.env["customer.journey.touchpoint"]._record_touchpoints(
            [
                order._journey_touchpoint_vals(
                    "order",
                    _lt("Order %(name)s confirmed", name=order.name),
                    f"sale.order,{order.id},confirmed",
                    channel="website" if by_customer else "other",
                    direction="inbound" if by_customer else "outbound",
                )
                for order in self
            ]
        )
        self._journey_snapshot()
