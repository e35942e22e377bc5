"""Whose import this is, and what it may touch: every row of a workbook is checked against the
importing user's grants, through `access.policy` (which honours grants without descendants).

`user=None` is the operator's `import_workbook` command on the server, and is unscoped. A user's
import may only write where the pages would let that user write:
- a new organisation under a parent on which the user holds MANAGE_ORGANIZATIONS (the page's
  parent picker); never a new top-level organisation (the page requires a parent);
- a new unit under a unit in `policy.units(user, MANAGE_UNITS)`, served by an organisation with
  MANAGE_UNITS; a new top-level unit only for a user granted a top-level organisation (the page's rule);
- a member into an organisation with MANAGE_MEMBERS, with a unit the user can see;
- an appointment in an organisation with MANAGE_ORGANIZATIONS (the 任职 page), of a member the
  user can see.
A reference to something out of scope reads exactly as a reference to nothing (`OUT_OF_SCOPE`), so
an import never reveals whether an organisation, unit or member exists outside the user's scope.

Organisations defined earlier in the same file are unsaved stand-ins: `stand_in` gives one a path
under its parent, so `policy.can_on_organization` answers for it as it will once saved (a grant with
descendants above it covers it; a grant without descendants on its parent does not).
"""

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.organizations.models import Member, Organization, Unit

OUT_OF_SCOPE = "不存在或不在您的管理范围内"
# A path step no saved node has (treebeard's alphabet is 0-9A-Z): marks a stand-in's place in the tree.
_NEW_STEP = "~~~~"


class ImportScope:
    def __init__(self, user):
        self.user = user
        self.unscoped = user is None
        self._unit_pks: dict[str, set[int]] = {}

    def on_organization(self, org: Organization, perm: Perm) -> bool:
        """Whether `perm` holds on `org`, saved or a stand-in from this file. No query."""
        return self.unscoped or policy.can_on_organization(self.user, org, perm)

    def on_unit(self, unit: Unit, perm: Perm) -> bool:
        """Whether `perm` holds on a saved unit; a unit defined by an accepted row of this file
        sits under a unit in scope and counts as in scope. One query per permission per import."""
        if self.unscoped or unit.pk is None:
            return True
        if perm not in self._unit_pks:
            self._unit_pks[perm] = set(policy.units(self.user, perm).values_list("pk", flat=True))
        return unit.pk in self._unit_pks[perm]

    def may_found_top_level_unit(self) -> bool:
        return self.unscoped or policy.organizations(self.user, Perm.MANAGE_UNITS).filter(depth=1).exists()

    def members(self):
        """Members a 任职 row may name: those the 任职 page offers (the user's visible members)."""
        return Member.objects.all() if self.unscoped else policy.members(self.user)

    @staticmethod
    def stand_in(parent: Organization | None, **fields) -> Organization:
        """An unsaved organisation placed under `parent` (saved or a stand-in) for scope checks."""
        return Organization(path=(parent.path if parent else "") + _NEW_STEP, **fields)
