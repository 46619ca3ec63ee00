"""The import rules of paxlab's tree (STYLE.md section 1), read from the source with ast.

Every module under paxlab/ is parsed, imports inside functions included (a lazy import
is still a dependency), into a graph: module -> the modules it imports. Each rule is a
function over such a graph, so it is also tested against a small planted graph that
breaks it: the rule can fail, and says where.

- `core` imports nothing of paxlab outside `core`;
- `check` imports only `results` and the standard library (an outside tool can run it);
- the drivers `lab`, `sim` and `cluster` never import each other;
- only `cli` and `bench` import `cluster` (the TCP driver is a leaf under its commands);
- `report` reads only `results`, `check`, `config`, the standard library and matplotlib, and
  only `cli` and `bench` import it (a report is drawn from a results folder, never from a driver);
- no import cycle, neither between modules nor between top-level packages.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "storage", "host", "config", "scenario", "network", "results", "check",
            "lab", "sim", "cluster", "report", "bench", "cli")
DRIVERS = ("lab", "sim", "cluster")
CLUSTER_USERS = ("cluster", "cli", "bench")
REPORT_USERS = ("report", "cli", "bench")
REPORT_READS = ("report", "results", "check", "config")
REPORT_EXTRAS = ("matplotlib",)  # optional, imported lazily by report/png.py

Graph = Mapping[str, set[str]]


# --- reading the tree ---------------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Every module `source` imports, anywhere in it; `from a import b` counts as `a.b`
    when that is a known module (a submodule), else as `a`."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    found.discard("__future__")
    return found


def paxlab_graph(root: Path = ROOT) -> dict[str, set[str]]:
    paths = sorted((root / "paxlab").rglob("*.py"))
    known = {module_name(p, root) for p in paths}
    return {module_name(p, root): imports_of(p.read_text(encoding="utf-8"), module_name(p, root),
                                             p.name == "__init__.py", known)
            for p in paths}


def package_of(module: str) -> str | None:
    """paxlab.core.replica -> core, paxlab.host -> host; None outside the named packages."""
    parts = module.split(".")
    if parts[0] != "paxlab" or len(parts) < 2 or parts[1] not in PACKAGES:
        return None
    return parts[1]


# --- the rules: each returns the offending edges or cycles, empty when it holds --------


def core_leaks(graph: Graph) -> list[str]:
    """core imports nothing of paxlab outside core."""
    return [f"{m} imports {i}" for m, deps in sorted(graph.items()) if package_of(m) == "core"
            for i in sorted(deps) if i.split(".")[0] == "paxlab" and package_of(i) != "core"]


def check_leaks(graph: Graph) -> list[str]:
    """check imports only check itself, results and the standard library."""
    def allowed(name: str) -> bool:
        if name.split(".")[0] == "paxlab":
            return package_of(name) in ("check", "results")
        return name.split(".")[0] in sys.stdlib_module_names
    return [f"{m} imports {i}" for m, deps in sorted(graph.items()) if package_of(m) == "check"
            for i in sorted(deps) if not allowed(i)]


def driver_crossings(graph: Graph) -> list[str]:
    """lab, sim and cluster never import each other."""
    return [f"{m} imports {i}" for m, deps in sorted(graph.items())
            if package_of(m) in DRIVERS for i in sorted(deps)
            if package_of(i) in DRIVERS and package_of(i) != package_of(m)]


def cluster_importers(graph: Graph) -> list[str]:
    """Only cli and bench (and cluster itself) import cluster."""
    return [f"{m} imports {i}" for m, deps in sorted(graph.items())
            if package_of(m) not in CLUSTER_USERS for i in sorted(deps)
            if package_of(i) == "cluster"]


def report_leaks(graph: Graph) -> list[str]:
    """report imports only report, results, check, config, the standard library and
    matplotlib; only cli and bench (and report itself) import report."""
    def allowed(name: str) -> bool:
        top = name.split(".")[0]
        if top == "paxlab":
            return package_of(name) in REPORT_READS
        return top in sys.stdlib_module_names or top in REPORT_EXTRAS
    leaks = [f"{m} imports {i}" for m, deps in sorted(graph.items()) if package_of(m) == "report"
             for i in sorted(deps) if not allowed(i)]
    leaks += [f"{m} imports {i}" for m, deps in sorted(graph.items())
              if package_of(m) not in REPORT_USERS for i in sorted(deps)
              if package_of(i) == "report"]
    return leaks


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one node (or a self-import),
    each sorted, by Tarjan's algorithm over the nodes that are keys of `graph`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph(graph: Graph) -> dict[str, set[str]]:
    """The graph between top-level packages: an edge wherever one module imports another's."""
    packages: dict[str, set[str]] = {}
    for module, deps in graph.items():
        mine = package_of(module)
        if mine is None:
            continue
        packages.setdefault(mine, set())
        packages[mine].update(p for p in map(package_of, deps) if p is not None and p != mine)
    return packages


