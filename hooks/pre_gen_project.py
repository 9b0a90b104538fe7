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
import unicodedata

ANSWERS: dict[str, str] = json.loads(r"""{{ cookiecutter | tojson }}""")

CHOICES = {
    "python_version": ("3.10", "3.11", "3.12"),
    "maturity_level": ("1", "2", "3"),
    "model_framework": ("sklearn", "pytorch"),
    "ci_provider": ("github", "gitlab"),
    "dvc_remote": ("local", "s3", "gcs", "azure"),
    "feature_store": ("none", "feast"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}

# Names a package of the generated project must not take: the import names of every
# distribution in its resolved dependency set, its own folders, the standard library and the
# keywords. scripts/shadowed_modules.py writes them into cookiecutter.json.
SHADOWED_MODULES = frozenset(str(ANSWERS.get("_shadowed_modules", "")).split())

SLUG = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
SLUG_MAX = 50  # DNS-1123 allows 63; keep room for suffixes such as "-candidate"
# what git keeps in an author identity: no spaces, quotes, angle brackets or control characters
EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_DOMAIN = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
EMAIL = re.compile(EMAIL_ATOM + r"(\." + EMAIL_ATOM + r")*@" + EMAIL_DOMAIN)
EMAIL_MAX = 254
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
REGISTRY = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*")
REGISTRY_MAX = 200  # with "/" and the slug, the image name stays within Docker's 255 characters
FREE_TEXT_MAX = 200
# characters no file of the project can hold as text: control characters, lone surrogates, line
# and paragraph separators, non-characters, and the bidirectional overrides that make source
# code read differently from how it runs
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def stdlib_modules() -> frozenset[str]:
    """Names of the running interpreter's standard-library modules."""
    return frozenset(getattr(sys, "stdlib_module_names", ()))


def printable(char: str) -> bool:
    code = ord(char)
    if unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} or char in BIDI_CONTROLS:
        return False
    return not (0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)


def check_free_text(name: str, value: str) -> str | None:
    if not value.strip():
        return f"{name} is empty: give a short text."
    if any(ord(char) < 32 for char in value):
        return f"{name} contains a line break or control character: use one line of plain text."
    for char in value:
        if not printable(char):
            return f"{name} contains the unprintable character U+{ord(char):04X}: use one line of printable text."
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
    if value in SHADOWED_MODULES:
        return f"module_name {value!r} shadows a dependency or folder of the generated project: pick another name (e.g. {value}_model)."
    return None


def check_slug(value: str) -> str | None:
    accepted = "use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. churn-model)"
    if not SLUG.fullmatch(value):
        return f"project_slug {value!r} is not a valid DNS-1123 label (it names the container image and the Kubernetes objects): {accepted}."
    if len(value) > SLUG_MAX:
        return f"project_slug {value!r} is {len(value)} characters long: use at most {SLUG_MAX}."
    return None


def check_email(value: str) -> str | None:
    if len(value) > EMAIL_MAX:
        return f"author_email is {len(value)} characters long: use at most {EMAIL_MAX}."
    if not EMAIL.fullmatch(value):
        return (
            f"author_email {value!r} is not an e-mail address git keeps as it is: "
            "use the form name@example.com (letters, digits and .!#$%&'*+/=?^_`{|}~- before the @)."
        )
    return None


def check_registry(value: str) -> str | None:
    accepted = "use host[:port]/namespace in lower case, e.g. ghcr.io/my-org"
    if len(value) > REGISTRY_MAX:
        return f"container_registry is {len(value)} characters long: use at most {REGISTRY_MAX}."
    match = REGISTRY.fullmatch(value)
    if not match:
        return f"container_registry {value!r} is not a lower-case registry path: {accepted}."
    port = match.group(2)
    if port and not 0 < int(port[1:]) < 65536:
        return f"container_registry {value!r} has the port {port[1:]}, outside 1-65535: {accepted}."
    return None


def check(answers: dict[str, str]) -> list[str]:
    """Return one message per invalid answer, in prompt order."""
    problems = [check_free_text(name, answers[name]) for name in ("project_name", "description", "author_name")]
    problems.append(check_slug(answers["project_slug"]))
    problems.append(check_module_name(answers["module_name"]))
    problems.append(check_email(answers["author_email"]))
    if not GITHUB_OWNER.fullmatch(answers["github_owner"]):
        problems.append(
            f"github_owner {answers['github_owner']!r} is not a GitHub user or organisation name (nor a GitLab one): "
            "use letters, digits and single '-' between them, at most 39 characters."
        )
    for name, allowed in CHOICES.items():
        if answers[name] not in allowed:
            problems.append(f"{name} {answers[name]!r} is not supported: choose one of {', '.join(allowed)}.")
    problems.append(check_registry(answers["container_registry"]))
    if answers.get("feature_store") == "feast" and answers["maturity_level"] == "1":
        problems.append(
            "feature_store 'feast' needs maturity_level 2 or 3 (its materialize stage runs in the DVC pipeline): "
            "choose feature_store=none at level 1, or maturity_level=2."
        )
    return [problem for problem in problems if problem]


def main() -> int:
    problems = check(ANSWERS)
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
