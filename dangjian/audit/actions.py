"""Chinese names of the audit trail's actions, for the pages that show the trail. Each area
registers the names of the actions it records (in its AppConfig.ready), so the trail, which sits
below every area, never imports one. An action with no name is shown as its code, and a test
checks that every action the code records has one.

Fields are named by their models' verbose names (`audit.display`); a key an area writes into an
entry that is no field of the model (a count, a fact such as the posts ended) is named here too,
with `register_field_labels`."""

_labels: dict[str, str] = {}
_field_labels: dict[tuple[str, str], str] = {}
_unversioned: set[str] = set()


def register_labels(labels: dict[str, str]) -> None:
    """Add an area's action names; a code named twice differently is a mistake and raises."""
    for code, label in labels.items():
        if _labels.get(code, label) != label:
            raise ValueError(f"audit action {code!r} is named twice: {_labels[code]!r} and {label!r}")
        _labels[code] = label


def action_label(code: str) -> str:
    return _labels.get(code, code)


def labels() -> dict[str, str]:
    return dict(_labels)


def register_field_labels(object_type: str, labels: dict[str, str]) -> None:
    """Name the keys an area writes into entries about `object_type` ("orglife.meeting") that are
    not fields of its model, or whose verbose name would mislead (a tree's `path`)."""
    for key, label in labels.items():
        if _field_labels.get((object_type, key), label) != label:
            raise ValueError(f"audit key {object_type}.{key} is named twice")
        _field_labels[(object_type, key)] = label


def field_label(object_type: str, key: str) -> str | None:
    return _field_labels.get((object_type, key))


_children: dict[tuple[str, str], tuple[str, str]] = {}


def register_children(object_type: str, key: str, *, model: str, keyed_by: str) -> None:
    """Declare that entries about `object_type` keep the changed parts of a record under `key` as
    {id: {field: value} or None (added/removed)}: `keyed_by` names the model whose ids key the parts
    ("organizations.member" for attendance by member) and `model` the one whose fields they hold
    ("orglife.attendance"), so the trail shows names and field names instead of ids and codes."""
    _children[(object_type, key)] = (model, keyed_by)


def children(object_type: str, key: str) -> tuple[str, str] | None:
    return _children.get((object_type, key))


# The trail's own actions and the log-in events every deployment has.
register_labels({
    "audit.search": "查询审计日志",
    "backup.create": "开始数据库备份",
    "backup.restore": "从备份恢复数据库",
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.logout": "退出",
})


def register_unversioned(codes: set[str]) -> None:
    """Actions recorded about a record that do not write its row, so do not count its version
    (optimistic locking): a read (an export, a reveal), or a record beside it (a 留党察看 period,
    an attachment). The conflict message (`audit.services.stale`) skips them."""
    _unversioned.update(codes)


def unversioned() -> frozenset[str]:
    return frozenset(_unversioned)
