# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_suggestion_offers
from . import test_offer_edge_cases
