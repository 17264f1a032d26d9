# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import customer_journey_stage
from . import customer_journey_rule
from . import customer_journey_history
from . import customer_journey_touchpoint
from . import customer_journey_replay
from . import res_company
from . import res_config_settings
from . import res_partner
from . import res_partner_demo
from . import customer_journey_document_mixin
from . import crm_lead
from . import sale_order
from . import mail_message
from . import mail_activity
from . import mail_activity_type
from . import sales_history_import
from . import customer_journey_campaign_trend
