"""The layers hold: read every import of dialogues/, storage/ and bot/ with `ast`.

Protects the one-way flow Update -> event -> engine -> storage -> render (README, "How it is
built"): the pure core knows nothing of Telegram or the database, storage nothing of the bot,
the use cases and the renderer nothing of Telegram, and no modules import each other in a circle.

What counts as an import: module-level and function-local `import`/`from … import`, but not those
under `if TYPE_CHECKING:` (they never run). `from pkg import sub` imports `pkg` (it runs
`pkg/__init__`) and, when `sub` is a module, `pkg.sub` too.

To see a rule fail, break it and run `pytest tests/test_architecture.py`, e.g.:
- add `import telegram` to bot/render/views.py: test_layers names bot.render.views -> telegram;
- add `import storage` inside a function of dialogues/engine.py: test_layers names it;
- add `from bot.telegram.routes import build_handlers` inside a function of
  bot/telegram/handlers/general.py: test_no_import_cycles prints the circle
  bot.telegram.handlers.general -> bot.telegram.routes -> bot.telegram.handlers.general;
- add `open("x")` to dialogues/engine.py: test_dialogues_do_no_io names the line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dialogues", "storage", "bot")

# (modules the rule applies to, top-level or dotted names they must not import)
RULES = [
    (("dialogues",), ("bot", "storage", "telegram", "aiosqlite")),
    (("storage",), ("bot", "telegram")),
    (("bot.core", "bot.render", "bot.reminders.schedule", "bot.reports"), ("telegram",)),
]
# The pure core waits for nothing and touches no file, socket or process.
IO_MODULES = {
    "asyncio",
    "io",
    "os",
    "shutil",
    "socket",
    "sqlite3",
    "subprocess",
    "aiosqlite",
    "urllib",
    "http",
    "httpx",
    "aiohttp",
}
IO_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir", "unlink"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


MODULES = sources()


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Yield every node except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for other in node.orelse:
                yield other
                yield from runtime_nodes(other)
            continue
        yield node
        yield from runtime_nodes(node)


def imports_of(module: str, path: Path) -> set[str]:
    """Return the modules `module` imports when it runs, as dotted names."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            )
            source = ".".join([*base, node.module] if node.module else base)
            found.add(source)
            found.update(
                f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in MODULES
            )
    found.discard(module)  # a package's __init__ importing its own submodules
    return found


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def reachable(module: str) -> set[str]:
    """Return every module that importing `module` imports, directly or through ours."""
    found: set[str] = set()
    todo = [module]
    while todo:
        for target in GRAPH.get(todo.pop(), set()) - found:
            found.add(target)
            todo.append(target)
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_graph_sees_the_imports() -> None:
    """Guards the test itself: an import the reader misses would let every rule pass."""
    assert "telegram" in GRAPH["bot.telegram.app"]
    assert "bot.telegram.handlers.dialogue" in GRAPH["bot.telegram.routes"]
    assert "storage" in GRAPH["bot.core.access"]
    assert len(MODULES) > 60


@pytest.mark.parametrize(("layers", "forbidden"), RULES)
def test_layers(layers: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    """A layer reaches neither up nor sideways (see RULES), directly or through our modules."""
    broken = sorted(
        f"{module} -> {target}"
        for module in GRAPH
        if any(within(module, layer) for layer in layers)
        for target in reachable(module)
        if any(within(target, name) for name in forbidden)
    )
    assert broken == []


def test_dialogues_do_no_io() -> None:
    """The engine and catalogue are pure: no I/O module, no file call, no await."""
    found = []
    for module, path in MODULES.items():
        if not within(module, "dialogues"):
            continue
        for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, (ast.Await, ast.AsyncFunctionDef)):
                found.append(f"{where} async")
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in IO_CALLS:
                    found.append(f"{where} {name}()")
    io_imports = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if within(module, "dialogues")
        for target in targets
        if target.split(".")[0] in IO_MODULES
    ]
    assert found + io_imports == []


def cycles() -> list[list[str]]:
    """Return one circle per strongly connected group of our modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(GRAPH[node] & MODULES.keys()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1 or node in GRAPH[node]:
                groups.append(sorted(group))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return [circle(group) for group in groups]


def circle(group: list[str]) -> list[str]:
    """Return a path through `group` that comes back to where it started."""
    start, path, seen = group[0], [group[0]], {group[0]}
    while True:
        here = path[-1]
        targets = sorted(GRAPH[here] & set(group))
        if start in targets and len(path) > 1 or targets == [start]:
            return [*path, start]
        following = [t for t in targets if t not in seen]
        if not following:
            return [*path, "…"]
        path.append(following[0])
        seen.add(following[0])


def test_no_import_cycles() -> None:
    """No modules import each other in a circle, directly or through others."""
    assert [" -> ".join(c) for c in cycles()] == []


def test_a_cycle_is_found() -> None:
    """Guards the cycle finder: a circle made up here must be reported."""
    saved = dict(GRAPH)
    GRAPH["bot.render.views"] = GRAPH["bot.render.views"] | {"bot.render.presenter"}
    try:
        assert any("bot.render.views" in c for c in cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
