# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL


class CustomerJourneyResponseLock(models.Model):
    """Row per customer company (or e-mail address) that responded to a campaign.

    Two transactions that handle a response of the same customer both
    write its row. Odoo runs transactions in REPEATABLE READ, so a lock
    alone would not let the second one see the lead that the first one
    created: after waiting, the second one still searches its old snapshot
    and would create a duplicate. Writing the same row instead makes
    PostgreSQL abort the second transaction with a serialization failure,
    which Odoo retries (HTTP requests, RPC calls such as the mail gateway
    script) in a new snapshot that contains the lead.

    NOTE: the incoming mail servers' scheduled action does not retry: a
    reply that loses this race there is logged as failed, as for any other
    concurrent update in Odoo's fetchmail.
    """

    _name = "customer.journey.response.lock"
    _description = "Customer Journey Campaign Response Lock"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    date = fields.Datetime(string="Last Response", readonly=True)

    _sql_constraints = [
        ("key_unique", "unique(key)", "A response lock key exists once."),
    ]

    @api.model
    def _acquire(self, key):
        """Take the lock of ``key`` until the end of the transaction.

        Raises psycopg2.errors.SerializationFailure when a concurrent
        transaction that took the same lock has committed meanwhile.
        """
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO customer_journey_response_lock (key, date)
                     VALUES (%s, NOW() AT TIME ZONE 'UTC')
                ON CONFLICT (key) DO UPDATE SET date = EXCLUDED.date
                """,
                key,
            )
        )
