"""Format the template's Python files with the generated project's ruff settings.

The Python files hold Jinja only for names and values: `{{ cookiecutter.module_name }}`
is replaced by a stand-in module name, every other `{{ ... }}` by a placeholder of the same
length (a name in code, plain text in a string), and a leading `{%- import ... -%}` line is
set aside; after formatting they are put back. A file with Jinja control blocks (`{% if %}`)
is reported instead, so it can be checked through a baked project (the template tests do that).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
MODULE = "{{ cookiecutter.module_name }}"
# the longest module name the pre-gen hook accepts: code formatted with it keeps its
# wrapping (magic trailing commas) for every shorter name
STAND_IN = "m" * 50
IMPORT_LINE = re.compile(r"\A\{%-? import [^%]*-%\}\n?")
EXPRESSION = re.compile(r"\{\{.*?\}\}")


def stand_ins(text: str) -> tuple[str, dict[str, str]]:
    """The text with each Jinja expression but the module name replaced by a placeholder of its length."""
    placeholders: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        expression = match.group()
        if expression == MODULE:
            return STAND_IN
        if expression not in placeholders:
            name = f"jinja{len(placeholders)}_"
            placeholders[expression] = name + "x" * max(0, len(expression) - len(name))
        return placeholders[expression]

    return EXPRESSION.sub(placeholder, text), placeholders


def restore(text: str, placeholders: dict[str, str]) -> str:
    for expression, name in placeholders.items():
        text = text.replace(name, expression)
    return text.replace(STAND_IN, MODULE)


def ruff_config(folder: Path) -> Path:
    """The generated pyproject's [tool.ruff] settings, with the Python version filled in."""
    text = (TEMPLATE / "pyproject.toml").read_text()
    section = text[text.index("[tool.ruff]") : text.index("[tool.pytest")]
    section = section.replace("{{ cookiecutter.python_version.replace('.', '') }}", "310")
    config = folder / "ruff.toml"
    body = section.replace("[tool.ruff]\n", "").replace("[tool.ruff.", "[")
    config.write_text(body + f'\n[lint.isort]\nknown-first-party = ["{STAND_IN}"]\n')
    return config


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        config = ruff_config(Path(folder))
        skipped = []
        for path in sorted(TEMPLATE.rglob("*")):
            if not path.name.replace("{% endif %}", "").endswith(".py"):
                continue
            text = path.read_text()
            header = IMPORT_LINE.match(text)
            prefix = header.group() if header else ""
            body = text[len(prefix) :]
            if "{%" in body:
                skipped.append(path.relative_to(TEMPLATE))
                continue
            source, placeholders = stand_ins(body)
            for args in (["check", "--fix", "--quiet", "--exit-zero"], ["format", "--quiet"]):
                source = subprocess.run(
                    ["ruff", *args, "--config", str(config), "--stdin-filename", path.name, "-"],
                    input=source,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            formatted = prefix + restore(source, placeholders)
            if formatted != text:
                path.write_text(formatted)
                print(f"formatted {path.relative_to(TEMPLATE)}")
        for path in skipped:
            print(f"not formatted (has Jinja logic): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
