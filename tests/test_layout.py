"""The code's layout keeps its promises: no import circles, and each layer imports only downwards.

Imports are read from the source (module level and inside functions alike), so an import hidden
in a function to dodge a circle still counts.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What each layer must not import. Names match a module and everything below it.
CONTRACTS = {
    "papers.models": [
        "papers.content",
        "papers.pipeline",
        "papers.processing",
        "papers.selectors",
        "papers.schedules",
        "papers.tasks",
        "papers.receivers",
        "papers.sources",
        "papers.summarizers",
        "papers.markdown",
        "papers.subscriptions",
        "papers.public",
        "papers.admin",
    ],
    # Services and selectors: no views, no admin, no tasks. Per-paper processing builds on the
    # ingestion in the pipeline, never the other way round.
    "papers.pipeline": [
        "papers.public",
        "papers.admin",
        "papers.tasks",
        "papers.subscriptions",
        "papers.processing",
    ],
    "papers.processing": ["papers.public", "papers.admin", "papers.tasks", "papers.subscriptions"],
    "papers.selectors": [
        "papers.public",
        "papers.admin",
        "papers.tasks",
        "papers.pipeline",
        "papers.processing",
    ],
    "papers.schedules": ["papers.public", "papers.admin", "papers.pipeline", "papers.processing"],
    "papers.sources": [
        "papers.public",
        "papers.admin",
        "papers.tasks",
        "papers.pipeline",
        "papers.processing",
    ],
    "papers.summarizers": [
        "papers.public",
        "papers.admin",
        "papers.tasks",
        "papers.pipeline",
        "papers.processing",
    ],
    "papers.markdown": ["papers.public", "papers.admin", "papers.tasks"],
    "papers.subscriptions.services": ["papers.public.views", "papers.admin", "papers.tasks"],
    # The public site never imports the editors' admin.
    "papers.public": ["papers.admin"],
    "papers.subscriptions.views": ["papers.admin"],
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in (ROOT / "papers").rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports, by their full names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "papers.models" in graph["papers.pipeline"]
    assert "papers.sources.arxiv_api" in graph["papers.pipeline"]


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_each_layer_imports_only_what_it_may():
    graph = import_graph()
    broken = [
        f"{module} imports {target}"
        for layer, forbidden in CONTRACTS.items()
        for module, targets in graph.items()
        if under(module, layer)
        for target in targets
        for prefix in forbidden
        if under(target, prefix)
    ]
    assert broken == []


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_every_stored_schedule_names_a_registered_task(db):
    from django_celery_beat.models import PeriodicTask

    from digest_site.celery import app
    from papers.schedules import ensure_topic_schedule
    from tests.factories import make_topic

    ensure_topic_schedule(make_topic())
    stored = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "papers.fetch_topic",
        "papers.retry_failed_papers",
        "papers.send_weekly_mails",
    } <= stored
    app.loader.import_default_modules()
    assert sorted(stored - set(app.tasks)) == []
