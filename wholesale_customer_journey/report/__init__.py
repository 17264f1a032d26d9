# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import customer_journey_report_mixin
from . import customer_journey_funnel_report
from . import customer_journey_campaign_report
