"""Excel in and out for the organisations area: the bureau workbook (党组织, 单位, 花名册, 任职) and
the party roster (花名册).

- `importer`: the one import service, `import_workbook(file, by=, user=)` (and `import_roster`, its
  花名册-only form), all or nothing, every row checked against the importing user's scope; the page
  previews first (`import_preview`: a rehearsal rolled back) and imports on `import_confirm`.
- `aliases.toml`: other systems' sheet names, headers and values (the national system's export).
- `scope`: what a user's import may touch, asked of `access.policy`.
- `exporter`: `export_roster`, the 花名册 in the layout the import reads.
- `layout`: sheet names, headers and the labels people type.

The generic sheet machinery (reading by header, cell parsers, `RowError`, the safe writer) is
`dangjian.core.excel`. The user-facing description of the format is docs/import-workbook.md.
"""

from dangjian.core.excel import RowError
from dangjian.organizations.workbook.exporter import export_roster
from dangjian.organizations.workbook.importer import (
    ImportResult,
    import_cancel,
    import_confirm,
    import_preview,
    import_roster,
    import_workbook,
)

__all__ = ["ImportResult", "RowError", "export_roster", "import_cancel", "import_confirm", "import_preview",
           "import_roster", "import_workbook"]
