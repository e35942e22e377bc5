"""Wording the minutes and the ledger share, so that a record reads the same in both."""

from decimal import Decimal

from dangjian.orglife.models import AgendaItem, Attendance, Guest


def absence_text(name: str, reason: str, note: str) -> str:
    """王五（公差） or 王五（病假，住院）."""
    label = Attendance.AbsenceReason(reason).label if reason in Attendance.AbsenceReason.values else "未说明原因"
    note = note.strip()
    return f"{name}（{label}，{note}）" if note else f"{name}（{label}）"


def guest_text(name: str, role: str, title: str = "") -> str:
    """李明（市委党校教授）, or 王局长（联系点领导）: what was typed beside the name, else the role;
    both when the role says more than 列席 (赵六（副局长，联系点领导）)."""
    label = Guest.Role(role).label if role in Guest.Role.values else Guest.Role.OTHER.label
    title = title.strip()
    if not title:
        return f"{name}（{label}）"
    return f"{name}（{title}）" if role == Guest.Role.OTHER else f"{name}（{title}，{label}）"


def amount_text(amount: Decimal) -> str:
    """50.00 -> "50", 12.50 -> "12.5": 万元 figures as people write them."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def vote_text(item: AgendaItem) -> str:
    return f"赞成{item.votes_for}票、反对{item.votes_against}票、弃权{item.votes_abstain}票"
