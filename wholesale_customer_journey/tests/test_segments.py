# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import JourneyCase


class SegmentCase(JourneyCase):
    """Customers, products and helpers for the segment tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.belgium = cls.env.ref("base.be")
        cls.netherlands = cls.env.ref("base.nl")
        Category = cls.env["product.category"]
        cls.categ_garden = Category.create({"name": "Tuin"})
        cls.categ_pots = Category.create({"name": "Potten", "parent_id": cls.categ_garden.id})
        cls.categ_horeca = Category.create({"name": "Horeca"})
        Product = cls.env["product.product"]
        cls.product_pot = Product.create({"name": "Potten 40 cm", "type": "consu", "categ_id": cls.categ_pots.id})
        cls.product_cup = Product.create({"name": "Koffietas", "type": "consu", "categ_id": cls.categ_horeca.id})
        Tag = cls.env["res.partner.category"]
        cls.tag_garden = Tag.create({"name": "Tuincentrum"})
        cls.tag_garden_large = Tag.create({"name": "Groot tuincentrum", "parent_id": cls.tag_garden.id})
        cls.tag_horeca = Tag.create({"name": "Horeca"})

    @classmethod
    def _customer(cls, name, **vals):
        return cls.env["res.partner"].create(dict({"name": name, "is_company": True}, **vals))

    @classmethod
    def _contact(cls, customer, name, **vals):
        return cls.env["res.partner"].create(dict({"name": name, "parent_id": customer.id}, **vals))

    @classmethod
    def _confirmed_order(cls, customer, product, days_ago=0):
        order = cls.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 5})],
            }
        )
        order.action_confirm()
        order.date_order = fields.Datetime.now() - timedelta(days=days_ago)
        return order

    @classmethod
    def _touchpoint(cls, customer, days_ago):
        return cls.env["customer.journey.touchpoint"].create(
            {
                "name": "Telefoon",
                "partner_id": customer.id,
                "channel": "phone",
                "date": fields.Datetime.now() - timedelta(days=days_ago),
            }
        )

    def _segment(self, **vals):
        return self.env["customer.journey.segment"].create(dict({"name": "Testsegment"}, **vals))

    def _members(self, segment):
        Target = self.env[segment.target_model]
        members = Target.search(segment._get_member_domain())
        self.assertEqual(segment.member_count, len(members), "the live count matches the members")
        return members


@tagged("post_install", "-at_install")
class TestSegmentCriteria(SegmentCase):
    def test_stage(self):
        considering = self._customer("Overweger")
        considering._journey_set_stage(self.stage_consideration, "manual")
        converted = self._customer("Klant")
        converted._journey_set_stage(self.stage_conversion, "manual")
        segment = self._segment(stage_ids=[Command.set([self.stage_consideration.id, self.stage_intent.id])])

        members = self._members(segment)

        self.assertIn(considering, members)
        self.assertNotIn(converted, members)

    def test_preferred_channel_of_company(self):
        by_mail = self._customer("Per mail", journey_preferred_channel="email")
        by_phone = self._customer("Per telefoon", journey_preferred_channel="phone")
        segment = self._segment(preferred_channel="email")

        members = self._members(segment)

        self.assertIn(by_mail, members)
        self.assertNotIn(by_phone, members)

    def test_preferred_channel_of_contact_falls_back_to_company(self):
        customer = self._customer("Per mail", journey_preferred_channel="email")
        without_preference = self._contact(customer, "Geen voorkeur", email="geen@mail.example", journey_preferred_channel="none")
        by_phone = self._contact(customer, "Belt graag", email="belt@mail.example", journey_preferred_channel="phone")
        other = self._customer("Per telefoon", journey_preferred_channel="phone")
        by_mail = self._contact(other, "Mailt graag", email="mailt@mail.example", journey_preferred_channel="email")
        segment = self._segment(target="contact", preferred_channel="email")

        members = self._members(segment)

        self.assertIn(without_preference, members, "a contact without preference takes the company's")
        self.assertIn(by_mail, members, "a contact's own preference wins over the company's")
        self.assertNotIn(by_phone, members)

    def test_country_or_region(self):
        west_flanders = self.env["res.country.state"].create(
            {"name": "West-Vlaanderen (test)", "code": "WVX", "country_id": self.belgium.id}
        )
        belgian = self._customer("Belgisch", country_id=self.belgium.id)
        dutch = self._customer("Nederlands", country_id=self.netherlands.id)
        in_region = self._customer("Kortrijks", state_id=west_flanders.id)
        nowhere = self._customer("Zonder adres")
        segment = self._segment(country_ids=[Command.set(self.netherlands.ids)], state_ids=[Command.set(west_flanders.ids)])

        members = self._members(segment)

        self.assertIn(dutch, members)
        self.assertIn(in_region, members, "countries and regions combine with OR")
        self.assertNotIn(belgian, members)
        self.assertNotIn(nowhere, members)

    def test_tags_include_sub_tags(self):
        large = self._customer("Groot", category_id=[Command.set(self.tag_garden_large.ids)])
        tagged_garden = self._customer("Tuin", category_id=[Command.set(self.tag_garden.ids)])
        horeca = self._customer("Horeca", category_id=[Command.set(self.tag_horeca.ids)])
        segment = self._segment(tag_ids=[Command.set(self.tag_garden.ids)])

        members = self._members(segment)

        self.assertIn(large, members)
        self.assertIn(tagged_garden, members)
        self.assertNotIn(horeca, members)

    def test_product_categories_bought_recently(self):
        recent = self._customer("Kocht potten")
        self._confirmed_order(self._contact(recent, "Inkoper"), self.product_pot, days_ago=10)
        long_ago = self._customer("Kocht lang geleden")
        self._confirmed_order(long_ago, self.product_pot, days_ago=60)
        other_category = self._customer("Kocht tassen")
        self._confirmed_order(other_category, self.product_cup, days_ago=5)
        quotation_only = self._customer("Alleen offerte")
        self.env["sale.order"].create(
            {"partner_id": quotation_only.id, "order_line": [Command.create({"product_id": self.product_pot.id})]}
        )
        segment = self._segment(product_category_ids=[Command.set(self.categ_garden.ids)], bought_days=30)

        members = self._members(segment)

        self.assertIn(recent, members, "an order of a contact counts for its company; sub-categories count")
        self.assertNotIn(long_ago, members)
        self.assertNotIn(other_category, members)
        self.assertNotIn(quotation_only, members, "a quotation is not an order")

    def test_no_order_for_days(self):
        dormant = self._customer("Slapend")
        self._confirmed_order(dormant, self.product_pot, days_ago=200)
        never = self._customer("Nooit besteld")
        active = self._customer("Actief")
        self._confirmed_order(active, self.product_cup, days_ago=10)
        segment = self._segment(no_order_days=90)

        members = self._members(segment)

        self.assertIn(dormant, members)
        self.assertIn(never, members)
        self.assertNotIn(active, members)

    def test_touchpoints_in_last_days(self):
        twice = self._customer("Twee keer gesproken")
        self._touchpoint(twice, 5)
        self._touchpoint(twice, 20)
        once = self._customer("Een keer gesproken")
        self._touchpoint(once, 5)
        long_ago = self._customer("Lang geleden gesproken")
        self._touchpoint(long_ago, 100)
        self._touchpoint(long_ago, 120)
        segment = self._segment(touchpoint_days=30, touchpoint_min_count=2)

        members = self._members(segment)

        self.assertIn(twice, members)
        self.assertNotIn(once, members)
        self.assertNotIn(long_ago, members)
        segment.touchpoint_min_count = 1
        self.assertIn(once, self._members(segment))

    def test_extra_filter(self):
        kortrijk = self._customer("In Kortrijk", city="Kortrijk")
        gent = self._customer("In Gent", city="Gent")
        segment = self._segment(domain="[('city', '=', 'Kortrijk')]")

        members = self._members(segment)

        self.assertIn(kortrijk, members)
        self.assertNotIn(gent, members)

    def test_criteria_combine_with_and(self):
        both = self._customer("Belgisch en overwegend", country_id=self.belgium.id)
        both._journey_set_stage(self.stage_consideration, "manual")
        stage_only = self._customer("Nederlands en overwegend", country_id=self.netherlands.id)
        stage_only._journey_set_stage(self.stage_consideration, "manual")
        country_only = self._customer("Belgisch zonder fase", country_id=self.belgium.id)
        segment = self._segment(
            stage_ids=[Command.set(self.stage_consideration.ids)], country_ids=[Command.set(self.belgium.ids)]
        )

        members = self._members(segment)

        self.assertIn(both, members)
        self.assertNotIn(stage_only, members)
        self.assertNotIn(country_only, members)

    def test_company_target_skips_contacts_and_own_company(self):
        customer = self._customer("Klant", country_id=self.belgium.id)
        contact = self._contact(customer, "Contactpersoon", email="cp@klant.example")
        self.company.partner_id.country_id = self.belgium
        segment = self._segment(country_ids=[Command.set(self.belgium.ids)])

        members = self._members(segment)

        self.assertIn(customer, members)
        self.assertNotIn(contact, members)
        self.assertNotIn(self.company.partner_id, members)

    def test_contact_target_needs_email(self):
        customer = self._customer("Klant", country_id=self.belgium.id)
        with_email = self._contact(customer, "Met mail", email="met@klant.example")
        without_email = self._contact(customer, "Zonder mail")
        invoice_address = self._contact(customer, "Facturatie", email="fact@klant.example", type="invoice")
        segment = self._segment(target="contact", country_ids=[Command.set(self.belgium.ids)])

        members = self._members(segment)

        self.assertIn(with_email, members)
        self.assertNotIn(without_email, members)
        self.assertNotIn(invoice_address, members)
        self.assertNotIn(customer, members)

    def test_lead_target(self):
        customer = self._customer("Klant", country_id=self.belgium.id)
        Lead = self.env["crm.lead"]
        lead_of_customer = Lead.create({"name": "Potten", "partner_id": customer.id})
        lead_without_customer = Lead.create({"name": "Beursbezoeker", "country_id": self.belgium.id})
        dutch_lead = Lead.create({"name": "Nederlandse bezoeker", "country_id": self.netherlands.id})
        by_country = self._segment(target="lead", country_ids=[Command.set(self.belgium.ids)])
        by_stage = self._segment(target="lead", stage_ids=[Command.set(self.stage_awareness.ids)])

        by_country_members = self._members(by_country)
        by_stage_members = self._members(by_stage)

        self.assertIn(lead_of_customer, by_country_members)
        self.assertIn(lead_without_customer, by_country_members, "without customer, the lead's own country counts")
        self.assertNotIn(dutch_lead, by_country_members)
        self.assertIn(lead_of_customer, by_stage_members)
        self.assertNotIn(lead_without_customer, by_stage_members, "a stage needs a customer")

    def test_lead_target_skips_won_and_lost(self):
        customer = self._customer("Klant met leads")
        Lead = self.env["crm.lead"]
        open_lead = Lead.create({"name": "Open", "partner_id": customer.id, "type": "opportunity"})
        won_lead = Lead.create({"name": "Gewonnen", "partner_id": customer.id, "type": "opportunity"})
        won_lead.action_set_won()
        lost_lead = Lead.create({"name": "Verloren", "partner_id": customer.id, "type": "opportunity"})
        lost_lead.action_set_lost()
        segment = self._segment(target="lead", domain=f"[('partner_id', '=', {customer.id})]")

        members = self._members(segment)

        self.assertEqual(members, open_lead)

    def test_no_order_for_days_lead_without_customer(self):
        visitor = self.env["crm.lead"].create({"name": "Beursbezoeker zonder klant"})
        segment = self._segment(target="lead", no_order_days=90)

        self.assertIn(visitor, self._members(segment), "a lead without customer has never ordered")

    def test_segment_company_restricts_members(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Noord BV"})
        shared = self._customer("Gedeeld", country_id=self.belgium.id)
        of_other = self._customer("Van Noord", country_id=self.belgium.id, company_id=other_company.id)
        segment = self._segment(country_ids=[Command.set(self.belgium.ids)], company_id=self.company.id)

        members = self._members(segment)

        self.assertIn(shared, members)
        self.assertNotIn(of_other, members)

    def test_members_action_lists_the_same_records(self):
        belgian = self._customer("Belgisch", country_id=self.belgium.id)
        segment = self._segment(country_ids=[Command.set(self.belgium.ids)])

        action = segment.action_view_members()
        listed = self.env["res.partner"].search(action["domain"])

        self.assertEqual(listed, self._members(segment))
        self.assertIn(belgian, listed)
        belgian.invalidate_recordset(["journey_segment_match_ids"])
        self.assertIn(segment, belgian.journey_segment_match_ids)

    def test_live_count_follows_unsaved_criteria(self):
        self._customer("Belgisch", country_id=self.belgium.id)
        segment = self._segment()
        form_record = segment.new({"name": "Concept", "target": "company", "country_ids": [Command.set(self.belgium.ids)]})

        expected = self.env["res.partner"].search_count(
            [("journey_is_company", "=", True), ("country_id", "=", self.belgium.id)]
            + [("id", "not in", list(self.env["res.partner"]._journey_own_partner_ids()))]
            + [("company_id", "in", [False, self.company.id])]
        )
        self.assertEqual(form_record.member_count, expected)


@tagged("post_install", "-at_install")
class TestSegmentValidation(SegmentCase):
    def test_filter_with_syntax_error(self):
        with self.assertRaisesRegex(ValidationError, "Invalid Extra Filter"):
            self._segment(domain="[('city', '=', ")

    def test_filter_not_a_list(self):
        with self.assertRaisesRegex(ValidationError, "not a list of conditions"):
            self._segment(domain="'Kortrijk'")

    def test_filter_on_field_of_other_model(self):
        with self.assertRaisesRegex(ValidationError, "does not apply to"):
            self._segment(domain="[('expected_revenue', '>', 0)]")
        lead_segment = self._segment(target="lead", domain="[('expected_revenue', '>', 0)]")
        with self.assertRaisesRegex(ValidationError, "does not apply to"):
            lead_segment.target = "company"

    def test_filter_cannot_use_records(self):
        # A record in the evaluation context would let the filter call its methods.
        with self.assertRaises(ValidationError):
            self._segment(domain="[] if user.sudo().write({'name': 'Gekaapt'}) else []")

        self.assertNotEqual(self.env.user.name, "Gekaapt")

    def test_bought_days_needed_with_categories(self):
        with self.assertRaisesRegex(ValidationError, "Bought in the Last"):
            self._segment(product_category_ids=[Command.set(self.categ_garden.ids)], bought_days=0)

    def test_negative_days(self):
        with self.assertRaisesRegex(ValidationError, "No Order for"):
            self._segment(no_order_days=-5)
        with self.assertRaisesRegex(ValidationError, "Touchpoints in the Last"):
            self._segment(touchpoint_days=-1)

    def test_days_above_hundred_years_rejected(self):
        # 740000 days reach before year 1, 10**9 is beyond Python's timedelta and
        # 10**12 beyond PostgreSQL's integer column.
        cases = [
            ("bought_days", 740000, "Bought in the Last"),
            ("no_order_days", 10**9, "No Order for"),
            ("touchpoint_days", 10**12, "Touchpoints in the Last"),
        ]
        for field_name, days, label in cases:
            with self.subTest(field=field_name, days=days):
                with self.assertRaisesRegex(ValidationError, f"Invalid {label}.*: {days}. Enter a number of days up to 36500"):
                    self._segment(**{field_name: days})
                segment = self._segment()
                with self.assertRaisesRegex(ValidationError, f"Invalid {label}"):
                    segment.write({field_name: days})
                    segment.flush_recordset()
        segment = self._segment(no_order_days=36500, touchpoint_days=36500, bought_days=36500)
        self.assertIsInstance(segment.member_count, int, "100 years is still a period")

    def test_days_out_of_range_stored_before_fail_clearly(self):
        """A segment stored before the limit fails with the field, not an OverflowError."""
        segment = self._segment(no_order_days=30)
        self.env.cr.execute(
            "UPDATE customer_journey_segment SET no_order_days = %s WHERE id = %s", (740000, segment.id)
        )
        segment.invalidate_recordset()

        self.assertEqual(segment.member_count, 0)
        with self.assertRaisesRegex(ValidationError, "Invalid No Order for"):
            segment.action_refresh_members()

    def test_minimum_touchpoints_needs_period(self):
        with self.assertRaisesRegex(ValidationError, "Missing Touchpoints in the Last"):
            self._segment(touchpoint_min_count=3)
        with self.assertRaisesRegex(ValidationError, "Minimum Touchpoints"):
            self._segment(touchpoint_days=30, touchpoint_min_count=0)


@tagged("post_install", "-at_install")
class TestSegmentSync(SegmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_be = cls._customer("Tuincentrum Gent", country_id=cls.belgium.id, email="info@gent.example")
        cls.contact_be = cls._contact(cls.customer_be, "Lies", email="lies@gent.example")
        cls.customer_be_2 = cls._customer("Tuincentrum Brugge", country_id=cls.belgium.id, email="info@brugge.example")
        cls.customer_no_email = cls._customer("Zonder mail", country_id=cls.belgium.id)
        cls.segment = cls.env["customer.journey.segment"].create(
            {"name": "Belgische klanten", "country_ids": [Command.set(cls.belgium.ids)]}
        )

    def _list_emails(self, mailing_list=None, opt_out=None):
        subscriptions = (mailing_list or self.segment.mailing_list_id).subscription_ids
        if opt_out is not None:
            subscriptions = subscriptions.filtered(lambda subscription: subscription.opt_out == opt_out)
        return set(subscriptions.contact_id.mapped("email_normalized"))

    def test_sync_creates_list_and_adds_members(self):
        self.segment.action_sync_mailing_list()

        mailing_list = self.segment.mailing_list_id
        self.assertTrue(mailing_list)
        self.assertFalse(mailing_list.is_public)
        emails = self._list_emails()
        self.assertIn("info@gent.example", emails)
        self.assertIn("info@brugge.example", emails)
        self.assertTrue(all(sub.journey_segment_id == self.segment for sub in mailing_list.subscription_ids))
        self.assertGreaterEqual(self.segment.sync_skipped_count, 1, "the customer without email is skipped")
        self.assertEqual(self.segment.sync_added_count, len(emails))
        self.assertIn(self.customer_be, self.segment.member_partner_ids)
        self.assertIn(self.segment, self.customer_be.journey_segment_ids)

    def test_member_who_left_is_removed(self):
        self.segment.action_sync_mailing_list()

        self.customer_be_2.country_id = self.netherlands
        self.segment.action_sync_mailing_list()

        self.assertNotIn("info@brugge.example", self._list_emails())
        self.assertIn("info@gent.example", self._list_emails())
        self.assertEqual(self.segment.sync_removed_count, 1)
        self.assertEqual(self.segment.sync_added_count, 0)
        self.assertNotIn(self.customer_be_2, self.segment.member_partner_ids)

    def test_opt_out_kept_after_resync(self):
        self.segment.action_sync_mailing_list()
        subscription = self.segment.mailing_list_id.subscription_ids.filtered(
            lambda sub: sub.contact_id.email_normalized == "info@gent.example"
        )
        subscription.opt_out = True

        self.segment.action_sync_mailing_list()
        self.assertTrue(subscription.exists())
        self.assertTrue(subscription.opt_out, "a re-sync never subscribes an opted-out contact again")
        self.assertEqual(self.segment.sync_added_count, 0)

        self.customer_be.country_id = self.netherlands
        self.segment.action_sync_mailing_list()
        self.assertTrue(subscription.exists(), "the opt-out stays on record after the member left")
        self.assertTrue(subscription.opt_out)

    def test_opt_out_by_other_contact_kept(self):
        mailing_list = self.env["mailing.list"].create({"name": "Nieuwsbrief BE"})
        self.env["mailing.contact"].create(
            {"name": "Oud adres", "email": "Info@Gent.example", "subscription_ids": [Command.create({"list_id": mailing_list.id, "opt_out": True})]}
        )
        self.segment.mailing_list_id = mailing_list

        self.segment.action_sync_mailing_list()

        self.assertNotIn("info@gent.example", self._list_emails(opt_out=False))
        self.assertIn("info@brugge.example", self._list_emails(opt_out=False))

    def test_blacklisted_after_sync_removed(self):
        self.segment.action_sync_mailing_list()

        self.env["mail.blacklist"]._add("info@brugge.example")
        self.segment.action_sync_mailing_list()

        self.assertNotIn("info@brugge.example", self._list_emails())
        self.assertEqual(self.segment.sync_removed_count, 1)

    def test_blacklisted_email_not_added(self):
        self.env["mail.blacklist"]._add("info@brugge.example")

        self.segment.action_sync_mailing_list()

        self.assertNotIn("info@brugge.example", self._list_emails())
        self.assertIn("info@gent.example", self._list_emails())

    def test_manual_subscription_untouched(self):
        mailing_list = self.env["mailing.list"].create({"name": "Nieuwsbrief BE"})
        manual = self.env["mailing.subscription"].create(
            {
                "list_id": mailing_list.id,
                "contact_id": self.env["mailing.contact"].create({"name": "Brugge", "email": "info@brugge.example"}).id,
            }
        )
        self.segment.mailing_list_id = mailing_list
        self.segment.action_sync_mailing_list()
        self.assertFalse(manual.journey_segment_id, "the sync does not take over a manual subscription")

        self.customer_be_2.country_id = self.netherlands
        self.segment.action_sync_mailing_list()

        self.assertTrue(manual.exists(), "a subscription the sync did not add is never removed")
        self.assertEqual(self.segment.sync_removed_count, 0)

    def test_existing_contact_reused(self):
        existing = self.env["mailing.contact"].create({"name": "Gent uit andere lijst", "email": "INFO@gent.example"})

        self.segment.action_sync_mailing_list()

        subscription = self.segment.mailing_list_id.subscription_ids.filtered(
            lambda sub: sub.contact_id.email_normalized == "info@gent.example"
        )
        self.assertEqual(subscription.contact_id, existing)

    def test_contact_target_syncs_contact_emails(self):
        segment = self.env["customer.journey.segment"].create(
            {"name": "Belgische contacten", "target": "contact", "country_ids": [Command.set(self.belgium.ids)]}
        )

        segment.action_sync_mailing_list()

        self.assertIn("lies@gent.example", self._list_emails(segment.mailing_list_id))
        self.assertNotIn("info@gent.example", self._list_emails(segment.mailing_list_id))
        self.assertIn(self.customer_be, segment.member_partner_ids, "the membership stores customer companies")

    def test_cron_is_idempotent(self):
        self.segment.action_sync_mailing_list()
        self.customer_be_2.country_id = self.netherlands
        other = self.env["customer.journey.segment"].create({"name": "Zonder lijst", "no_order_days": 30})

        first = self.env["customer.journey.segment"]._cron_sync_segments()
        subscriptions = self.segment.mailing_list_id.subscription_ids.read(["contact_id", "opt_out", "journey_segment_id"])
        second = self.env["customer.journey.segment"]._cron_sync_segments()

        self.assertGreaterEqual(first["removed"], 1)
        self.assertEqual((second["added"], second["removed"], second["failed"]), (0, 0, 0))
        self.assertEqual(
            self.segment.mailing_list_id.subscription_ids.read(["contact_id", "opt_out", "journey_segment_id"]),
            subscriptions,
        )
        self.assertTrue(other.refresh_date, "segments without list get their members refreshed")
        self.assertFalse(other.mailing_list_id, "the cron creates no list")

    def test_cron_goes_on_after_failing_segment(self):
        broken = self.env["customer.journey.segment"].create({"name": "Kapot", "sequence": 1, "no_order_days": 30})
        # A period out of range, as stored before the limit existed.
        self.env.cr.execute("UPDATE customer_journey_segment SET no_order_days = %s WHERE id = %s", (10**9, broken.id))
        broken.invalidate_recordset()
        self.segment.sequence = 2
        self.segment.action_sync_mailing_list()
        self.customer_be_2.country_id = self.netherlands

        with self.assertLogs("odoo.addons.wholesale_customer_journey.models.customer_journey_segment_sync", "ERROR") as logs:
            totals = self.env["customer.journey.segment"]._cron_sync_segments()

        self.assertEqual(totals["failed"], 1)
        self.assertGreaterEqual(totals["removed"], 1, "the segment after the broken one is synced")
        self.assertNotIn("info@brugge.example", self._list_emails())
        self.assertFalse(broken.refresh_date)
        [record] = logs.records
        self.assertIn(f"segment {broken.id} (Kapot) failed", record.getMessage())
        self.assertTrue(record.exc_info, "the log has the traceback")

    def test_cron_goes_on_after_unexpected_error(self):
        """Any error of one segment, not only a validation or database error, is its own."""
        Segment = self.registry["customer.journey.segment"]
        original = Segment._refresh_members
        broken = self.env["customer.journey.segment"].create({"name": "Kapot", "sequence": 1})
        other = self.env["customer.journey.segment"].create({"name": "Heel", "sequence": 2})

        def refresh_members(segments):
            if broken in segments:
                # After a write, to check that the batch is rolled back.
                broken.description = "half gedaan"
                raise KeyError("onverwacht")
            return original(segments)

        with patch.object(Segment, "_refresh_members", refresh_members), self.assertLogs(
            "odoo.addons.wholesale_customer_journey.models.customer_journey_segment_sync", "ERROR"
        ):
            totals = self.env["customer.journey.segment"]._cron_sync_segments()

        self.assertEqual(totals["failed"], 1)
        self.assertTrue(other.refresh_date)
        self.assertFalse(broken.description, "the failed segment's batch is rolled back")


@tagged("post_install", "-at_install")
class TestSegmentExportImport(SegmentCase):
    def test_export_in_chosen_order(self):
        self._customer("Zeeland BV", country_id=self.netherlands.id, email="z@zeeland.example")
        self._customer("Antwerpen NV", country_id=self.belgium.id, email="a@antwerpen.example")
        segment = self._segment(
            country_ids=[Command.set((self.belgium | self.netherlands).ids)],
            domain="[('name', 'in', ['Zeeland BV', 'Antwerpen NV'])]",
            export_order="name",
            export_descending=True,
        )

        fields_info, headers, rows = segment._get_export_data()

        self.assertEqual([row[0] for row in rows], ["Zeeland BV", "Antwerpen NV"])
        self.assertEqual(headers[2], "Email")
        self.assertEqual(fields_info[0]["name"], "name")
        segment.export_descending = False
        self.assertEqual([row[0] for row in segment._get_export_data()[2]], ["Antwerpen NV", "Zeeland BV"])

    def test_export_company_header(self):
        segment = self._segment(domain="[('name', '=', 'Niemand')]")
        lead_segment = self._segment(target="lead", domain="[('name', '=', 'Niemand')]")

        self.assertEqual(segment._get_export_data()[1][1], "Company")
        self.assertEqual(lead_segment._get_export_data()[1][1], "Company")

    def test_export_members_without_stage_last(self):
        converted = self._customer("Klant (export)")
        converted._journey_set_stage(self.stage_conversion, "manual")
        considering = self._customer("Overweger (export)")
        considering._journey_set_stage(self.stage_consideration, "manual")
        without_stage = self._customer("Zonder fase (export)")
        segment = self._segment(domain="[('name', 'like', '(export)')]", export_order="stage")

        for descending, expected in (
            (True, [converted, considering, without_stage]),
            (False, [considering, converted, without_stage]),
        ):
            with self.subTest(descending=descending):
                segment.export_descending = descending
                self.assertEqual(list(segment._get_export_records()), expected)

    def test_export_leads_without_stage_last(self):
        customer = self._customer("Klant (export)")
        Lead = self.env["crm.lead"]
        lead_of_customer = Lead.create({"name": "Potten", "partner_id": customer.id, "contact_name": "B"})
        lead_without_customer = Lead.create({"name": "Beursbezoeker", "contact_name": "A"})
        segment = self._segment(
            target="lead",
            domain=f"[('id', 'in', {[lead_of_customer.id, lead_without_customer.id]})]",
            export_order="stage",
        )

        for descending in (True, False):
            with self.subTest(descending=descending):
                segment.export_descending = descending
                self.assertEqual(list(segment._get_export_records()), [lead_of_customer, lead_without_customer])

    def test_import_records_touchpoint(self):
        content = "name,email,is_company\nImport Klant BV,info@importklant.example,1\n"
        importer = self.env["base_import.import"].create(
            {"res_model": "res.partner", "file": content.encode(), "file_name": "beurs_2026.csv", "file_type": "text/csv"}
        )
        options = {"has_headers": True, "quoting": '"', "separator": ",", "encoding": "utf-8"}

        dry_run = importer.execute_import(["name", "email", "is_company"], ["name", "email", "is_company"], options, dryrun=True)
        self.assertFalse(dry_run.get("messages"), dry_run.get("messages"))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Import Klant BV")]))
        result = importer.execute_import(["name", "email", "is_company"], ["name", "email", "is_company"], options)

        self.assertFalse(result.get("messages"), result.get("messages"))
        partner = self.env["res.partner"].browse(result["ids"])
        touchpoint = partner.journey_touchpoint_ids
        self.assertEqual(len(touchpoint), 1)
        self.assertEqual(touchpoint.name, "Imported from list beurs_2026.csv")
        self.assertEqual(
            (touchpoint.origin, touchpoint.channel, touchpoint.direction), ("import", "other", "inbound")
        )
        partner._journey_record_import_touchpoints()
        self.assertEqual(len(partner.journey_touchpoint_ids), 1, "never twice for the same partner")

    def test_partner_created_outside_import_gets_no_touchpoint(self):
        partner = self._customer("Handmatig")

        self.assertFalse(partner.journey_touchpoint_ids.filtered(lambda touchpoint: touchpoint.origin == "import"))


@tagged("post_install", "-at_install")
class TestSegmentAccess(SegmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.segment = cls.env["customer.journey.segment"].create(
            {"name": "Belgische klanten", "country_ids": [Command.set(cls.belgium.ids)]}
        )

    def test_internal_user_reads_but_does_not_write(self):
        segment = self.segment.with_user(self.user_employee)

        self.assertEqual(segment.name, "Belgische klanten")
        self.assertIsInstance(segment.member_count, int)
        with self.assertRaises(AccessError):
            segment.write({"name": "Andere naam"})
        with self.assertRaises(AccessError):
            self.env["customer.journey.segment"].with_user(self.user_employee).create({"name": "Nieuw"})
        with self.assertRaises(AccessError):
            segment.action_sync_mailing_list()

    def test_journey_user_manages_segments(self):
        Segment = self.env["customer.journey.segment"].with_user(self.user_salesman)

        segment = Segment.create({"name": "Mijn segment", "no_order_days": 60})
        segment.write({"touchpoint_days": 30})
        segment.action_refresh_members()
        self.assertTrue(segment.refresh_date)
        segment.unlink()

    def test_sync_needs_email_marketing_rights(self):
        newsletter = self.env["mailing.list"].create({"name": "Nieuwsbrief"})
        segment = self.segment.with_user(self.user_salesman)

        with self.assertRaises(UserError):
            segment.action_sync_mailing_list()
        with self.assertRaises(UserError):
            segment.write({"mailing_list_id": newsletter.id})
        self.assertFalse(newsletter.subscription_ids)

        self.user_salesman.groups_id = [Command.link(self.env.ref("mass_mailing.group_mass_mailing_user").id)]
        segment.action_sync_mailing_list()
        self.assertTrue(segment.mailing_list_id)

    def test_segment_without_company_needs_all_companies(self):
        self.env["res.company"].create({"name": "Groothandel Zuid BV"})
        self.user_salesman.company_ids = self.company
        Segment = self.env["customer.journey.segment"].with_user(self.user_salesman)

        with self.assertRaises(UserError):
            Segment.create({"name": "Alle bedrijven", "company_id": False})
        shared = self.env["customer.journey.segment"].create({"name": "Gedeeld", "company_id": False})
        with self.assertRaises(UserError):
            shared.with_user(self.user_salesman).action_refresh_members()
        with self.assertRaises(UserError):
            shared.with_user(self.user_salesman).write({"domain": "[('email', 'ilike', 'zuid')]"})

    def test_portal_user_sees_nothing(self):
        with self.assertRaises(AccessError):
            self.env["customer.journey.segment"].with_user(self.user_portal).search([])

    def test_other_company_segment_hidden(self):
        other_company = self.env["res.company"].create({"name": "Groothandel Zuid BV"})
        other_segment = self.env["customer.journey.segment"].create({"name": "Zuid", "company_id": other_company.id})
        shared = self.env["customer.journey.segment"].create({"name": "Gedeeld", "company_id": False})
        user = mail_new_test_user(
            self.env, login="segment_other_company", groups="base.group_user",
            company_id=self.company.id, company_ids=[Command.set(self.company.ids)],
        )

        visible = self.env["customer.journey.segment"].with_user(user).search([])

        self.assertIn(self.segment, visible)
        self.assertIn(shared, visible)
        self.assertNotIn(other_segment, visible)


@tagged("post_install", "-at_install")
class TestSegmentExportDownload(HttpCase):
    def test_download_csv_in_order(self):
        Partner = self.env["res.partner"]
        Partner.create({"name": "Bakkerij Zuid (export)", "is_company": True, "email": "z@zuid.example"})
        Partner.create({"name": "Bakkerij Noord (export)", "is_company": True, "email": "n@noord.example"})
        segment = self.env["customer.journey.segment"].create(
            {
                "name": "Bakkerijen",
                "domain": "[('name', 'like', '(export)')]",
                "export_format": "csv",
                "export_order": "name",
            }
        )
        self.authenticate("admin", "admin")

        response = self.url_open(f"/wholesale_customer_journey/segment/{segment.id}/addresses")

        self.assertEqual(response.status_code, 200)
        self.assertIn("text/csv", response.headers["Content-Type"])
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        self.assertEqual(rows[0][0], "Name")
        self.assertEqual(rows[0][1], "Company")
        self.assertEqual([row[0] for row in rows[1:]], ["Bakkerij Noord (export)", "Bakkerij Zuid (export)"])

    def test_download_file_name_keeps_dash_and_accents(self):
        segment = self.env["customer.journey.segment"].create(
            {"name": "Flemish customers – café", "domain": "[('id', '=', 0)]", "export_format": "csv"}
        )
        self.authenticate("admin", "admin")

        response = self.url_open(f"/wholesale_customer_journey/segment/{segment.id}/addresses")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.headers["Content-Disposition"],
            "attachment; filename*=UTF-8''Flemish%20customers%20-%20caf%C3%A9.csv",
        )


@tagged("post_install", "-at_install")
class TestSegmentDemo(TransactionCase):
    """The demo segments, as installed with the demo data."""

    def test_demo_segments_have_stored_members(self):
        xmlids = [
            "demo_segment_interested",
            "demo_segment_dormant",
            "demo_segment_flemish_email",
            "demo_segment_garden_buyers",
        ]
        segments = self.env["customer.journey.segment"].browse(
            [self.env.ref(f"wholesale_customer_journey.{xmlid}").id for xmlid in xmlids]
        )

        for segment in segments:
            with self.subTest(segment=segment.name):
                self.assertTrue(segment.refresh_date)
                self.assertTrue(segment.member_partner_ids)
        groups = self.env["customer.journey.funnel.report"]._read_group(
            [("segment_ids", "in", segments.ids)], ["segment_ids"], ["__count"]
        )
        grouped = self.env["customer.journey.segment"].union(*(segment for segment, __ in groups))
        self.assertEqual(grouped & segments, segments, "the funnel groups by every demo segment")

