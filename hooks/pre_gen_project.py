"""Refuse invalid answers before cookiecutter writes the project.

Every check prints one line naming the answer, what is wrong and what would be
accepted, then exits non-zero; cookiecutter removes the half-made folder.
Jinja appears only inside string literals so this file stays valid Python.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

ANSWERS: dict[str, str] = json.loads(r"""{{ cookiecutter | tojson }}""")

CHOICES = {
    "python_version": ("3.10", "3.11", "3.12"),
    "maturity_level": ("1", "2", "3"),
    "model_framework": ("sklearn", "pytorch"),
    "dvc_remote": ("local", "s3", "gcs", "azure"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}

# Import names of the generated project's dependencies and tools: a package
# with one of these names would shadow the real library on sys.path.
DEPENDENCY_MODULES = frozenset(
    {
        "dvc", "fairlearn", "fastapi", "great_expectations", "httpx", "joblib",
        "matplotlib", "mkdocs", "mlflow", "numpy", "pandas", "prometheus_client",
        "pyarrow", "pydantic", "pytest", "ruff", "scipy", "skops", "sklearn",
        "starlette", "torch", "tqdm", "uvicorn", "yaml",
        "src", "test", "tests", "data", "models", "docs", "notebooks", "reports",
    }
)  # fmt: skip

SLUG = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
SLUG_MAX = 50  # DNS-1123 allows 63; keep room for suffixes such as "-candidate"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
REGISTRY = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*")
FREE_TEXT_MAX = 200


def stdlib_modules() -> frozenset[str]:
    """Names of the running interpreter's standard-library modules."""
    return frozenset(getattr(sys, "stdlib_module_names", ()))


def check_free_text(name: str, value: str) -> str | None:
    if not value.strip():
        return f"{name} is empty: give a short text."
    if any(ord(char) < 32 for char in value):
        return f"{name} contains a line break or control character: use one line of plain text."
    if len(value) > FREE_TEXT_MAX:
        return f"{name} is {len(value)} characters long: use at most {FREE_TEXT_MAX}."
    return None


def check_module_name(value: str) -> str | None:
    accepted = "use lower-case letters, digits and '_', starting with a letter (e.g. churn_model)"
    if not value.isidentifier() or not value.isascii():
        return f"module_name {value!r} is not a Python identifier: {accepted}."
    if value != value.lower():
        return (
            f"module_name {value!r} has upper case, which breaks imports on case-insensitive file systems: {accepted}."
        )
    if value.startswith("_"):
        return f"module_name {value!r} starts with '_', which marks a private module: {accepted}."
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"module_name {value!r} is a Python keyword: {accepted}."
    if value in stdlib_modules():
        return f"module_name {value!r} shadows the standard-library module of that name: pick another name (e.g. {value}_model)."
    if len(value) > SLUG_MAX:
        return f"module_name {value!r} is {len(value)} characters long: use at most {SLUG_MAX}."
    if value in DEPENDENCY_MODULES:
        return f"module_name {value!r} shadows a dependency or folder of the generated project: pick another name (e.g. {value}_model)."
    return None


def check_slug(value: str) -> str | None:
    accepted = "use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. churn-model)"
    if not SLUG.fullmatch(value):
        return f"project_slug {value!r} is not a valid DNS-1123 label (it names the container image and the Kubernetes objects): {accepted}."
    if len(value) > SLUG_MAX:
        return f"project_slug {value!r} is {len(value)} characters long: use at most {SLUG_MAX}."
    return None


def check(answers: dict[str, str]) -> list[str]:
    """Return one message per invalid answer, in prompt order."""
    problems = [check_free_text(name, answers[name]) for name in ("project_name", "description", "author_name")]
    problems.append(check_slug(answers["project_slug"]))
    problems.append(check_module_name(answers["module_name"]))
    if not EMAIL.fullmatch(answers["author_email"]):
        problems.append(
            f"author_email {answers['author_email']!r} is not an e-mail address: use the form name@example.com."
        )
    if not GITHUB_OWNER.fullmatch(answers["github_owner"]):
        problems.append(
            f"github_owner {answers['github_owner']!r} is not a GitHub user or organisation name: "
            "use letters, digits and single '-' between them, at most 39 characters."
        )
    for name, allowed in CHOICES.items():
        if answers[name] not in allowed:
            problems.append(f"{name} {answers[name]!r} is not supported: choose one of {', '.join(allowed)}.")
    if not REGISTRY.fullmatch(answers["container_registry"]):
        problems.append(
            f"container_registry {answers['container_registry']!r} is not a lower-case registry path: "
            "use host[:port]/namespace, e.g. ghcr.io/my-org."
        )
    return [problem for problem in problems if problem]


def main() -> int:
    problems = check(ANSWERS)
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
