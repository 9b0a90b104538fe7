"""Write docs/options.md from cookiecutter.json, so the options page cannot drift from the prompts.

`--check` exits non-zero when the committed page differs from what this script writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "options.md"

INTRO = """# Options

Generated from `cookiecutter.json` by `make docs`: the prompts, their help text and their
choices, in the order cookiecutter asks them. Pass any of them on the command line:

```bash
cookiecutter --no-input gh:<org>/<repo> project_name="Fraud Scores" maturity_level=3 model_framework=pytorch
```

Defaults that are computed from earlier answers show the expression. Every answer is checked
before anything is written (see [Validation](#validation)).
"""

VALIDATION = """## Validation

`hooks/pre_gen_project.py` refuses, with one line naming the answer and what would be accepted:

- a `module_name` that is not a lower-case identifier, is a keyword, is longer than 50
  characters, or shadows a standard-library module or a dependency (`mlflow`, `dvc`, `torch`, ...);
- a `project_slug` that is not a DNS-1123 label starting with a letter, or is longer than 50
  characters (it names the container image and the Kubernetes objects);
- an `author_email` that is not an e-mail address, a `github_owner` GitHub would refuse, a
  `container_registry` that is not a lower-case registry path, and empty or multi-line free text.

Choices outside the lists above are refused by cookiecutter itself. Nothing is left on disk
after a refusal.
"""


def row(cells: list[str]) -> str:
    """A Markdown table row; pipes inside Jinja expressions are escaped."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def render(context: dict) -> str:
    prompts = context.get("__prompts__", {})
    lines = [INTRO, "| option | question | default | choices |", "|---|---|---|---|"]
    for key, value in context.items():
        if key.startswith("_"):
            continue
        prompt = prompts.get(key, key)
        question = prompt["__prompt__"] if isinstance(prompt, dict) else prompt
        if isinstance(value, list):
            labels = prompt if isinstance(prompt, dict) else {}
            default = value[0]
            choices = "<br>".join(f"`{choice}`: {labels.get(choice, choice)}" for choice in value)
        else:
            default, choices = value, "free text"
        lines.append(row([f"`{key}`", question, f"`{default}`", choices]))
    lines += ["", "## Derived settings", ""]
    lines.append("Computed once from the answers; template files test these, never the level number.")
    lines += ["", "| flag | value |", "|---|---|"]
    for key, value in context.items():
        if key.startswith("__") and key != "__prompts__":
            lines.append(row([f"`{key}`", f"`{value}`"]))
    lines += ["", VALIDATION]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    page = render(json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8")))
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE.relative_to(ROOT)} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
