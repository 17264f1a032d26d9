# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools import SQL

from .customer_journey_info_send import SKIP_REASONS

# Pairs listed by Preview Recipients; the counts cover all of them.
PREVIEW_LIMIT = 200


class CustomerJourneyInfoPreview(models.TransientModel):
    """Recipients that the next run of a product information rule would reach, with the reason of each."""

    _name = "customer.journey.info.preview"
    _description = "Product Information Rule Preview"

    rule_id = fields.Many2one("customer.journey.info.rule", required=True, ondelete="cascade", readonly=True)
    due_count = fields.Integer(string="Due Now", readonly=True)
    capped_count = fields.Integer(
        string="Held Back by the Frequency Cap",
        readonly=True,
        help="Due, but the customer got product information recently, or another send is "
        "pending: these go out once the cap allows.",
    )
    line_ids = fields.One2many("customer.journey.info.preview.line", "preview_id", string="Recipients", readonly=True)

    def _fill_lines(self):
        """List the due pairs of the rule with the outcome that the scheduled action would give each."""
        self.ensure_one()
        rule = self.rule_id.sudo()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL("SELECT COUNT(*), COUNT(*) FILTER (WHERE capped) FROM (%s) due", rule._get_due_sql(now))
        )
        self.due_count, self.capped_count = self.env.cr.fetchone()

        self.env.cr.execute(rule._get_due_sql(now, limit=PREVIEW_LIMIT))
        rows = self.env.cr.dictfetchall()
        # The selection runs as superuser: list only the records the user may read.
        readable = set(
            self.env[rule.target_model].browse([row["res_id"] for row in rows])._filtered_access("read").ids
        )
        rows = [row for row in rows if row["res_id"] in readable]

        Send = self.env["customer.journey.info.send"]
        items = [
            {
                "send_id": index,
                "res_id": row["res_id"],
                "customer_id": row["customer_id"],
                "occurrence_key": row["occurrence_key"],
            }
            for index, row in enumerate(rows)
            if not row["capped"]
        ]
        plans = {item["send_id"]: item for item in Send._plan_items(rule, items)}

        Product = self.env["product.template"].sudo()
        vals_list = []
        for index, row in enumerate(rows):
            vals = {
                "preview_id": self.id,
                "record_ref": f"{rule.target_model},{row['res_id']}",
                "customer_id": row["customer_id"],
                "trigger": Send._describe_occurrence(row["occurrence_key"], row["event_date"]),
                "due_date": row["due_date"],
            }
            plan = plans.get(index)
            if plan is None:
                vals["outcome"] = "capped"
            else:
                vals.update(
                    outcome="skipped" if plan["skip_reason"] else plan["route"],
                    skip_reason=plan["skip_reason"] or False,
                    contact_id=plan["contact"].id if plan["contact"] else False,
                    email=plan["email"] or False,
                    user_id=plan["user"].id if plan["user"] else False,
                    products=", ".join(Product.browse(plan["product_ids"]).mapped("display_name")),
                )
            vals_list.append(vals)
        self.env["customer.journey.info.preview.line"].create(vals_list)


class CustomerJourneyInfoPreviewLine(models.TransientModel):
    _name = "customer.journey.info.preview.line"
    _description = "Product Information Rule Preview Line"
    _order = "id"

    preview_id = fields.Many2one("customer.journey.info.preview", required=True, ondelete="cascade")
    record_ref = fields.Reference(
        selection=[("crm.lead", "Lead"), ("res.partner", "Customer")], string="Reaches", readonly=True
    )
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    contact_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    email = fields.Char(readonly=True)
    trigger = fields.Char(readonly=True)
    due_date = fields.Datetime(string="Due On", readonly=True)
    outcome = fields.Selection(
        [
            ("mail", "Mail"),
            ("activity", "Activity for the Salesperson"),
            ("skipped", "Skipped"),
            ("capped", "Waits for the Frequency Cap"),
        ],
        readonly=True,
    )
    skip_reason = fields.Selection(SKIP_REASONS, readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    products = fields.Char(readonly=True)

