# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import loyalty_program
from . import res_company
from . import res_config_settings
from . import customer_journey_cross_sell_rule
from . import customer_journey_suggestion
