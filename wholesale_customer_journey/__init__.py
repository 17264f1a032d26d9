# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import models
from . import report
from . import wizards
from . import controllers
from .hooks import post_init_hook
