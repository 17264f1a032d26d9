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
    can_edit_offer = fields.Boolean(compute="_compute_can_edit_offer")

    @api.depends("coupon_id")
    def _compute_coupon_used(self):
        # sale_loyalty's use_count counts draft quotations too: only a confirmed order uses a coupon.
        used = {
            coupon.id
            for [coupon] in self.env["sale.order.line"]._read_group(
                [("coupon_id", "in", self.coupon_id.ids), ("order_id.state", "=", "sale")], ["coupon_id"]
            )
        }
        for suggestion in self:
            suggestion.coupon_used = suggestion.coupon_id.id in used

    @api.depends_context("uid")
    def _compute_can_edit_offer(self):
        can_edit = self._can_edit_offer()
        for suggestion in self:
            suggestion.can_edit_offer = can_edit

    def _can_edit_offer(self):
        return self.env.su or self.env.user.has_group("sales_team.group_sale_manager") or self.env.user.has_group(
            "wholesale_customer_journey.group_journey_manager"
        )

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
        # Sudo: Customer Journey users without Sales rights cannot read loyalty programs.
        for suggestion in self.sudo():
            suggestion.loyalty_program_id._journey_check_offer(suggestion.company_id, _("Offer"))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            default = self._get_default_offer(vals)
            # The form sends False for an empty field: that is no choice of offer.
            if not vals.get("loyalty_program_id"):
                vals["loyalty_program_id"] = default.id
            elif vals["loyalty_program_id"] != default.id and not self._can_edit_offer():
                raise AccessError(_("Only Sales and Customer Journey managers may choose the Offer of a suggestion."))
            if vals.get("coupon_id") and not self.env.su:
                raise AccessError(_("A suggestion's Coupon is issued by the Issue Coupon button, not set by hand."))
        return super().create(vals_list)

    @api.model
    def _get_default_offer(self, vals):
        """Return the offer of a new suggestion: its rule's, else its company's."""
        rule = self.env["customer.journey.cross.sell.rule"].browse(vals.get("rule_id"))
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        program = rule.sudo().loyalty_program_id or company.sudo().journey_suggestion_program_id
        return program.filtered("active")

    def write(self, vals):
        if "coupon_id" in vals and not self.env.su:
            raise AccessError(_("A suggestion's Coupon is issued by the Issue Coupon button, not set by hand."))
        if "loyalty_program_id" in vals and not self.env.su:
            if not self._can_edit_offer():
                raise AccessError(
                    _("Only Sales and Customer Journey managers may change the Offer of a suggestion.")
                )
            issued = self.filtered(lambda s: s.coupon_id and s.loyalty_program_id.id != vals["loyalty_program_id"])
            if issued:
                raise UserError(
                    _(
                        "%(name)s already carries coupon %(code)s, so its Offer cannot change.",
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
              JOIN loyalty_program p ON p.id = offer.program_id AND p.active
             WHERE offer.id = s.id
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
        to_issue = self.filtered("offer_needs_coupon")
        if not to_issue:
            raise UserError(
                _("The selected suggestions need no coupon: their Offer is not a coupons program, or they have one.")
            )
        to_issue._issue_coupons()
        missing = to_issue.filtered(lambda s: not s.coupon_id)
        if missing:
            raise UserError(
                _(
                    "No coupon for %(names)s: program %(program)s is archived, not started, ended, used up, not for "
                    "sales, of another company or not for the customer's pricelist. Fix the program in Discount & "
                    "Loyalty, or choose another Offer.",
                    names=", ".join(missing.mapped("display_name")),
                    program=missing[0].sudo().loyalty_program_id.name,
                )
            )

    def _issue_coupons(self):
        """Issue a coupon to the customer of each open suggestion in ``self`` whose offer is a coupons program.

        A customer gets one coupon per program for its open suggestions: a
        suggestion reuses the unused, valid coupon of another one. The open
        suggestions of the same customers and programs are locked first, so
        that a second worker waits, then fails to serialize and issues none.
        The program's own mail is not sent, because the suggestion mail, the
        activity or the quotation carries the code.

        :return: the coupons issued
        """
        Card = self.env["loyalty.card"].sudo().with_context(loyalty_no_mail=True)
        to_issue = self.sudo().filtered(
            lambda s: s.state in OPEN_STATES
            and not s.coupon_id
            and s.loyalty_program_id.program_type in COUPON_PROGRAM_TYPES
        )
        if not to_issue:
            return Card
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT id, coupon_id FROM customer_journey_suggestion
             WHERE (partner_id, loyalty_program_id) IN %s AND state IN %s
             ORDER BY id
               FOR UPDATE
            """,
            [tuple({(s.partner_id.id, s.loyalty_program_id.id) for s in to_issue}), OPEN_STATES],
        )
        without_coupon = {row[0] for row in self.env.cr.fetchall() if not row[1]}
        today = fields.Date.context_today(self)
        issued = Card
        for suggestion in to_issue.filtered(lambda s: s.id in without_coupon):
            program = suggestion.loyalty_program_id
            if not program._journey_is_available(suggestion.partner_id, suggestion.company_id, today):
                _logger.info(
                    "Suggestions: suggestion %s gets no coupon: program %s is archived, not started, ended, "
                    "used up, not for sales, of another company or not for the customer's pricelist",
                    suggestion.id, program.id,
                )
                continue
            # Enough for one reward, the cheapest: more points would let the coupon serve several orders.
            points = min(program.reward_ids.mapped("required_points") or [1])
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
        """Return the coupon of another open suggestion of the same customer and program, if unused and valid.

        A coupon on any order, a draft quotation included, is in use: two
        orders cannot both spend it.
        """
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
            lambda c: c.points >= points
            and not c.use_count
            and (not c.expiration_date or c.expiration_date >= today)
        )[:1]

    def _get_offer_text(self):
        """Return the offer for the customer, in the context's language: the rewards, the code and the deadline."""
        self.ensure_one()
        program = self.loyalty_program_id.sudo()
        if program.program_type in COUPON_PROGRAM_TYPES and not self.coupon_id:
            return ""
        if not program._journey_is_available(self.partner_id, self.company_id, fields.Date.context_today(self)):
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

        An offer already on the order is left as it is. An offer that does
        not apply (the order misses the program's conditions, the reward
        discounts products the order lacks) or that leaves a choice of
        rewards gets a note in the order's chatter, for the salesperson.
        """
        order = order.sudo()
        today = fields.Date.context_today(self)
        for program, suggestions in self.sudo().filtered("loyalty_program_id").grouped("loyalty_program_id").items():
            if program.program_type in COUPON_PROGRAM_TYPES and not suggestions.coupon_id:
                # No coupon was issued (the program is not available): there is nothing to apply.
                continue
            if not program._journey_is_available(order.partner_id, order.company_id, today, order.pricelist_id):
                continue
            if program in order._get_applied_programs() or program in order.order_line.reward_id.program_id:
                continue
            try:
                with self.env.cr.savepoint():
                    reason = self._apply_offer(order, program, suggestions.filtered("offer_code")[:1].offer_code)
            except UserError as error:
                # sale_loyalty raises for a reward it cannot compute, such as a discount on products
                # the order does not contain.
                reason = str(error)
            if reason:
                self._note_offer(order, program, reason)

    def _apply_offer(self, order, program, code):
        """Apply the ``program`` to ``order``, with ``code`` unless it applies by itself.

        :return: why the offer is not applied, or False when it is
        """
        if code:
            status = order._try_apply_code(code)
            if "error" in status:
                return status["error"]
        else:
            order._update_programs_and_rewards()
            status = order._get_claimable_rewards()
        rewards_by_coupon = {coupon: rewards for coupon, rewards in status.items() if coupon.program_id == program}
        if not rewards_by_coupon:
            return _("the order does not meet the program's conditions yet")
        for coupon, rewards in rewards_by_coupon.items():
            if len(rewards) > 1 or rewards.multi_product:
                return _("choose the reward with the Promotions button")
            result = order._apply_program_reward(rewards, coupon)
            if result.get("error"):
                return result["error"]
        return False

    def _note_offer(self, order, program, reason):
        order.message_post(
            body=_("Offer %(program)s of the suggested products is not applied: %(reason)s",
                   program=program.name, reason=reason.rstrip(".")),
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
        # A suggestion without anyone to follow it up gets no activity, so no coupon either.
        self.filtered(lambda s: s.user_id or default_user)._issue_coupons()
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
