# Copyright 2026 wholesale_customer_journey contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Wholesale Customer Journey - Loyalty",
    "summary": "Coupons, discount codes and promotions offered with the aftersales suggestions",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "wholesale_customer_journey contributors",
    "website": "https://example.com/wholesale_customer_journey",
    "development_status": "Alpha",
    "depends": ["wholesale_customer_journey", "sale_loyalty"],
    "data": [
        "views/customer_journey_suggestion_views.xml",
        "views/customer_journey_cross_sell_rule_views.xml",
        "views/sale_order_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": [
        "demo/loyalty_program_demo.xml",
    ],
    "auto_install": True,
    "installable": True,
    "application": False,
}
