"""Write the names a generated package must not take into cookiecutter.json (`_shadowed_modules`).

A package named like a module the generated project imports would shadow it on sys.path, so
`module_name` must avoid: the top-level import names of every distribution in the resolved
dependency set of the generated project (its dependencies, every extra and dependency group, for
every level and framework, and their dependencies recursively), the project's own top-level
folders, the standard library and the keywords. The import names come from the environment this
script runs in (the template's venv, which installs what generated projects need:
`importlib.metadata.packages_distributions()` restricted to the dependency closure).

The list lives in cookiecutter.json so that both the derived `module_name` default (Jinja) and
the pre-generation hook see it, with cookiecutter, cruft and replays alike.
`--check` exits non-zero when cookiecutter.json is not current.
"""

from __future__ import annotations

import itertools
import json
import keyword
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from cookiecutter.main import cookiecutter
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "cookiecutter.json"
KEY = "_shadowed_modules"
# top-level folders of a generated project that are on sys.path when tests run from its root
FOLDERS = ("data", "docs", "models", "notebooks", "reports", "src", "test", "tests")
# distributions the template's venv does not install, with their import names and dependencies: the
# level-3 `spark` extra is a 456 MB source build that no template test needs
NOT_INSTALLED = {"pyspark": ({"pyspark"}, ("py4j",)), "py4j": ({"py4j"}, ())}


def generated_requirements() -> set[str]:
    """Every requirement string of the generated pyproject.toml, over levels and frameworks."""
    context = json.loads(CONFIG.read_text(encoding="utf-8"))
    requirements: set[str] = set()
    own_names: set[str] = set()
    with tempfile.TemporaryDirectory() as output:
        for level, framework in itertools.product(context["maturity_level"], context["model_framework"]):
            project = Path(
                cookiecutter(
                    str(ROOT),
                    no_input=True,
                    accept_hooks=False,
                    output_dir=str(Path(output) / f"{level}-{framework}"),
                    extra_context={"maturity_level": level, "model_framework": framework},
                )
            )
            pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
            table = pyproject.get("project", {})
            own_names.add(canonicalize_name(table["name"]))
            requirements.update(table.get("dependencies", []))
            for extra in table.get("optional-dependencies", {}).values():
                requirements.update(extra)
            for group in pyproject.get("dependency-groups", {}).values():
                requirements.update(item for item in group if isinstance(item, str))
            requirements.update(pyproject.get("build-system", {}).get("requires", []))
    # a project's extras may refer to the project itself (name[pipeline]): not a dependency
    return {req for req in requirements if canonicalize_name(Requirement(req).name) not in own_names}


def closure(requirements: set[str]) -> set[str]:
    """Canonical names of the installed distributions the requirements resolve to, recursively."""
    seen: set[str] = set()
    missing: list[str] = []
    queue = [(Requirement(req), frozenset(Requirement(req).extras)) for req in requirements]
    while queue:
        requirement, extras = queue.pop()
        name = canonicalize_name(requirement.name)
        if name in NOT_INSTALLED:
            seen.add(name)
            queue.extend((Requirement(child), frozenset()) for child in NOT_INSTALLED[name][1])
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or []:
            child = Requirement(line)
            if child.marker is None or any(child.marker.evaluate({"extra": extra}) for extra in ("", *sorted(extras))):
                queue.append((child, frozenset(child.extras)))
    if missing:
        raise SystemExit(
            f"not installed here: {', '.join(sorted(set(missing)))}; run this script in the template's venv (make setup)"
        )
    return {key.split("[")[0] for key in seen}


def import_names(distributions: set[str]) -> set[str]:
    """Top-level import names the distributions install, lower-cased (case-insensitive file systems)."""
    names = {name for dist in distributions & NOT_INSTALLED.keys() for name in NOT_INSTALLED[dist][0]}
    for module, owners in metadata.packages_distributions().items():
        if {canonicalize_name(owner) for owner in owners} & distributions:
            names.add(module.lower())
    return names


def shadowed() -> list[str]:
    names = import_names(closure(generated_requirements()))
    names |= set(FOLDERS)
    names |= {name.lower() for name in sys.stdlib_module_names}
    names |= {word for word in (*keyword.kwlist, *keyword.softkwlist) if word.islower()}
    return sorted(name for name in names if name.isidentifier() and not name.startswith("_"))


def updated(config: str, names: list[str]) -> str:
    context = json.loads(config)
    rebuilt = {}
    for key, value in context.items():
        if key == KEY:
            continue
        if key == "module_name":  # the module_name default reads it, so it comes first
            rebuilt[KEY] = " ".join(names)
        rebuilt[key] = value
    return json.dumps(rebuilt, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    config = CONFIG.read_text(encoding="utf-8")
    text = updated(config, shadowed())
    if "--check" in argv:
        if text != config:
            print(f"{CONFIG.name} {KEY} is stale: run `python scripts/shadowed_modules.py`", file=sys.stderr)
            return 1
        return 0
    CONFIG.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
