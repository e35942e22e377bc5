from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from dangjian.core.forms import parse_id
from dangjian.core.todos import GROUPINGS, PAGE_SIZE, filter_todos, summary_for, todos_for


def _grouping(request) -> str:
    by = request.GET.get("by")
    return by if by in GROUPINGS else "kind"  # anything else: the default grouping, never an error


@login_required
def home(request):
    """The user's reminders summarised (a bounded page whatever the scope): the most urgent few,
    and counts by kind or by organisation, each linking to its reminders on the to-do page."""
    today = timezone.localdate()
    by = _grouping(request)
    summary = summary_for(request.user, today, by=by)
    return render(request, "core/home.html", {
        "summary": summary, "by": by, "groupings": GROUPINGS, "today": today,
    })


@login_required
def todo_list(request):
    """Every reminder of the user, most urgent first, PAGE_SIZE a page; optionally of one kind
    (?kind=) or about one organisation (?org=). The reminders come from the same providers as
    the home page's, so they are always within the user's scope."""
    today = timezone.localdate()
    kind = request.GET.get("kind", "")[:100]
    org_raw = request.GET.get("org", "")
    org_id = parse_id(org_raw)
    if org_raw and org_id is None:
        messages.error(request, "党组织参数无效，已显示全部待办。")
    todos = todos_for(request.user, today)
    chosen = filter_todos(todos, kind=kind, organization_id=org_id)
    if (kind or org_id is not None) and not chosen:
        messages.info(request, "没有符合条件的待办事项。")
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = parse_id(request.GET.get("page")) or 1
    page = min(max(page, 1), pages)  # out of range: the nearest page, never an error
    query = request.GET.copy()
    query.pop("page", None)
    prefix = f"?{query.urlencode()}&" if query else "?"
    return render(request, "core/todos.html", {
        "todos": chosen[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], "total": len(chosen), "all_total": len(todos),
        "page": page, "pages": pages, "today": today, "filtered": bool(kind or org_id is not None),
        "heading": _heading(chosen, kind=kind, org_id=org_id),
        "previous_url": f"{prefix}page={page - 1}" if page > 1 else "",
        "next_url": f"{prefix}page={page + 1}" if page < pages else "",
    })


def _heading(todos, *, kind: str, org_id: int | None) -> str:
    """What the filters chose, in words (from the reminders themselves: no query)."""
    words = []
    if org_id is not None and todos:
        words.append(todos[0].organization)
    if kind and todos:
        words.append(todos[0].kind_label or todos[0].text or todos[0].title)
    return " · ".join(words)
