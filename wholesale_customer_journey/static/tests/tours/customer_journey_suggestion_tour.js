import { registry } from "@web/core/registry";

// The Python test (tests/test_suggestions.py) opens a draft quotation of a
// customer with one open cross-sell suggestion for this product.
const PRODUCT = "Journey Tour Saucer 40 cm";

registry.category("web_tour.tours").add("wholesale_customer_journey_suggestion_tour", {
    steps: () => [
        {
            content: "Open the Suggested Products tab.",
            trigger: ".o_notebook_headers a:contains(Suggested Products)",
            run: "click",
        },
        {
            content: "Add the suggested product to the quotation.",
            trigger: `div[name="journey_suggestion_ids"] .o_data_row:contains(${PRODUCT}) button[name="action_add_to_order"]`,
            run: "click",
        },
        {
            content: "The tab disappears with its last suggestion.",
            trigger: ".o_notebook_headers:not(:has(a:contains(Suggested Products)))",
        },
        {
            content: "Open the order lines.",
            trigger: ".o_notebook_headers a:contains(Order Lines)",
            run: "click",
        },
        {
            content: "The product is on the quotation.",
            trigger: `div[name="order_line"] .o_data_row:contains(${PRODUCT})`,
        },
    ],
});
