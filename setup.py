"""Install the repository's top-level stage folders as subpackages of the one `tracejury` package.

The folders keep the names the project was specified with (orchestrator/, batches/, aggregate/,
prompts/, criteria/); setuptools' package-dir mapping puts them under `tracejury.` in the wheel
and in an editable install alike, so nothing but `tracejury` lands at the top of site-packages.
"""

from setuptools import find_namespace_packages, setup

STAGES = ["orchestrator", "batches", "aggregate"]
DATA = {"prompts": ["*.txt"], "criteria": ["*.md"]}

package_dir = {"tracejury": "tracejury"}
packages = ["tracejury", *(f"tracejury.{p}" for p in find_namespace_packages("tracejury"))]
for top in [*STAGES, *DATA]:
    package_dir[f"tracejury.{top}"] = top
    packages.append(f"tracejury.{top}")
    if top in STAGES:
        packages += [f"tracejury.{top}.{p}" for p in find_namespace_packages(top)]

setup(
    packages=[p for p in packages if "__pycache__" not in p],
    package_dir=package_dir,
    package_data={
        "tracejury": ["py.typed"],
        "tracejury.orchestrator.llm": ["data/*.yaml"],
        **{f"tracejury.{top}": globs for top, globs in DATA.items()},
    },
)
