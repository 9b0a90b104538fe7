"""Format the template's Python files with the generated project's ruff settings.

Files whose only Jinja is `{{ cookiecutter.module_name }}` are formatted with a
stand-in module name substituted in and back; files with other Jinja are reported so
they can be checked through a baked project (the template tests do that).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
MODULE = "{{ cookiecutter.module_name }}"
# the longest module name the pre-gen hook accepts: code formatted with it keeps its
# wrapping (magic trailing commas) for every shorter name
STAND_IN = "m" * 50


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
            if "{%" in text or "{{" in text.replace(MODULE, ""):
                skipped.append(path.relative_to(TEMPLATE))
                continue
            source = text.replace(MODULE, STAND_IN)
            for args in (["check", "--fix", "--quiet", "--exit-zero"], ["format", "--quiet"]):
                source = subprocess.run(
                    ["ruff", *args, "--config", str(config), "--stdin-filename", path.name, "-"],
                    input=source,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            formatted = source.replace(STAND_IN, MODULE)
            if formatted != text:
                path.write_text(formatted)
                print(f"formatted {path.relative_to(TEMPLATE)}")
        for path in skipped:
            print(f"not formatted (has Jinja logic): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
