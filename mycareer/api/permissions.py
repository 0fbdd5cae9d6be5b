"""Who may hold API tokens and who makes service-account tokens."""

from mycareer.accounts.permissions import (
    Action,
    add_rule,
    can_administer,
    is_staff_member,
    is_student,
)

# Staff use the API for their records and events; students to book with their own token.
add_rule(
    "api.use_tokens",
    is_staff_member | is_student,
    otherwise="API tokens are for university staff and students.",
)
# A system of a unit (the planning office's dashboards, a faculty's placement system).
add_rule("api.create_service_token", can_administer, needs=Action.ADMINISTER)
