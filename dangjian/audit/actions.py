"""Chinese names of the audit trail's actions, for the pages that show the trail. Each area
registers the names of the actions it records (in its AppConfig.ready), so the trail, which sits
below every area, never imports one. An action with no name is shown as its code, and a test
checks that every action the code records has one."""

_labels: dict[str, str] = {}


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


# The trail's own actions and the log-in events every deployment has.
register_labels({
    "audit.search": "查询审计日志",
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.logout": "退出",
})
