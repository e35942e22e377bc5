"""Compliance matrix throughput against the log-in page's (issue 11: goal >= 0.1).

    DEBUG=1 .venv/bin/python bench/matrix_rate.py [--seconds S] [--branches N]

Builds one tree of N branches (default 300; a year of theme days and quarterly meetings each, as
bench/compliance.py does) in a throwaway SQLite file, then, in one process and interleaved in
one-second slices, counts requests served through the test client for:
  * login: GET /accounts/login/ (anonymous), the reference every page pays;
  * matrix: /orglife/matrix/?org=<root> as the tree's party office: its first page, 100
    organisations × 12 months, as the view now renders it (each table row prepared in the view,
    the template looping over rows only);
  * matrix-month, matrix-tag: the same page through the template as it was (a copy put first on
    the template path for these requests only): each row through template variables with a
    month's badges prepared (month_html), and before that a {% compliance_cell %} tag per badge.
Prints requests/s and each page's ratio to the log-in page's rate, with the page's HTML size.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench-matrix-rate.sqlite3")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")

# The matrix template's row as it was, for the "before" cases: the row printed through template
# variables with each month's badges prepared (month_html, 2026-12-02), and a tag per badge (before).
ROW = "  {{ row.html }}\n"
VARIANTS = {
    "matrix-month": ('  <tr data-org="{{ row.org.code }}"><td class="text-nowrap tree-indent-{{ row.org.depth|add:\'-3\' }}">'
                     '<a href="{% url \'orglife:calendar\' row.org.pk %}?year={{ year }}">{{ row.org.name }}</a></td>\n'
                     '    {% for m, badges in row.month_html %}<td class="small" data-month="{{ m }}">{{ badges }}</td>'
                     '{% endfor %}</tr>\n'),
    "matrix-tag": ('  <tr data-org="{{ row.org.code }}"><td class="text-nowrap tree-indent-{{ row.org.depth|add:\'-3\' }}">'
                   '<a href="{% url \'orglife:calendar\' row.org.pk %}?year={{ year }}">{{ row.org.name }}</a></td>\n'
                   '    {% for m, cells in row.months %}<td class="small" data-month="{{ m }}">{% for cell in cells %}'
                   '{% compliance_cell cell row.org year can_record %}{% endfor %}</td>{% endfor %}</tr>\n'),
}
TEMPLATE = ROOT / "dangjian" / "templates" / "orglife" / "matrix.html"

import compliance  # noqa: E402  (sets up Django with the same throwaway database)
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402


def rate(fn, seconds: float) -> int:
    """Requests served in `seconds`."""
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn()
        done += 1
    return done


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per case")
    parser.add_argument("--branches", type=int, default=300)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    root, user = compliance.build_tree("B", args.branches)

    source = TEMPLATE.read_text()
    assert ROW in source, "the matrix template changed: update ROW"
    engine = engines["django"].engine
    dirs, current = list(engine.dirs), engine.template_loaders
    loaders = {}  # variant -> (dirs, caching loaders built once, so its compiled templates are kept)
    for name, row in VARIANTS.items():
        variant_dir = Path(tempfile.mkdtemp())
        (variant_dir / "orglife").mkdir()
        (variant_dir / "orglife" / "matrix.html").write_text(source.replace(ROW, row))
        engine.dirs = [str(variant_dir), *dirs]
        loaders[name] = (engine.dirs, engine.get_template_loaders(engine.loaders))
    engine.dirs = dirs

    anonymous, office = Client(), Client()
    office.force_login(user)
    params = {"year": compliance.YEAR, "org": root.pk}

    def login():
        assert anonymous.get("/accounts/login/").status_code == 200

    def matrix():
        response = office.get("/orglife/matrix/", params)
        assert response.status_code == 200
        return response

    def variant(name):
        def page():
            engine.dirs, engine.template_loaders = loaders[name]
            try:
                return matrix()
            finally:
                engine.dirs, engine.template_loaders = dirs, current
        return page

    cases = {"login": login, "matrix": matrix, **{name: variant(name) for name in VARIANTS}}
    pages = {name: fn().content for name, fn in cases.items() if name != "login"}
    sizes = {name: len(content) for name, content in pages.items()}
    badges = {content.count(b"badge rounded-pill") for content in pages.values()}
    assert len(badges) == 1, "the variants must show the same badges"
    counts = dict.fromkeys(cases, 0)
    for fn in cases.values():
        rate(fn, 0.5)  # warm up
    slices = max(1, int(args.seconds))
    for _ in range(slices):  # interleaved: every case sees the same machine load
        for name, fn in cases.items():
            counts[name] += rate(fn, args.seconds / slices)
    per_s = {name: counts[name] / args.seconds for name in cases}
    print(f"{args.branches} branches; matrix page: 100 organisations x 12 months, "
          f"{badges.pop()} badges")
    print(f"{'page':12} {'req/s':>8} {'/login':>7} {'KB':>6}")
    for name in cases:
        size = f"{sizes[name] / 1024:6.0f}" if name in sizes else "      "
        print(f"{name:12} {per_s[name]:8.1f} {per_s[name] / per_s['login']:7.3f} {size}")


if __name__ == "__main__":
    main()
