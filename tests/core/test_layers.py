"""The layering of DESIGN.md, checked on the real import graph (scripts/import-graph): no area
imports a later one, core imports no area, and no modules import each other round a loop."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import-graph"


def _import_graph():
    from importlib.machinery import SourceFileLoader

    loader = SourceFileLoader("import_graph", str(SCRIPT))
    spec = importlib.util.spec_from_loader("import_graph", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_imports_point_down_and_never_round_a_loop():
    graph = _import_graph()
    edges = graph.graph()
    assert len(edges) > 50  # the whole package was read
    assert graph.violations(edges) == []


def test_core_imports_no_area():
    graph = _import_graph()
    assert {t for s, ts in graph.graph().items() if graph.area(s) == "core" for t in ts
            if graph.area(t) != "core"} == set()


def test_the_checker_sees_a_lazy_import_of_a_later_area():
    graph = _import_graph()
    edges = {"dangjian.core.todos": {"dangjian.orglife.models"}, "dangjian.orglife.models": set(),
             "dangjian.audit.a": {"dangjian.audit.b"}, "dangjian.audit.b": {"dangjian.audit.a"}}
    found = graph.violations(edges)
    assert any("core imports the later area orglife" in v for v in found)
    assert any(v.startswith("cycle:") for v in found)