def _planted(edges: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    return graph


# --- the rules hold for paxlab -----------------------------------------------------------


GRAPH = paxlab_graph()


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    source = "import os\nfrom . import b\ndef f():\n    from paxlab.x import c\n"
    known = {"paxlab.x.b", "paxlab.x.c"}
    assert imports_of(source, "paxlab.x.a", False, known) == {"os", "paxlab.x.b", "paxlab.x.c"}
    assert "paxlab.core.replica" in GRAPH and "paxlab.cli.main" in GRAPH


def test_core_imports_nothing_of_paxlab_outside_core() -> None:
    assert core_leaks(GRAPH) == []


def test_check_imports_only_results_and_the_standard_library() -> None:
    assert check_leaks(GRAPH) == []


def test_drivers_never_import_each_other() -> None:
    assert driver_crossings(GRAPH) == []


def test_only_cli_and_bench_import_cluster() -> None:
    assert cluster_importers(GRAPH) == []


def test_report_reads_only_results_and_is_used_only_by_commands() -> None:
    assert report_leaks(GRAPH) == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(GRAPH) == []


def test_no_import_cycle_between_packages() -> None:
    assert cycles(package_graph(GRAPH)) == []


# --- each rule fails on a planted graph that breaks it -------------------------------------


def test_core_rule_finds_a_planted_leak() -> None:
    graph = _planted([("paxlab.core.a", "paxlab.core.b"), ("paxlab.core.b", "paxlab.host"),
                      ("paxlab.host", "paxlab.core.a")])
    assert core_leaks(graph) == ["paxlab.core.b imports paxlab.host"]


def test_check_rule_finds_planted_leaks() -> None:
    graph = _planted([("paxlab.check.a", "paxlab.results.verdict"), ("paxlab.check.a", "json"),
                      ("paxlab.check.a", "paxlab.core.chain"), ("paxlab.check.b", "yaml")])
    assert check_leaks(graph) == ["paxlab.check.a imports paxlab.core.chain",
                                  "paxlab.check.b imports yaml"]


def test_driver_rule_finds_a_planted_crossing() -> None:
    graph = _planted([("paxlab.sim.run", "paxlab.scenario.faults"),
                      ("paxlab.lab.router", "paxlab.sim.network"),
                      ("paxlab.cli.sim", "paxlab.sim.run")])
    assert driver_crossings(graph) == ["paxlab.lab.router imports paxlab.sim.network"]


def test_cluster_rule_finds_a_planted_importer() -> None:
    graph = _planted([("paxlab.cli.cluster", "paxlab.cluster.control"),
                      ("paxlab.bench.cluster", "paxlab.cluster.admin"),
                      ("paxlab.cluster.control", "paxlab.cluster.procs"),
                      ("paxlab.scenario.faults", "paxlab.cluster.admin"),
                      ("paxlab.lab.launcher", "paxlab.cluster")])
    assert cluster_importers(graph) == ["paxlab.lab.launcher imports paxlab.cluster",
                                        "paxlab.scenario.faults imports paxlab.cluster.admin"]


def test_report_rule_finds_planted_leaks_and_importers() -> None:
    graph = _planted([("paxlab.report.model", "paxlab.results.messages"),
                      ("paxlab.report.png", "matplotlib.pyplot"),
                      ("paxlab.report.model", "paxlab.check.explain"),
                      ("paxlab.report.model", "paxlab.sim.run"),
                      ("paxlab.report.page", "numpy"),
                      ("paxlab.cli.lab", "paxlab.report.model"),
                      ("paxlab.lab.launcher", "paxlab.report")])
    assert report_leaks(graph) == ["paxlab.report.model imports paxlab.sim.run",
                                   "paxlab.report.page imports numpy",
                                   "paxlab.lab.launcher imports paxlab.report"]


def test_cycle_rule_finds_planted_module_and_package_cycles() -> None:
    graph = _planted([("paxlab.config.schema", "paxlab.config.fault_schema"),
                      ("paxlab.config.fault_schema", "paxlab.config.schema"),
                      ("paxlab.results.report", "paxlab.check"),
                      ("paxlab.check", "paxlab.results"),
                      ("paxlab.cli.main", "paxlab.check")])
    assert cycles(graph) == [["paxlab.config.fault_schema", "paxlab.config.schema"]]
    assert cycles(package_graph(graph)) == [["check", "results"]]
    assert cycles(_planted([("a", "a")])) == [["a"]]
    assert cycles(_planted([("a", "b"), ("b", "c")])) == []
