# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

_logger = logging.getLogger(__name__)


def post_init_hook(env):
    """Give every existing customer the stage its leads and orders imply.

    Orders delivered or paid before the install get the order date as
    delivery or payment date: the real date is not recorded on the order.
    """
    env.flush_all()
    env.cr.execute(
        """
        UPDATE sale_order
           SET journey_delivered_date = LEAST(journey_delivered_date, date_order)
         WHERE journey_delivered
        """
    )
    env.cr.execute(
        """
        UPDATE sale_order
           SET journey_paid_date = LEAST(journey_paid_date, date_order)
         WHERE journey_paid
        """
    )
    env["sale.order"].invalidate_model(["journey_delivered_date", "journey_paid_date"])
    Replay = env["customer.journey.replay"]
    partner_ids = Replay._candidate_partner_ids()
    moved = Replay._replay(partner_ids, reason=env._("Derived from existing leads and orders at install"))
    _logger.info("Customer journey install: %s existing customers got a journey stage", moved)
    # Segments loaded with the demo data stored their members before these
    # customers had a stage.
    env["customer.journey.segment"].search([])._refresh_members()
