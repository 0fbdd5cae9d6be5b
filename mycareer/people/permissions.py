"""Who may feed people in from the student record system: administrators only.

The file holds every student's and member of staff's details, and importing it can make
people inactive, so it is an administrator's act, like granting access.
"""

from mycareer.accounts.permissions import Action, add_rule, can_administer

can_import = can_administer

add_rule("people.import_people", can_import, needs=Action.ADMINISTER)
