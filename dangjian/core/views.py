from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from dangjian.core.todos import GROUPINGS, group_todos, todos_for


@login_required
def home(request):
    today = timezone.localdate()
    by = request.GET.get("by")
    by = by if by in GROUPINGS else "kind"  # anything else: the default grouping, never an error
    todos = todos_for(request.user, today)
    return render(request, "core/home.html", {
        "todos": todos, "groups": group_todos(todos, by=by), "by": by, "groupings": GROUPINGS, "today": today,
    })
