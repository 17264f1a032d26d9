# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import threading
import time

from odoo import _, api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Mailing contacts and subscriptions are created in chunks of this size.
SYNC_CREATE_BATCH_SIZE = 1000


class CustomerJourneySegment(models.Model):
    """Mailing list sync of the segments, on demand and nightly."""

    _inherit = "customer.journey.segment"

    # ------------------------------------------------------------
    # BUSINESS: mailing list
    # ------------------------------------------------------------

    def _get_member_addresses(self):
        """Return the members' email addresses and the members without one.

        :return: ({normalised email: {name, email, company_name, country_id, ids}},
                  [ids of members without a valid email address])
        """
        self.ensure_one()
        query = self._get_member_query()
        if self.target_model == "res.partner":
            sql = SQL(
                """
                SELECT t.id, t.email_normalized, t.email, t.name, c.name, COALESCE(t.country_id, c.country_id)
                  FROM res_partner t
                  JOIN res_partner c ON c.id = t.commercial_partner_id
                 WHERE t.id IN %s
              ORDER BY t.id
                """,
                query.subselect(),
            )
        else:
            sql = SQL(
                """
                SELECT t.id, t.email_normalized, t.email_from,
                       COALESCE(NULLIF(t.contact_name, ''), p.name, t.partner_name, t.name),
                       COALESCE(c.name, t.partner_name), COALESCE(c.country_id, t.country_id)
                  FROM crm_lead t
             LEFT JOIN res_partner p ON p.id = t.partner_id
             LEFT JOIN res_partner c ON c.id = p.commercial_partner_id
                 WHERE t.id IN %s
              ORDER BY t.id
                """,
                query.subselect(),
            )
        self.env.cr.execute(sql)
        addresses, without_email = {}, []
        for record_id, email_normalized, email, name, company_name, country_id in self.env.cr.fetchall():
            if not email_normalized or "@" not in email_normalized:
                without_email.append(record_id)
                continue
            address = addresses.setdefault(
                email_normalized,
                {"name": name, "email": email, "company_name": company_name, "country_id": country_id, "ids": []},
            )
            address["ids"].append(record_id)
        return addresses, without_email

    def _sync_mailing_list(self, create_list=False):
        """Refresh the members and add them to, or remove them from, the mailing list.

        A member is added with a subscription marked with this segment, to
        a mailing contact with the same normalised email (the oldest one) or
        to a new contact. Only subscriptions marked with this segment are
        removed, when their member left. An email with an opted-out
        subscription in the list is never added again, and the opted-out
        subscription is never changed. Blacklisted emails are not added.
        Every skipped member is logged. Runs as superuser: the caller
        checks that the user may write the segment.

        :return: (added, removed, skipped) counts
        """
        self.ensure_one()
        self._refresh_members()
        mailing_list = self.mailing_list_id
        if not mailing_list:
            if not create_list:
                return 0, 0, 0
            mailing_list = self.env["mailing.list"].create({"name": self.name, "is_public": False})
            self.mailing_list_id = mailing_list
        addresses, without_email = self._get_member_addresses()
        model_name = self.target_model
        if without_email:
            _logger.info(
                "Segment %s (%s): skipped %s %s records without a valid email address: %s",
                self.id, self.name, len(without_email), model_name, without_email,
            )

        self.env["mailing.subscription"].flush_model()
        self.env["mailing.contact"].flush_model(["email_normalized"])
        self.env["mail.blacklist"].flush_model(["email", "active"])
        self.env.cr.execute(
            SQL(
                """
                SELECT s.id, c.email_normalized, s.opt_out, s.journey_segment_id
                  FROM mailing_subscription s
                  JOIN mailing_contact c ON c.id = s.contact_id
                 WHERE s.list_id = %s
                """,
                mailing_list.id,
            )
        )
        subscriptions = self.env.cr.fetchall()
        opted_out = {email for __, email, opt_out, __ in subscriptions if opt_out and email}
        subscribed = {email for __, email, opt_out, __ in subscriptions if not opt_out and email}
        blacklisted = set()
        if addresses:
            self.env.cr.execute(
                SQL("SELECT email FROM mail_blacklist WHERE active AND email IN %s", tuple(addresses))
            )
            blacklisted = {row[0] for row in self.env.cr.fetchall()}

        skipped = len(without_email)
        for reason, emails in (("blacklisted", blacklisted), ("opted out of the mailing list", opted_out)):
            skipped_ids = sorted(
                record_id for email in emails & set(addresses) for record_id in addresses[email]["ids"]
            )
            if skipped_ids:
                skipped += len(skipped_ids)
                _logger.info(
                    "Segment %s (%s): skipped %s %s records, %s: %s",
                    self.id, self.name, len(skipped_ids), model_name, reason, skipped_ids,
                )

        to_add = sorted(set(addresses) - blacklisted - opted_out - subscribed)
        added = self._subscribe_emails(mailing_list, {email: addresses[email] for email in to_add})

        # Subscriptions of members that left or were blacklisted since. Opted-out
        # ones stay, as the record of the opt-out.
        leaving_ids = [
            subscription_id
            for subscription_id, email, opt_out, segment_id in subscriptions
            if segment_id == self.id and not opt_out and (email not in addresses or email in blacklisted)
        ]
        self.env["mailing.subscription"].browse(leaving_ids).unlink()

        removed = len(leaving_ids)
        self.write(
            {
                "sync_date": fields.Datetime.now(),
                "sync_added_count": added,
                "sync_removed_count": removed,
                "sync_skipped_count": skipped,
            }
        )
        if added or removed:
            self.message_post(
                body=_(
                    "Mailing list “%(list)s” synced: %(added)s added, %(removed)s removed, %(skipped)s skipped.",
                    list=mailing_list.name,
                    added=added,
                    removed=removed,
                    skipped=skipped,
                ),
                subtype_xmlid="mail.mt_note",
            )
        _logger.info(
            "Segment %s (%s): mailing list %s synced, %s added, %s removed, %s skipped",
            self.id, self.name, mailing_list.id, added, removed, skipped,
        )
        return added, removed, skipped

    def _subscribe_emails(self, mailing_list, addresses):
        """Subscribe ``addresses`` ({normalised email: values}) to the list for this segment.

        :return: the number of subscriptions created
        """
        if not addresses:
            return 0
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (email_normalized) email_normalized, id
                  FROM mailing_contact
                 WHERE email_normalized IN %s
              ORDER BY email_normalized, id
                """,
                tuple(addresses),
            )
        )
        contact_ids = dict(self.env.cr.fetchall())
        emails = list(addresses)
        Contact = self.env["mailing.contact"].with_context(mail_create_nolog=True, tracking_disable=True)
        Subscription = self.env["mailing.subscription"]
        for start in range(0, len(emails), SYNC_CREATE_BATCH_SIZE):
            batch = emails[start:start + SYNC_CREATE_BATCH_SIZE]
            new_emails = [email for email in batch if email not in contact_ids]
            contacts = Contact.create(
                [
                    {
                        "name": addresses[email]["name"],
                        "email": addresses[email]["email"],
                        "company_name": addresses[email]["company_name"],
                        "country_id": addresses[email]["country_id"],
                    }
                    for email in new_emails
                ]
            )
            contact_ids.update(zip(new_emails, contacts.ids))
            Subscription.create(
                [
                    {"contact_id": contact_ids[email], "list_id": mailing_list.id, "journey_segment_id": self.id}
                    for email in batch
                ]
            )
        return len(emails)

    @api.model
    def _cron_sync_segments(self):
        """Nightly: refresh every active segment's members and sync its mailing list.

        One segment is one batch, committed on its own. A segment that fails,
        whatever the error (a criterion out of range stored in SQL, a broken
        mailing list, a bug), is rolled back to its savepoint and logged with
        its traceback, and the others go on: one bad segment must not keep
        every other list out of date.
        """
        start = time.monotonic()
        testing = getattr(threading.current_thread(), "testing", False)
        segments = self.search([])
        _logger.info("Customer segments sync: start, %s segments", len(segments))
        totals = {"added": 0, "removed": 0, "skipped": 0, "failed": 0}
        for done, segment in enumerate(segments, start=1):
            # Read before the batch: a failed batch leaves the cache empty.
            segment_name = segment.name
            try:
                # The savepoint rolls back this segment's batch only, also when the
                # error shows at the flush on leaving it.
                with self.env.cr.savepoint():
                    if segment.mailing_list_id:
                        added, removed, skipped = segment._sync_mailing_list()
                    else:
                        segment._refresh_members()
                        added = removed = skipped = 0
            except Exception as error:  # noqa: BLE001 - logged with traceback, the next segment goes on
                totals["failed"] += 1
                self.env.invalidate_all()
                _logger.exception(
                    "Customer segments sync: segment %s (%s) failed: %s", segment.id, segment_name, error
                )
            else:
                totals["added"] += added
                totals["removed"] += removed
                totals["skipped"] += skipped
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(segments) - done)
            if not testing:
                self.env.cr.commit()
        _logger.info(
            "Customer segments sync: end, %s segments, %s added, %s removed, %s skipped, %s failed, %.1f s",
            len(segments), totals["added"], totals["removed"], totals["skipped"], totals["failed"],
            time.monotonic() - start,
        )
        return totals
