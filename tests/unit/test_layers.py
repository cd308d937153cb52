"""Dependencies point down: nothing in core/ imports a layer above it (function-level imports included)."""

from __future__ import annotations

import ast

from tests.support import PROJECT_ROOT

ABOVE_CORE = ('auth', 'tasks', 'pages', 'components', 'system', 'main', 'nicegui.ui')


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
    return names


def test_core_imports_nothing_above_it() -> None:
    offences = []
    for path in sorted((PROJECT_ROOT / 'core').rglob('*.py')):
        for name in imported_modules(ast.parse(path.read_text(), str(path))):
            if any(name == layer or name.startswith(f'{layer}.') for layer in ABOVE_CORE):
                offences.append(f'{path.relative_to(PROJECT_ROOT)} imports {name}')
    assert not offences, '\n'.join(offences)


def test_the_rule_sees_function_level_and_from_imports() -> None:
    source = 'def f():\n    import tasks\nfrom nicegui import ui\nfrom auth.session import Sessions\n'
    assert {'tasks', 'nicegui.ui', 'auth.session'} <= imported_modules(ast.parse(source))


def test_pages_and_components_never_call_docker() -> None:
    # they read through services (core/docker/reads.py, the state, the streams) and act through commands
    offences = []
    for folder in ('pages', 'components'):
        for path in sorted((PROJECT_ROOT / folder).rglob('*.py')):
            tree = ast.parse(path.read_text(), str(path))
            for name in imported_modules(tree):
                if name == 'docker' or name.startswith('docker.'):
                    offences.append(f'{path.relative_to(PROJECT_ROOT)} imports {name}')
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ('docker', 'api')
                    and isinstance(node.ctx, ast.Load)
                ):
                    offences.append(f'{path.relative_to(PROJECT_ROOT)}:{node.lineno} uses .{node.attr}')
    assert not offences, '\n'.join(offences)
