"""`{% can %}`: whether the reader may follow a link, decided by the access policy, so templates never
guess. A link is shown only where it leads somewhere; a name the reader may not open is plain text.

    {% load access %}
    {% can "view_members" org as may_roster %}{% if may_roster %}<a …>党员名单</a>{% endif %}
    {% can "view_members" a.member as may_open %}…

With no record, `perm` anywhere (a menu entry, a page that is scoped inside). With a record: on that
`Organization`, that `Member` (their organisation's grants, or the reader's own record) or a record
type registered with the policy (its organisation). No query: decided from the reader's grants,
loaded once per request; a record's organisation must be loaded with it (`select_related`).

This lives in `access`, not in `core`'s template library: core imports no area (tests/core/test_layers.py).
"""

from django import template

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.organizations.models import Member, Organization

register = template.Library()
_NO_RECORD = object()


@register.simple_tag(takes_context=True)
def can(context, perm: str, record=_NO_RECORD) -> bool:
    perm = Perm(perm)  # a misspelt permission fails loudly, never silently hides or shows a link
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return False
    if record is _NO_RECORD:
        return policy.has_perm(user, perm)
    if record is None or record == "":  # a missing record (or a variable that does not resolve)
        return False
    if isinstance(record, Organization):
        return policy.can_on_organization(user, record, perm)
    if isinstance(record, Member):
        return policy.can_on_member(user, record, perm)
    return policy.can_on_record(user, record, perm)
