"""Only the command layer knows the terminal frameworks (issue 13 §5).

click and rich-click may be imported in qwen_cli/cli/ only; rich in qwen_cli/cli/ and qwen_cli/output/. The
rest of the package is a library (resolve, stream, list models) that runs without them. Imports are read
statically with `ast`, function-local ones included, so a lazy import can't slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "qwen_cli"

# framework -> the packages (paths under qwen_cli/) that may import it
ALLOWED = {
    "click": ("cli",),
    "rich_click": ("cli",),
    "rich": ("cli", "output"),
}


def imported_roots(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) for every import statement anywhere in the tree, relative ones left out."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        top = relative.parts[0] if len(relative.parts) > 1 else ""
        for line, root in imported_roots(ast.parse(path.read_text("utf-8"), str(path))):
            if root in ALLOWED and top not in ALLOWED[root]:
                out.append(f"qwen_cli/{relative.as_posix()}:{line} imports {root}")
    return out


def test_the_walk_sees_function_local_imports():
    tree = ast.parse("def f():\n    import rich.console\n    from click import echo\n")
    assert [root for _, root in imported_roots(tree)] == ["rich", "click"]


def test_the_walk_covers_the_command_layer():
    assert any(path.parts[-2] == "cli" for path in PACKAGE.rglob("*.py"))
    assert "cli/root.py" in {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}


def test_only_the_command_and_output_layers_import_terminal_frameworks():
    assert violations() == []
