"""Workbook import throughput: N clean roster rows into a fresh SQLite file, end to end
(read, check every row, write in one transaction with audit entries).

    DEBUG=1 .venv/bin/python bench/import_workbook.py [N ...]      (default: 200 2000)

Prints rows/s for each N in one run, so the ratio between sizes is what to compare.
"""

import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-import.sqlite3")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from dangjian.audit.services import Actor  # noqa: E402
from dangjian.core.identity import id_check_char  # noqa: E402
from dangjian.organizations.workbook import import_workbook  # noqa: E402


def workbook(n: int, offset: int) -> io.BytesIO:
    wb = Workbook()
    orgs = wb.active
    orgs.title = "党组织"
    orgs.append(["编码", "名称", "类型", "上级编码", "成立日期"])
    orgs.append([f"R{offset}", f"机关党委{offset}", "机关党委", "", "2018-01-01"])
    orgs.append([f"B{offset}", f"第{offset}党支部", "党支部", f"R{offset}", "2018-01-01"])
    roster = wb.create_sheet("花名册")
    roster.append(["姓名", "性别", "身份证号", "入党日期", "转正日期", "党员类别", "所在党组织"])
    for i in range(offset, offset + n):
        body = f"{110100 + i // 1000:06d}19800101{i % 1000:03d}"
        number = body + id_check_char(body)
        roster.append([f"党员{i}", "男" if int(number[16]) % 2 else "女", number, "2005-7-1", "2006-7-1", "正式党员",
                       f"B{offset}"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def main(sizes: list[int]) -> None:
    call_command("migrate", verbosity=0)
    offset = 0
    print(f"{'rows':>8} {'seconds':>8} {'rows/s':>8}")
    for n in sizes:
        data = workbook(n, offset)
        started = time.perf_counter()
        result = import_workbook(data, by=Actor.system("bench"), user=None)
        elapsed = time.perf_counter() - started
        assert result.ok, result.errors[:3]
        print(f"{n:>8} {elapsed:>8.2f} {n / elapsed:>8.0f}")
        offset += n


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [200, 2000])
