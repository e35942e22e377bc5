from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core import rules
from dangjian.core.cursors import after_id, page_after, page_links
from dangjian.core.forms import parse_id
from dangjian.core.metrics import Period
from dangjian.orglife.models import AgendaItem
from dangjian.orglife.rules import BODY_LABELS
from dangjian.reports import selectors

DRILL_PAGE = 50  # records per page of a figure's drill-down


def _scope_and_year(request):
    policy.require_perm(request.user, Perm.VIEW_METRICS)
    orgs = policy.organizations(request.user, Perm.VIEW_METRICS).order_by("path")
    org_id = parse_id(request.GET.get("org"))
    scope = orgs.filter(pk=org_id).first() if org_id is not None else orgs.first()
    if scope is None:
        raise Http404
    year = parse_id(request.GET.get("year"))
    this_year = timezone.localdate().year
    year = year if year is not None and 2000 <= year <= this_year else this_year
    return orgs, scope, year


@login_required
def metric_list(request):
    """Every figure the user may read, for one organisation (its subtree, as far as the user's grants
    reach) and one year."""
    orgs, scope, year = _scope_and_year(request)
    period = Period.year(year)
    readable = selectors.readable_metrics(request.user)
    rows = list(zip(readable, selectors.metric_values(request.user, readable, scope=scope, period=period),
                    strict=True))
    return render(request, "reports/metrics.html", {
        "rows": rows, "scope": scope, "year": year, "organizations": orgs.filter(dissolved_on__isnull=True),
        "years": range(timezone.localdate().year, 2017, -1),
    })


@login_required
def metric_detail(request, key):
    """The records behind one figure: the same organisations the figure counted, DRILL_PAGE at a
    time in the figure's own order (`core.cursors.page_after`: per-row counts for the page only)."""
    orgs, scope, year = _scope_and_year(request)
    try:
        metric = selectors.readable_metric(request.user, key)
    except LookupError:
        raise Http404 from None
    result = selectors.metric_value(request.user, metric, scope=scope, period=Period.year(year))
    after = after_id(request.GET.get("after"))
    records, next_position = ([], None) if result.records is None else page_after(
        result.records, after=after, size=DRILL_PAGE)
    return render(request, "reports/metric_detail.html", {
        "metric": metric, "result": result, "records": records, "scope": scope, "year": year,
        **page_links(request.GET, next_position, at_start=after is None),
    })


def _value_text(value) -> str:
    """A rule value as people read it: 每季度至少1次, 1/2, 50, 否, the matter kinds listed."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict) and "period" in value:
        period = {"month": "月", "quarter": "季度", "year": "年"}[value["period"]]
        return f"每{period}至少{value['min']}次"
    if isinstance(value, list):
        labels = dict(AgendaItem.Category.choices) | BODY_LABELS
        return "、".join(labels.get(v, v) for v in value)
    return str(value)


@login_required
def rule_list(request):
    """Every rule in effect today, for every signed-in user (rule data, nothing personal): its value,
    layer (国家规定 / 本地做法 / 本单位部署), source, article as read, quote and whose practice."""
    today = timezone.localdate()
    rows = [{"rule": r, "value": _value_text(r.value)} for r in rules.in_effect(today)]
    layers = [(label, sum(1 for row in rows if row["rule"].layer == key)) for key, label in rules.LAYER_LABELS.items()]
    return render(request, "reports/rules.html", {"rows": rows, "today": today, "layers": layers,
                                                  "unverified": rules.UNVERIFIED})
