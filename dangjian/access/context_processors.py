from dangjian.access import policy
from dangjian.access.roles import Perm


def access(request):
    """Which menu entries to show. Lazily evaluated: one assignments query per request at most."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can": {perm.value: policy.has_perm(user, perm) for perm in Perm}}
