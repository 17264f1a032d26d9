# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

from odoo.addons.wholesale_customer_journey.models.customer_journey_suggestion import OPEN_STATES

from .loyalty_program import COUPON_PROGRAM_TYPES, OFFER_PROGRAM_TYPES

_logger = logging.getLogger(__name__)


class CustomerJourneySuggestion(models.Model):
    _inherit = "customer.journey.suggestion"

    loyalty_program_id = fields.Many2one(
        "loyalty.program",
        string="Offer",
        index="btree_not_null",
        domain="[('program_type', 'in', %s), ('company_id', 'in', [company_id, False])]" % (OFFER_PROGRAM_TYPES,),
        help="The coupon, discount code or promotion offered with this suggestion: its cross-sell rule's offer, "
        "else the company's Suggestion Offer when it was generated. Sales and Customer Journey managers may "
        "change it until a coupon is issued.",
    )
    coupon_id = fields.Many2one(
        "loyalty.card",
        string="Coupon",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The customer's own coupon, issued when the suggestion is first followed up or added to a quotation.",
    )
    coupon_expiration_date = fields.Date(related="coupon_id.expiration_date", string="Coupon Valid Until")
    # The computed fields read as superuser: loyalty cards and programs are closed to users
    # outside Sales, who still read the journey data.
    coupon_used = fields.Boolean(
        compute="_compute_coupon_used", compute_sudo=True, help="An order of the customer used the suggestion's coupon."
    )
    offer_code = fields.Char(
        compute="_compute_offer_code",
        compute_sudo=True,
        help="The code the customer enters to get the offer: the coupon's code or the program's discount code. "
        "Empty for a promotion that applies by itself.",
    )
    offer_needs_coupon = fields.Boolean(compute="_compute_offer_code", compute_sudo=True)

    @api.depends("coupon_id.use_count")
    def _compute_coupon_used(self):
        for suggestion in self:
            suggestion.coupon_used = bool(suggestion.coupon_id.use_count)

    @api.depends("coupon_id.code", "loyalty_program_id.program_type", "loyalty_program_id.rule_ids.code")
    def _compute_offer_code(self):
        for suggestion in self:
            program = suggestion.loyalty_program_id
            needs_coupon = program.program_type in COUPON_PROGRAM_TYPES
            suggestion.offer_needs_coupon = needs_coupon and not suggestion.coupon_id
            if needs_coupon:
                suggestion.offer_code = suggestion.coupon_id.code or False
            else:
                suggestion.offer_code = program._journey_offer_code()

    @api.constrains("loyalty_program_id", "company_id")
    def _check_loyalty_program(self):
        for suggestion in self:
            suggestion.loyalty_program_id._journey_check_offer(suggestion.company_id, _("Offer"))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "loyalty_program_id" not in vals:
                vals["loyalty_program_id"] = self._get_default_offer(vals).id
        return super().create(vals_list)

    @api.model
    def _get_default_offer(self, vals):
        """Return the offer of a new suggestion: its rule's, else its company's."""
        rule = self.env["customer.journey.cross.sell.rule"].browse(vals.get("rule_id"))
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        return rule.sudo().loyalty_program_id or company.sudo().journey_suggestion_program_id

    def write(self, vals):
        if "loyalty_program_id" in vals and not self.env.su:
            if not (
                self.env.user.has_group("sales_team.group_sale_manager")
                or self.env.user.has_group("wholesale_customer_journey.group_journey_manager")
            ):
                raise AccessError(
                    _("Only Sales and Customer Journey managers may change the Offer of a suggestion.")
                )
            issued = self.filtered(lambda s: s.coupon_id and s.loyalty_program_id.id != vals["loyalty_program_id"])
            if issued:
                raise UserError(
                    _(
                        "%(name)s already carries coupon %(code)s: its Offer cannot change. "
                        "Dismiss it, or leave the Offer as it is.",
                        name=issued[0].display_name,
                        code=issued[0].coupon_id.code,
                    )
                )
        return super().write(vals)

    # ------------------------------------------------------------
    # GENERATION
    # ------------------------------------------------------------

    @api.model
    def _generate_suggestions(self, today=None):
        """Give the suggestions this run adds the offer of their rule, else of their company."""
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM customer_journey_suggestion")
        last_id = self.env.cr.fetchone()[0]
        counts = super()._generate_suggestions(today=today)
        self.env.cr.execute(
            """
            WITH offer AS (
                SELECT s.id, COALESCE(r.loyalty_program_id, c.journey_suggestion_program_id) AS program_id
                  FROM customer_journey_suggestion s
                  JOIN res_company c ON c.id = s.company_id
                  LEFT JOIN customer_journey_cross_sell_rule r ON r.id = s.rule_id
                 WHERE s.id > %(last_id)s
            )
            UPDATE customer_journey_suggestion s
               SET loyalty_program_id = offer.program_id
              FROM offer
             WHERE offer.id = s.id AND offer.program_id IS NOT NULL
            """,
            {"last_id": last_id},
        )
        counts["offers"] = self.env.cr.rowcount
        self.invalidate_model(["loyalty_program_id"])
        _logger.info("Suggestions: %s new suggestions carry an offer", counts["offers"])
        return counts

    # ------------------------------------------------------------
    # OFFERS
    # ------------------------------------------------------------

    def action_issue_coupon(self):
        """Issue the coupons of the selected suggestions now, from the form's Issue Coupon button."""
        self._check_open()
        self.check_access("write")
        if not self.filtered("offer_needs_coupon"):
            raise UserError(
                _("The selected suggestions need no coupon: their Offer is not a coupons program, or they have one.")
            )
        self._issue_coupons()

    def _issue_coupons(self):
        """Issue a coupon to the customer of each open suggestion in ``self`` whose offer is a coupons program.

        A customer gets one coupon per program for its open suggestions: a
        suggestion reuses the unused, valid coupon of another one. The rows
        are locked, so a second worker following up the same suggestions
        issues none. The program's own mail is not sent, because the
        suggestion mail, the activity or the quotation carries the code.

        :return: the coupons issued
        """
        Card = self.env["loyalty.card"].sudo().with_context(loyalty_no_mail=True)
        to_issue = self.filtered(
            lambda s: s.state in OPEN_STATES
            and not s.coupon_id
            and s.loyalty_program_id.program_type in COUPON_PROGRAM_TYPES
        )
        if not to_issue:
            return Card
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM customer_journey_suggestion WHERE id IN %s AND coupon_id IS NULL FOR UPDATE",
            [tuple(to_issue.ids)],
        )
        to_issue = self.browse(row[0] for row in self.env.cr.fetchall())
        today = fields.Date.context_today(self)
        issued = Card
        for suggestion in to_issue:
            program = suggestion.loyalty_program_id.sudo()
            if not program.active or (program.date_to and program.date_to < today):
                _logger.info(
                    "Suggestions: suggestion %s gets no coupon: program %s is archived or has ended",
                    suggestion.id, program.id,
                )
                continue
            points = max(program.reward_ids.mapped("required_points") or [1])
            coupon = suggestion._find_reusable_coupon(points, today)
            if not coupon:
                validity = timedelta(days=suggestion.company_id.journey_coupon_validity_days)
                expiration = max(suggestion.due_date, today) + validity
                if program.date_to:
                    expiration = min(expiration, program.date_to)
                coupon = Card.create(
                    {
                        "program_id": program.id,
                        "partner_id": suggestion.partner_id.id,
                        "points": points,
                        "expiration_date": expiration,
                    }
                )
                issued |= coupon
            suggestion.coupon_id = coupon
        _logger.info("Suggestions: %s coupons issued", len(issued))
        return issued

    def _find_reusable_coupon(self, points, today):
        """Return the coupon of another open suggestion of the same customer and program, if unused and valid."""
        self.ensure_one()
        others = self.search(
            [
                ("id", "!=", self.id),
                ("partner_id", "=", self.partner_id.id),
                ("loyalty_program_id", "=", self.loyalty_program_id.id),
                ("coupon_id", "!=", False),
                ("state", "in", OPEN_STATES),
            ]
        )
        return others.coupon_id.sudo().filtered(
            lambda c: c.points >= points and (not c.expiration_date or c.expiration_date >= today)
        )[:1]

    def _get_offer_text(self):
        """Return the offer for the customer, in the context's language: the rewards, the code and the deadline."""
        self.ensure_one()
        program = self.loyalty_program_id.sudo()
        if not program or (program.program_type in COUPON_PROGRAM_TYPES and not self.coupon_id):
            return ""
        rewards = ", ".join(program.with_context(lang=self.env.lang).reward_ids.mapped("description"))
        deadline = self.coupon_id.expiration_date or program.date_to
        code = self.offer_code
        if code and deadline:
            return _(
                "%(rewards)s with code %(code)s, until %(date)s",
                rewards=rewards, code=code, date=format_date(self.env, deadline),
            )
        if code:
            return _("%(rewards)s with code %(code)s", rewards=rewards, code=code)
        if deadline:
            return _(
                "%(rewards)s, applied to your order by itself, until %(date)s",
                rewards=rewards, date=format_date(self.env, deadline),
            )
        return _("%(rewards)s, applied to your order by itself", rewards=rewards)

    def _get_mail_offer(self):
        return self._get_offer_text() or super()._get_mail_offer()

    def _get_follow_up_note(self):
        note = super()._get_follow_up_note()
        offer = self._get_offer_text()
        if not offer:
            return note
        return Markup("%s<br/>%s") % (note, _("Offer: %(offer)s", offer=offer))

    def _apply_offers(self, order):
        """Apply the offers of the suggestions in ``self`` to the draft ``order``, as the Coupon Code and Promotions buttons do.

        An offer that does not apply (the order misses the program's
        conditions, the coupon is used) or that leaves a choice of rewards
        gets a note in the order's chatter, for the salesperson.
        """
        order = order.sudo()
        for program, suggestions in self.filtered("loyalty_program_id").grouped("loyalty_program_id").items():
            program = program.sudo()
            if program.program_type in COUPON_PROGRAM_TYPES and not suggestions.coupon_id:
                # No coupon was issued (the program ended): there is nothing to apply.
                continue
            # One code per program: an order takes a program once.
            code = suggestions.filtered("offer_code")[:1].offer_code
            if code:
                status = order._try_apply_code(code)
                if "error" in status:
                    self._note_offer(order, program, status["error"])
                    continue
            else:
                order._update_programs_and_rewards()
                status = order._get_claimable_rewards()
            rewards_by_coupon = {
                coupon: rewards for coupon, rewards in status.items() if coupon.program_id == program
            }
            if not rewards_by_coupon:
                self._note_offer(order, program, _("the order does not meet the program's conditions yet"))
                continue
            for coupon, rewards in rewards_by_coupon.items():
                if len(rewards) > 1 or rewards.multi_product:
                    self._note_offer(order, program, _("choose the reward with the Promotions button"))
                    continue
                result = order._apply_program_reward(rewards, coupon)
                if result.get("error"):
                    self._note_offer(order, program, result["error"])

    def _note_offer(self, order, program, reason):
        order.message_post(
            body=_("Offer %(program)s of the suggested products is not applied: %(reason)s.",
                   program=program.name, reason=reason),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------------
    # FOLLOW-UP
    # ------------------------------------------------------------

    def _send_mails(self):
        self._issue_coupons()
        return super()._send_mails()

    def _plan_activities(self, default_user=None):
        self._issue_coupons()
        return super()._plan_activities(default_user=default_user)

    def _create_quotations(self):
        self._issue_coupons()
        orders = super()._create_quotations()
        for order in orders:
            self.filtered(lambda s: s.order_id == order)._apply_offers(order)
        return orders

    def action_add_to_order(self):
        result = super().action_add_to_order()
        self._issue_coupons()
        self._apply_offers(self.order_id)
        return result
