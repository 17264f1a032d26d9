# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_journey_stages
from . import test_touchpoints
from . import test_journey_security
from . import test_journey_recompute
from . import test_ui_tour
from . import test_sales_history_parser
from . import test_sales_history_import
from . import test_own_partners
from . import test_demo_data
from . import test_funnel_report
from . import test_campaign_report
from . import test_segments
from . import test_campaign_responses
from . import test_product_interest
from . import test_info_mailing
from . import test_info_mail_batch
from . import test_analysis
