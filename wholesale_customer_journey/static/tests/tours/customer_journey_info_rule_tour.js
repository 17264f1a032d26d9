import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The Python test (tests/test_ui_tour.py) creates the product, and the open
// lead of a customer who asked about it, with an email address.
const RULE = "Tour datasheets for interested leads";
const PRODUCT = "Journey Tour Rain Barrel 200 l";
const LEAD_EMAIL = "inkoop@regenton-tour.example";

registry.category("web_tour.tours").add("wholesale_customer_journey_info_rule_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app."),
        {
            content: "Open the Customer Journey menu.",
            trigger: 'button[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_root"]',
            run: "click",
        },
        {
            content: "Open the product information rules.",
            trigger: 'a[data-menu-xmlid="wholesale_customer_journey.menu_customer_journey_info_rule"]',
            run: "click",
        },
        {
            content: "Create a rule.",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name the rule.",
            trigger: '.o_field_widget[name="name"] input',
            run: `edit ${RULE}`,
        },
        {
            content: "Let interests recorded before today trigger the rule.",
            trigger: '.o_field_widget[name="date_start"] input',
            run: "edit 01/01/2020 00:00:00",
        },
        {
            content: "Search the product.",
            trigger: '.o_field_widget[name="product_ids"] input',
            run: `edit ${PRODUCT}`,
        },
        {
            content: "Pick the product.",
            trigger: `.o-autocomplete--dropdown-item a:contains(${PRODUCT})`,
            run: "click",
        },
        {
            content: "Check that the default lead template is set.",
            trigger: '.o_field_widget[name="mail_template_id"] input:value(/product information \\(lead\\)/)',
        },
        {
            content: "Save the rule.",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Preview the recipients.",
            trigger: '.o_form_statusbar button[name="action_preview_recipients"]',
            run: "click",
        },
        {
            content: "Check that the lead's contact would get a mail.",
            trigger: `.modal .o_data_row:contains(${LEAD_EMAIL}):contains(Mail)`,
        },
        {
            content: "Close the preview.",
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            content: "Send a test mail to myself.",
            trigger: '.o_form_statusbar button[name="action_send_test"]',
            run: "click",
        },
        {
            content: "Check that the test mail was sent.",
            trigger: ".o_notification:contains(A test mail was sent)",
        },
    ],
});
