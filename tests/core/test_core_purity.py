"""STYLE section 2: the core has no clock, no I/O, no threads and no global random.

The rule is checked on the source with `ast`, so it holds for code paths no test runs.
The checker itself is fed broken snippets first: a purity test that cannot fail proves
nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import paxlab.core

CORE = Path(paxlab.core.__file__).parent
CORE_FILES = sorted(CORE.glob("*.py"))

# The modules STYLE names, plus other clocks, I/O and sources of entropy.
FORBIDDEN_MODULES = frozenset({
    "time", "os", "socket", "select", "threading", "asyncio", "multiprocessing",
    "subprocess",
    "datetime", "logging", "sys", "io", "pathlib", "shutil", "tempfile", "signal",
    "selectors", "secrets", "uuid", "concurrent", "_thread",
})
FORBIDDEN_BUILTINS = frozenset({"open", "print", "input", "exec", "eval", "breakpoint"})
# _fast_init.py writes a dataclass's __init__ from its own field names and execs it, as
# `dataclasses` itself does: no input reaches that text. No other core module may.
EXEC_ALLOWED = frozenset({"paxlab/core/_fast_init.py"})


def violations(source: str, filename: str = "<snippet>") -> list[str]:
    """Every impure construct in `source`, one line each."""
    tree = ast.parse(source, filename)
    found: list[str] = []
    random_names: set[str] = set()  # local names bound to the random module

    def where(node: ast.AST) -> str:
        return f"{filename}:{getattr(node, 'lineno', '?')}"

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in FORBIDDEN_MODULES:
                    found.append(f"{where(node)}: import {alias.name}")
                if root == "random":
                    random_names.add(alias.asname or "random")
                if root == "paxlab" and not alias.name.startswith("paxlab.core"):
                    found.append(f"{where(node)}: core imports driver module {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            root = module.split(".")[0]
            if node.level == 0 and root in FORBIDDEN_MODULES:
                found.append(f"{where(node)}: from {module} import ...")
            if root == "random":
                # Only the class, for annotations; functions would use the global generator.
                for alias in node.names:
                    if alias.name != "Random":
                        found.append(f"{where(node)}: from random import {alias.name}")
            if root == "paxlab" and not module.startswith("paxlab.core"):
                found.append(f"{where(node)}: core imports driver module {module}")

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in random_names
            and node.attr != "Random"
        ):
            found.append(f"{where(node)}: global generator random.{node.attr}")
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in random_names
                and func.attr == "Random"
            ):
                found.append(f"{where(node)}: core builds its own random.Random; take it in")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS and not (
                    func.id == "exec" and filename in EXEC_ALLOWED):
                found.append(f"{where(node)}: calls {func.id}()")
            if isinstance(func, ast.Name) and func.id == "__import__":
                found.append(f"{where(node)}: dynamic import")
    return found


# --- the checker bites ----------------------------------------------------------------

BROKEN = {
    "import time\n": "import time",
    "import os.path\n": "import os.path",
    "from os import environ\n": "from os import",
    "import socket\n": "import socket",
    "import select\n": "import select",
    "import threading\n": "import threading",
    "import asyncio\n": "import asyncio",
    "import multiprocessing.pool\n": "import multiprocessing.pool",
    "import subprocess\n": "import subprocess",
    "from time import monotonic\n": "from time import",
    "import random\nx = random.random()\n": "random.random",
    "import random\ndef f(xs):\n    random.shuffle(xs)\n": "random.shuffle",
    "import random as r\nr.randint(1, 2)\n": "random.randint",
    "import random\npick = random.choice\n": "random.choice",
    "import random\nrandom.seed(1)\n": "random.seed",
    "from random import randint\n": "from random import randint",
    "import random\nrng = random.Random(7)\n": "builds its own",
    "print('hi')\n": "calls print()",
    "exec('x = 1')\n": "calls exec()",
    "open('/tmp/x')\n": "calls open()",
    "__import__('time')\n": "dynamic import",
    "from paxlab.lab import launcher\n": "driver module paxlab.lab",
    "import paxlab.host\n": "driver module paxlab.host",
}


@pytest.mark.parametrize("source", BROKEN, ids=lambda s: s.strip().replace("\n", "; "))
def test_the_checker_catches(source: str) -> None:
    found = violations(source)
    assert any(BROKEN[source] in line for line in found), found


def test_the_checker_allows_what_the_core_may_do() -> None:
    source = (
        "from __future__ import annotations\n"
        "import random\n"
        "from random import Random\n"
        "import hashlib, json\n"
        "from paxlab.core.chain import Block\n"
        "class R:\n"
        "    def __init__(self, rng: random.Random) -> None:\n"
        "        self.rng = rng\n"
        "    def f(self) -> int:\n"
        "        return self.rng.randint(1, 6)\n"
    )
    assert violations(source) == []


# --- the core passes ------------------------------------------------------------------


def test_core_files_are_found() -> None:
    names = {p.name for p in CORE_FILES}
    assert {"replica.py", "client.py", "chain.py", "codec.py", "acceptor.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    assert violations(path.read_text(), str(path.relative_to(CORE.parent.parent))) == []


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_declares_its_public_names(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        for node in tree.body
    ), f"{path.name} has no __all__"
