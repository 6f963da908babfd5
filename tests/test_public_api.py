"""Every package names its public API in `__all__`, and every name there exists (as an attribute or a
submodule), so `from qwen_cli.x import *` and docs/python-api.md point at real things."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import qwen_cli

ROOT = Path(qwen_cli.__file__).parent


def _packages() -> list[str]:
    found = ["qwen_cli"]
    found += [m.name for m in pkgutil.walk_packages([str(ROOT)], "qwen_cli.") if m.ispkg]
    return found


def test_every_package_has_an_all_whose_names_exist():
    packages = _packages()
    assert {"qwen_cli.auth", "qwen_cli.auth.methods", "qwen_cli.providers", "qwen_cli.output"} <= set(packages)
    for name in packages:
        package = importlib.import_module(name)
        public = getattr(package, "__all__", None)
        assert public, f"{name} has no __all__"
        for item in public:
            if not hasattr(package, item):
                importlib.import_module(f"{name}.{item}")  # a submodule: raises if there is none


def test_importing_the_package_stays_free():
    # __all__ names submodules without importing them: `import qwen_cli` loads nothing else of ours.
    code = "import sys, qwen_cli; print(sorted(m for m in sys.modules if m.startswith('qwen_cli')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['qwen_cli']"
