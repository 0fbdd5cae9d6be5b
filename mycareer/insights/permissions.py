"""Who may see opportunities and act on them: staff see them, operators act."""

from mycareer.accounts.permissions import Action, add_rule, can_edit_records, can_view_staff_pages

add_rule("insights.view_opportunities", can_view_staff_pages, needs=Action.VIEW)
add_rule("insights.act_on_opportunity", can_edit_records, needs=Action.EDIT)
add_rule("insights.view_trends", can_view_staff_pages, needs=Action.VIEW)
