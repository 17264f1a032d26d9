# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    journey_aftersales_trigger = fields.Selection(
        [("delivery", "First order delivered"), ("payment", "First order invoiced and paid")],
        string="Aftersales Starts When",
        required=True,
        default="delivery",
        help="The event that moves a customer to Aftersales: the delivery of its "
        "first order, or the payment of its first fully invoiced order.",
    )
