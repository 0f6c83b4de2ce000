"""`tracejury.models`, `tracejury.batches` and `tracejury.aggregate` import each name on first use (`lazy_names`):
every public name resolves to the object of the module that holds it, and nothing else does."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ("tracejury.models", "tracejury.batches", "tracejury.aggregate")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_its_modules_object(package: str) -> None:
    pkg = importlib.import_module(package)
    listed = {name: module for module, names in pkg._SOURCES.items() for name in names}
    assert sorted(listed) == sorted(pkg.__all__) and len(pkg.__all__) == len(set(pkg.__all__))
    for name, module in listed.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name), name
    assert dir(pkg) == sorted(dir(pkg)) and set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError, match=rf"^module '{package}' has no attribute 'nope'$"):
        pkg.nope  # noqa: B018


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_the_package_imports_none_of_its_modules(package: str) -> None:
    code = (
        f"import sys, {package} as p\n"
        "mods = {m for names in [p._SOURCES] for m in names}\n"
        "print(sorted(m for m in mods if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
