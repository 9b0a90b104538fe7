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

VALIDATION = """## Answers in free text

`project_name`, `description` and `author_name` take any printable text up to 200 characters:
quotes, backslashes, `#`, `$`, backticks, HTML, Jinja-looking text, any script, emoji. Each
file gets the answer escaped for its syntax (`templates/answers.jinja`: quoted strings for
TOML, YAML, JSON and Python, Markdown and HTML escapes for the README and the docs site), so
the project still parses, lints clean, builds its docs and serves its OpenAPI page.

Derived defaults are always valid, whatever was typed: `project_slug` and `github_owner` are
the name transliterated to ASCII (`Seán O'Brien` gives `sean-o-brien`, `张伟` gives
`zhang-wei`), cut at a word boundary to 50 (39) characters, `unnamed-project` (`my-org`) when
nothing is left, and a slug that would start with a digit gets a `project-` prefix;
`container_registry` is `ghcr.io/` and the owner in lower case; `module_name` is the slug with
`_`, and gets a `_model` suffix when it would shadow a name listed below (`Pandas` gives
`pandas_model`).

Jinja in an answer: an answer typed at the prompt is kept as typed. cookiecutter renders every
answer given on the command line (`--no-input`, `extra_context`, a replay) as a Jinja template,
so write braces there as `{% raw %}{{ x }}{% endraw %}`. The `.cruft.json` this template writes
records such answers so that cruft, which renders them again on every update, gets them back as
typed (a project made with `cruft create` has cruft's own record, which does not).

## Validation

`hooks/pre_gen_project.py` refuses, with one line naming the answer and what would be accepted:

- a `module_name` that is not a lower-case identifier, is a keyword, is longer than 50
  characters, or shadows a standard-library module, a folder of the project or any top-level
  import name of the generated project's resolved dependencies (`mlflow`, `torch`, but also
  `requests`, `jinja2`, `PIL`, ...: `_shadowed_modules` in `cookiecutter.json`, written by
  `scripts/shadowed_modules.py` from the template's environment; a test checks it is current);
- a `project_slug` that is not a DNS-1123 label starting with a letter, or is longer than 50
  characters (it names the container image and the Kubernetes objects);
- an `author_email` that git would not keep as typed (spaces, `<`, `>`, quotes, line breaks) or
  longer than 254 characters, a `github_owner` GitHub would refuse, a `container_registry` that
  is not a lower-case `host[:port]/path`, has a port outside 1-65535 or is longer than 200
  characters;
- free text that is empty, longer than 200 characters, or holds a line break, a control
  character or another character no file can hold as text (U+2028, U+2029, bidirectional
  overrides, non-characters).

cookiecutter prints its own traceback after the hook's line ("Stopping generation because
pre_gen_project hook script didn't exit successfully"); the hook's `ERROR:` line says what to
change. A `project_slug` longer than 63 characters could not name a folder, so it is refused
while the answers are read, before cookiecutter creates anything: cookiecutter's traceback ends
with `'project_slug_is_too_long_for_a_folder_name_use_at_most_50_characters' is undefined`.
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
