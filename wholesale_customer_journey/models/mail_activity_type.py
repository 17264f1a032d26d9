# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from .customer_journey_touchpoint import CHANNELS


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    journey_channel = fields.Selection(
        CHANNELS,
        string="Touchpoint Channel",
        help="When an activity of this type is marked done on a customer, lead or "
        "order, record a touchpoint on this channel. Leave empty to record none.",
    )
