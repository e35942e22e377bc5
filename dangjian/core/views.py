from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from dangjian.core.todos import todos_for


@login_required
def home(request):
    today = timezone.localdate()
    return render(request, "core/home.html", {"todos": todos_for(request.user, today), "today": today})
