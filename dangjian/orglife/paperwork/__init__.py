"""The paperwork organisational life produces, made from the records (never typed twice):

- `meeting_minutes_docx` (minutes.py): one meeting's 会议记录 as .docx on a GB/T 9704 page, ready
  to print, sign and file;
- `ledger_xlsx` (ledger.py): an organisation's yearly 组织生活台账 as .xlsx, read through the
  access policy: every meeting of it and of the organisations under it that the user may see, the
  三会一课 completion table against the rule data, and attendance per member.

Both read a fixed number of queries whatever the number of attendees, meetings or members, and
neither writes anything: the views that serve them write the audit entry.
"""

from dangjian.orglife.paperwork.ledger import ledger_xlsx
from dangjian.orglife.paperwork.minutes import meeting_minutes_docx, minutes_title

__all__ = ["ledger_xlsx", "meeting_minutes_docx", "minutes_title"]
