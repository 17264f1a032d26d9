# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.tools import SQL


class CustomerJourneyReportMixin(models.AbstractModel):
    """Aggregates for the journey reports that Odoo's grouping does not offer.

    ``ratio``: a rate computed from the group's sums (100 * SUM(numerator) /
    SUM(denominator)), not the average of its rows' rates, so that a group of
    5,000 customers weighs more than one of 50. ``median``: PostgreSQL's
    PERCENTILE_CONT(0.5).
    """

    _name = "customer.journey.report.mixin"
    _description = "Customer Journey Report Aggregates"

    # {rate field: (numerator field, denominator field)} for the "ratio" aggregator.
    _ratio_measures = {}

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = models.parse_read_group_spec(aggregate_spec)
        if func == "ratio" and fname in self._ratio_measures:
            numerator, denominator = (
                self._field_to_sql(self._table, name, query) for name in self._ratio_measures[fname]
            )
            return SQL("100.0 * SUM(%s) / NULLIF(SUM(%s), 0)", numerator, denominator)
        if func == "median":
            expr = self._field_to_sql(self._table, fname, query)
            return SQL("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %s)", expr)
        return super()._read_group_select(aggregate_spec, query)
