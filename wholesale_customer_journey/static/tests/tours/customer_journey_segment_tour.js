import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The Python test (tests/test_ui_tour.py) creates the tag and the two
// customers that carry it, each with an email address.
const SEGMENT = "Tour segment of tagged customers";
const TAG = "Journey Tour Segment Tag";
const CUSTOMERS = ["Journey Tour Segment Customer A", "Journey Tour Segment Customer B"];

registry.category("web_tour.tours").add("wholesale_customer_journey_segment_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app."),
        {
            content: "Open the Customer Journey menu.",
            trigger: 'button[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_root"]',
            run: "click",
        },
        {
            content: "Open the segments.",
            trigger: 'a[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_segment"]',
            run: "click",
        },
        {
            content: "Create a segment.",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name the segment.",
            trigger: '.o_field_widget[name="name"] input',
            run: `edit ${SEGMENT}`,
        },
        {
            content: "Search the customer tag.",
            trigger: '.o_field_widget[name="tag_ids"] input',
            run: `edit ${TAG}`,
        },
        {
            content: "Pick the customer tag.",
            trigger: `.o-autocomplete--dropdown-item a:contains(${TAG})`,
            run: "click",
        },
        {
            content: "Check that the live count shows the two tagged customers.",
            trigger: 'button[name="action_view_members"] .o_stat_value:contains(/^2$/)',
        },
        {
            content: "Save the segment.",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Sync the segment to a new mailing list.",
            trigger: '.o_form_statusbar button[name="action_sync_mailing_list"]',
            run: "click",
        },
        {
            content: "Open the Mailing List and Export tab.",
            trigger: ".o_notebook .nav-link:contains(Mailing List and Export)",
            run: "click",
        },
        {
            content: "Check that the sync added both customers.",
            trigger: '.o_field_widget[name="sync_added_count"]:contains(/^2$/)',
        },
        {
            content: "Check that the sync created the mailing list.",
            trigger: `.o_field_widget[name="mailing_list_id"] input:value(${SEGMENT})`,
        },
        {
            content: "Open the members.",
            trigger: 'button[name="action_view_members"]',
            run: "click",
        },
        {
            content: "Check that the first tagged customer is listed.",
            trigger: `.o_list_view .o_data_row:contains(${CUSTOMERS[0]})`,
        },
        {
            content: "Check that the second tagged customer is listed.",
            trigger: `.o_list_view .o_data_row:contains(${CUSTOMERS[1]})`,
        },
        {
            content: "Open the Customer Journey menu again.",
            trigger: 'button[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_root"]',
            run: "click",
        },
        {
            content: "Open the Campaign Results.",
            trigger: 'a[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_campaign_report"]',
            run: "click",
        },
        {
            content: "Check that the Campaign Results open as a pivot table with the rates.",
            trigger: ".o_pivot th:contains(Response Rate (%))",
        },
    ],
});
