"""An authentication backend that only ends the search for MyCareer's own permissions."""

import rules
from django.core.exceptions import PermissionDenied

OWN_PREFIX = "mycareer."


class OwnPermissionsEndHere:
    """Once rules has refused a "mycareer.*" permission, the answer is no.

    Those permissions (view_staff_pages, send_bulk_email, administer…) exist only as
    rules predicates; no Django model permission carries that app label, so the model
    backends after this one could never grant them. Asking them anyway loaded the
    person's Django permissions, two queries on every page that showed a link only
    some people may follow (docs/benchmarks.md). The same holds for every permission
    with a rule of its own ("organisations.change_organisation"…): the rule is the
    policy (it already grants what a superuser may do), and a model permission given in
    the admin must not get round it. Other permissions pass through.

    Not a BaseBackend: it authenticates no one and must not be picked to load users
    (Django's test client logs in with the first backend that has `get_user`).
    """

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if perm.startswith(OWN_PREFIX) or rules.perm_exists(perm):
            raise PermissionDenied
        return False
