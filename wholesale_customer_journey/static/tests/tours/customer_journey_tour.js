import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The Python test (tests/test_ui_tour.py) creates this customer and gives it
// a lead, which puts it in the Awareness stage with one touchpoint.
const CUSTOMER = "Journey Tour Wholesaler";
const STAGE = "Awareness";
const REVIEW_SUMMARY = "Praised our delivery times";
const REVIEW_AUTHOR = "Trade forum";

registry.category("web_tour.tours").add("wholesale_customer_journey_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app."),
        {
            content: "Open the Customer Journey menu.",
            trigger: 'button[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_root"]',
            run: "click",
        },
        {
            content: "Open the customers by journey stage.",
            trigger: 'a[data-menu-xmlid="wholesale_customer_journey.menu_journey_customers"]',
            run: "click",
        },
        {
            // A kanban column loads a limited number of cards, so search for
            // the customer instead of relying on its card being loaded.
            content: "Search for the customer.",
            trigger: ".o_searchview_input",
            run: `edit ${CUSTOMER} && press Enter`,
        },
        {
            content: `Open the customer from the ${STAGE} column.`,
            trigger: `.o_kanban_group:has(.o_column_title:contains(${STAGE})) .o_kanban_record:contains(${CUSTOMER})`,
            run: "click",
        },
        {
            content: `Check that the statusbar shows the ${STAGE} stage.`,
            trigger: `.o_form_statusbar .o_statusbar_status button[aria-checked="true"]:contains(/^${STAGE}$/)`,
        },
        {
            content: "Check that the customer has one touchpoint, from its lead.",
            trigger: 'button[name="action_journey_open_touchpoints"] .o_stat_value:contains(/^1$/)',
        },
        {
            content: "Log a review about the company.",
            trigger: '.o_form_statusbar button[name="action_journey_log_touchpoint"]:contains(Log Review)',
            run: "click",
        },
        {
            content: "Check that the dialog opens with the Review channel.",
            trigger: '.modal .o_field_widget[name="channel"] select:value(/"review"/)',
        },
        {
            content: "Fill in the summary of the review.",
            trigger: '.modal .o_field_widget[name="name"] input',
            run: `edit ${REVIEW_SUMMARY}`,
        },
        {
            // "Good" is rating 4, the fourth of five stars.
            content: "Rate the review as Good (rating 4).",
            trigger: '.modal .o_field_widget[name="rating"] a.o_priority_star[aria-label="Good"]',
            run: "click",
        },
        {
            content: "Check that the rating is Good.",
            trigger: '.modal .o_field_widget[name="rating"] a.o_priority_star[aria-label="Good"][aria-checked="true"]',
        },
        {
            content: "Say where the review was published.",
            trigger: '.modal .o_field_widget[name="author_name"] input',
            run: `edit ${REVIEW_AUTHOR}`,
        },
        {
            content: "Save the review.",
            trigger: ".modal .modal-footer button.btn-primary:contains(Save)",
            run: "click",
        },
        {
            content: "Wait for the dialog to close.",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Check that the Touchpoints smart button counts the review.",
            trigger: 'button[name="action_journey_open_touchpoints"] .o_stat_value:contains(/^2$/)',
        },
        {
            content: "Open the Customer Journey tab.",
            trigger: ".o_notebook .nav-link:contains(Customer Journey)",
            run: "click",
        },
        {
            content: "Check that the review is listed with its channel and rating.",
            trigger: [
                `.o_field_widget[name="journey_touchpoint_ids"] .o_data_row:contains(${REVIEW_SUMMARY})`,
                ':has(td[name="channel"]:contains(Review))',
                ':has(td[name="rating"] [aria-label="Good"][aria-checked="true"])',
            ].join(""),
        },
    ],
});
