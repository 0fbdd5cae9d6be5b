"""Who may hold API tokens and who makes service-account tokens."""

from mycareer.accounts.permissions import (
    Action,
    add_rule,
    can_administer,
    is_staff_member,
    is_student,
)
from mycareer.vacancies.permissions import is_employer_member

# Staff use the API for their records and events; students to book with their own token;
# employers to read their own organisation, its vacancies and the events open to them.
add_rule(
    "api.use_tokens",
    is_staff_member | is_student | is_employer_member,
    otherwise="API tokens are for university staff, students, and employers once the "
    "university has approved their organisation or their place in it.",
)
# A system of a unit (the planning office's dashboards, a faculty's placement system).
add_rule("api.create_service_token", can_administer, needs=Action.ADMINISTER)
