"""Who may see how the site is running: administrators."""

from mycareer.accounts.permissions import Action, add_rule, can_administer

add_rule("operations.view_status", can_administer, needs=Action.ADMINISTER)
