"""Reads for the figures pages: every figure is computed over the organisations the reader may see
for *that figure's records* (the metric's permission) and may read figures on (VIEW_METRICS), inside
the chosen scope's subtree. The drill-down uses the same organisations, so it lists exactly the
records the figure counted and nothing the reader could not open elsewhere."""

import dataclasses
import hashlib

from django.db.models import QuerySet

from dangjian.access import policy
from dangjian.access.roles import Perm
from dangjian.core import datacache
from dangjian.core import metrics as registry
from dangjian.core.metrics import Metric, MetricValue, Period
from dangjian.organizations.models import Organization


def readable_metrics(user) -> list[Metric]:
    """The figures whose records the user may read somewhere (the others are not offered)."""
    return [m for m in registry.metrics() if policy.has_perm(user, m.permission)]


def counted_organizations(user, metric: Metric, scope: Organization) -> QuerySet[Organization]:
    """The organisations in `scope`'s subtree on which the user holds both VIEW_METRICS and the
    metric's permission (grants without descendants honoured by the policy)."""
    return policy.organizations_under(user, Perm.VIEW_METRICS, scope).filter(
        pk__in=policy.organization_ids(user, metric.permission))


def metric_value(user, metric: Metric, *, scope: Organization, period: Period) -> MetricValue:
    return metric.compute(organizations=counted_organizations(user, metric, scope), period=period)


def metric_values(user, metrics: list[Metric], *, scope: Organization, period: Period) -> list[MetricValue]:
    """The figures of the metrics page (without their records), kept until the next write
    (core.datacache): over a city's 3,325 organisations the 30-odd figures take most of a second."""
    keys = hashlib.blake2b(",".join(m.key for m in metrics).encode(), digest_size=8).hexdigest()

    def compute():
        return [dataclasses.replace(metric_value(user, m, scope=scope, period=period), records=None)
                for m in metrics]

    return datacache.remember(f"metrics:{user.pk}:{scope.pk}:{period.start}:{period.end}:{keys}", compute)


def readable_metric(user, key: str) -> Metric:
    """One figure by key, or LookupError if it does not exist or its records are not the user's to read."""
    try:
        metric = registry.get(key)
    except KeyError:
        raise LookupError(key) from None
    if not policy.has_perm(user, metric.permission):
        raise LookupError(key)
    return metric
