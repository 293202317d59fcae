"""The project's own modules never import each other in a cycle (imports under ``TYPE_CHECKING`` aside:
they never run). A cycle makes import order matter and the modules impossible to read or change apart.

The import graph is grimp's (the engine of import-linter): a direct import a -> b closes a cycle
exactly when b also reaches a through a chain of imports.
"""

from __future__ import annotations

import grimp

PACKAGES = ("components", "program", "preflight", "ai_platform_finops", "ai_governance", "bench", "qa")
"""Everything the project writes: the program and its components, the offline tool, the FinOps package,
the policy pack's rules, the benchmarks and the quality tooling."""

def cycles(graph: grimp.ImportGraph) -> dict[tuple[str, str], list[str]]:
    """Each import that closes a cycle, keyed by its (sorted) pair of modules, with one shortest cycle."""
    found: dict[tuple[str, str], list[str]] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if importer == imported or not graph.chain_exists(importer=imported, imported=importer):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer) or ()
            first, second = sorted((importer, imported))
            found.setdefault((first, second), [importer, *back])
    return found


def test_the_projects_modules_import_each_other_without_cycles():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    assert len(graph.modules) > 100  # every package was found (pytest's pythonpath, the installed finops)
    found = cycles(graph)
    assert {pair: " -> ".join(chain) for pair, chain in found.items()} == {}


def test_a_cycle_is_found_with_the_chain_that_closes_it():
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c", "p.d"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="p.d", imported="p.a")
    found = cycles(graph)
    assert set(found) == {("p.a", "p.b"), ("p.b", "p.c"), ("p.a", "p.c")}
    assert found[("p.a", "p.b")] == ["p.a", "p.b", "p.c", "p.a"]
