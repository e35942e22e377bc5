"""Reading what a page shows, for tests that used to look at its context: a kept page (core.datacache)
hands the template HTML prepared once, not the rows it was made from."""

import re

from dangjian.organizations.models import Member

_MEMBER_ROW = re.compile(r'<tr>\s*<td><a class="text-nowrap member-name" href="/organizations/members/(\d+)/">.*?</tr>', re.S)


def member_rows(response) -> dict[int, str]:
    """The member list's rows, in page order: member pk -> the row's HTML."""
    return {int(m.group(1)): m.group(0) for m in _MEMBER_ROW.finditer(response.content.decode())}


def listed_members(response) -> list[Member]:
    """The members the list shows, in page order."""
    order = list(member_rows(response))
    found = Member.objects.in_bulk(order)
    return [found[pk] for pk in order]
