"""The house rules that hold the code in one shape (issue 10), checked mechanically."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"


def modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def calls_to(tree: ast.AST, attribute: str) -> list[int]:
    """Lines calling ``<anything>.<attribute>(...)``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute
    ]


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", modules(PORTAL / "services"), ids=relative)
def test_services_never_commit_or_roll_back(path):
    tree = ast.parse(path.read_text())
    assert calls_to(tree, "commit") == [] and calls_to(tree, "rollback") == [], "the caller's unit of work does"


@pytest.mark.parametrize("path", modules(PORTAL / "blueprints"), ids=relative)
def test_views_reach_the_database_only_through_scoping_and_services(path):
    source = path.read_text()
    assert "db.session" not in source and "select(" not in source
    assert len(source.splitlines()) <= 300, "split the module by resource"


@pytest.mark.parametrize("path", modules(ROOT / "search_sync"), ids=relative)
def test_search_sync_does_search_only(path):
    imported = imported_modules(ast.parse(path.read_text()))
    forbidden = {name for name in imported if name.startswith(("portal.services", "portal.worker", "portal.cli"))}
    assert forbidden == set() and "portal.create_app" not in imported


def test_one_module_changes_an_applications_client_status():
    writers = set()
    for path in modules(ROOT / "portal"):
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "client_status" for t in targets):
                writers.add(relative(path))
            if isinstance(node, ast.keyword) and node.arg == "client_status":
                writers.add(relative(path))
    assert writers == {"portal/services/application_status.py"}
