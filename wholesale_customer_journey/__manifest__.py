# Copyright 2026 wholesale_customer_journey contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Wholesale Customer Journey",
    "summary": "Journey stages, history and touchpoints for B2B customers, driven by "
    "leads, orders and mailings, with segments, campaign leads and funnel reports",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "wholesale_customer_journey contributors",
    "website": "https://example.com/wholesale_customer_journey",
    "development_status": "Alpha",
    "depends": ["base_import", "contacts", "crm", "mail", "mass_mailing", "mass_mailing_crm", "sale_crm", "utm"],
    "data": [
        "security/customer_journey_security.xml",
        "security/ir.model.access.csv",
        "data/customer_journey_stage_data.xml",
        "data/customer_journey_rule_data.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "data/customer_journey_info_mail_template_data.xml",
        "data/customer_journey_suggestion_mail_template_data.xml",
        "views/customer_journey_stage_views.xml",
        "views/customer_journey_rule_views.xml",
        "views/customer_journey_assignment_rule_views.xml",
        "views/customer_journey_history_views.xml",
        "views/customer_journey_touchpoint_views.xml",
        "views/res_partner_views.xml",
        "views/crm_lead_views.xml",
        "views/sale_order_views.xml",
        "views/mail_activity_type_views.xml",
        # Before the settings view, whose buttons open the cycles and the cross-sell rules.
        "views/customer_journey_reorder_cycle_views.xml",
        "views/customer_journey_suggestion_views.xml",
        "views/customer_journey_cross_sell_rule_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/customer_journey_stage_set_views.xml",
        "wizards/sales_history_import_views.xml",
        "report/customer_journey_funnel_report_views.xml",
        "report/customer_journey_campaign_report_views.xml",
        "data/customer_journey_segment_data.xml",
        "views/customer_journey_segment_views.xml",
        "views/customer_journey_interest_views.xml",
        "views/customer_journey_info_rule_views.xml",
        "views/customer_journey_menus.xml",
        "views/utm_campaign_views.xml",
        "views/mailing_mailing_views.xml",
    ],
    "demo": [
        "demo/customer_journey_demo.xml",
        "demo/customer_journey_interest_demo.xml",
        "demo/customer_journey_campaign_demo.xml",
        # After the interests and campaigns: its rules and interests use their customers and leads.
        "demo/customer_journey_info_demo.xml",
        "demo/customer_journey_cross_sell_demo.xml",
        # After the journeys are dated: it imports sales history dated on its own, then refreshes the cycles.
        "demo/customer_journey_reorder_demo.xml",
        # Last: its segments store their members once every demo customer has its stage.
        "demo/customer_journey_segment_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "wholesale_customer_journey/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": False,
}
