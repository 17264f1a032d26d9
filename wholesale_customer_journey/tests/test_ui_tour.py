# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.addons.mail.tests.common import MockEmail, mail_new_test_user
from odoo.tests import HttpCase, tagged

# Values that static/tests/tours/customer_journey_tour.js uses too.
CUSTOMER_NAME = "Journey Tour Wholesaler"
REVIEW_SUMMARY = "Praised our delivery times"
REVIEW_AUTHOR = "Trade forum"
SEGMENT_NAME = "Tour segment of tagged customers"
SEGMENT_TAG = "Journey Tour Segment Tag"
SEGMENT_CUSTOMERS = ["Journey Tour Segment Customer A", "Journey Tour Segment Customer B"]
INFO_RULE_NAME = "Tour datasheets for interested leads"
INFO_PRODUCT = "Journey Tour Rain Barrel 200 l"
INFO_LEAD_EMAIL = "inkoop@regenton-tour.example"


@tagged("post_install", "-at_install")
class TestCustomerJourneyTour(HttpCase):
    """Log a review from the customer form in the browser, as a salesperson."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_awareness = cls.env.ref("wholesale_customer_journey.stage_awareness")
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="journey_tour_salesman",
            name="Tess Tour Salesman",
            email="tess.tour@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": CUSTOMER_NAME, "is_company": True, "email": "buying@tour-wholesaler.example"}
        )
        # A first lead without campaign puts the customer in Awareness, as it
        # would in production, and records one touchpoint.
        cls.env["crm.lead"].with_user(cls.user_salesman).create(
            {
                "name": "Pallets of garden pots",
                "partner_id": cls.customer.id,
                "user_id": cls.user_salesman.id,
            }
        )

    def test_log_review_from_customer_form(self):
        Touchpoint = self.env["customer.journey.touchpoint"]
        # The tour checks the stage and the touchpoint count in the browser, so
        # check them here first to tell a setup problem apart from a UI problem.
        self.assertEqual(self.customer.journey_stage_id, self.stage_awareness)
        self.assertEqual(self.customer.journey_touchpoint_count, 1)
        review_domain = [("partner_id", "=", self.customer.id), ("channel", "=", "review")]
        self.assertFalse(Touchpoint.search(review_domain))

        self.start_tour("/odoo", "wholesale_customer_journey_tour", login=self.user_salesman.login)

        review = Touchpoint.search(review_domain)
        self.assertEqual(len(review), 1, "The tour must log exactly one review for the customer.")
        self.assertEqual(review.name, REVIEW_SUMMARY)
        self.assertEqual(review.partner_id, self.customer)
        self.assertFalse(review.contact_id)
        self.assertEqual(review.rating, "4")
        self.assertEqual(review.kind, "indirect")
        self.assertEqual(review.direction, "inbound")
        self.assertEqual(review.origin, "manual")
        self.assertEqual(review.author_name, REVIEW_AUTHOR)
        self.assertEqual(review.stage_id, self.stage_awareness)
        self.assertEqual(review.user_id, self.user_salesman)
        self.assertEqual(review.create_uid, self.user_salesman)

        self.customer.invalidate_recordset(["journey_touchpoint_count"])
        self.assertEqual(self.customer.journey_touchpoint_count, 2)
        # A review records an opinion and does not change the journey stage.
        self.assertEqual(self.customer.journey_stage_id, self.stage_awareness)


@tagged("post_install", "-at_install")
class TestCustomerJourneySegmentTour(HttpCase):
    """Build a segment, sync it and open the campaign report in the browser, as a marketing salesperson."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="journey_segment_tour_salesman",
            name="Sam Segment Salesman",
            email="sam.segment@example.com",
            # Syncing a segment to a mailing list takes Email Marketing rights.
            groups="sales_team.group_sale_salesman,mass_mailing.group_mass_mailing_user",
        )
        cls.tag = cls.env["res.partner.category"].create({"name": SEGMENT_TAG})
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": name,
                    "is_company": True,
                    "email": f"orders{index}@segment-tour.example",
                    "category_id": [(4, cls.tag.id)],
                }
                for index, name in enumerate(SEGMENT_CUSTOMERS)
            ]
        )

    def test_segment_sync_from_form(self):
        self.start_tour("/odoo", "wholesale_customer_journey_segment_tour", login=self.user_salesman.login)

        segment = self.env["customer.journey.segment"].search([("name", "=", SEGMENT_NAME)])
        self.assertEqual(len(segment), 1, "The tour must create exactly one segment.")
        self.assertEqual(segment.tag_ids, self.tag)
        self.assertEqual(segment.target, "company")
        self.assertEqual(segment.member_partner_ids, self.customers)
        subscriptions = segment.mailing_list_id.subscription_ids
        self.assertEqual(
            sorted(subscriptions.contact_id.mapped("email")),
            ["orders0@segment-tour.example", "orders1@segment-tour.example"],
        )
        self.assertEqual(subscriptions.journey_segment_id, segment)


@tagged("post_install", "-at_install")
class TestInfoRuleTour(HttpCase, MockEmail):
    """Create a product information rule, preview its recipients and send a test, as a journey manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="journey_info_tour_salesman",
            name="Ilse Info Salesman",
            email="ilse.info@example.com",
            # Product information rules mail on their own: only journey managers configure them.
            groups="sales_team.group_sale_salesman,wholesale_customer_journey.group_journey_manager",
        )
        cls.product = cls.env["product.template"].create(
            {"name": INFO_PRODUCT, "list_price": 89.0, "sale_ok": True}
        )
        customer = cls.env["res.partner"].create(
            {"name": "Regenton Tour Tuincentrum", "is_company": True, "journey_preferred_channel": "email"}
        )
        contact = cls.env["res.partner"].create(
            {"name": "Ine Inkoop", "parent_id": customer.id, "email": INFO_LEAD_EMAIL}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Regentonnen voor het voorjaar",
                "partner_id": contact.id,
                "email_from": INFO_LEAD_EMAIL,
                "user_id": cls.user_salesman.id,
                "journey_interest_product_ids": [(4, cls.product.id)],
            }
        )

    def test_info_rule_preview_and_test_mail(self):
        # The mock gateway records the test mail that the server sends.
        with self.mock_mail_gateway():
            self.start_tour("/odoo", "wholesale_customer_journey_info_rule_tour", login=self.user_salesman.login)

        rule = self.env["customer.journey.info.rule"].search([("name", "=", INFO_RULE_NAME)])
        self.assertEqual(len(rule), 1, "The tour must create exactly one rule.")
        self.assertEqual(rule.product_ids, self.product)
        self.assertEqual(rule.target, "lead")
        self.assertEqual(rule.mail_template_id, self.env.ref("wholesale_customer_journey.mail_template_info_lead"))
        self.assertTrue(rule.mailing_id, "Saving the rule must create its tracking mailing.")
        # Neither the preview nor the test mail queues a send.
        self.assertFalse(rule.send_ids)
        test_mails = [mail for mail in self._mails if "ilse.info@example.com" in ",".join(mail["email_to"])]
        self.assertEqual(len(test_mails), 1, "The tour must send exactly one test mail to the salesperson.")
        self.assertTrue(test_mails[0]["subject"].startswith("[Test]"))
        self.assertIn(INFO_PRODUCT, test_mails[0]["body"])
