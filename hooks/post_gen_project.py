"""Finish the generated project: prune by maturity flags, record answers, init git.

Folders that a maturity level does not use are removed here (single optional
files use conditional names instead). Jinja appears only inside string
literals so this file stays valid Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CONTEXT: dict[str, object] = json.loads(r"""{{ cookiecutter | tojson }}""")

# folder -> private flags that keep it; an empty value of any of them removes the folder
OPTIONAL_FOLDERS: dict[str, str | tuple[str, ...]] = {
    ".dvc": "__automated",
    ".github": "__github_ci",
    ".github/actions/promote": "__cd",
    ".gitlab": ("__gitlab_ci", "__cd"),
    "ci": "__automated",
    "deploy": "__cd",
    "feature_repo": "__feast",  # its files are named for the flag; this removes the emptied folder
    f"src/{CONTEXT['module_name']}/monitoring": "__automated",
    f"src/{CONTEXT['module_name']}/prediction_log": "__automated",
    "tests/monitoring": "__automated",
}


def prune(project: Path) -> None:
    for folder, flags in OPTIONAL_FOLDERS.items():
        if not all(CONTEXT.get(flag) for flag in ((flags,) if isinstance(flags, str) else flags)):
            shutil.rmtree(project / folder, ignore_errors=True)


def template_source() -> tuple[str, str | None]:
    """Where the template came from, in a form `cruft update` can fetch, and its commit."""
    template = str(CONTEXT.get("_template", ""))
    repo_dir = Path(str(CONTEXT.get("_repo_dir", "")))
    if template.startswith("gh:"):
        template = f"https://github.com/{template[3:]}.git"
    else:
        # a relative local path is relative to where cookiecutter was started
        for candidate in (Path(template).expanduser(), Path(os.environ.get("PWD", ".")) / template):
            if (candidate / "cookiecutter.json").is_file():
                template = str(candidate.resolve())
                repo_dir = candidate.resolve()
                break
    commit = None
    if shutil.which("git") and (repo_dir / ".git").exists():
        result = subprocess.run(
            ["git", "-C", str(repo_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        commit = result.stdout.strip() or None
    return template, commit


def jinja_literal(answer: str) -> str:
    """The answer as a Jinja template that renders to itself.

    cruft renders every recorded answer again before it regenerates the project, so an answer
    holding a Jinja delimiter is recorded with each opening brace written as an expression.
    (The braces are spelled out so this hook, itself rendered by Jinja, holds no delimiter.)
    """
    brace = "{"
    if not any(brace + mark in answer for mark in (brace, "%", "#")):
        return answer
    return answer.replace(brace, brace * 2 + f" '{brace}' " + "}" * 2)


def write_answers(project: Path) -> None:
    """Write .cruft.json so `cruft check` / `cruft update` work on this project."""
    template, commit = template_source()
    answers = {
        key: jinja_literal(value) if isinstance(value, str) and not key.startswith("_") else value
        for key, value in CONTEXT.items()
        if not key.startswith("__") and key not in {"_output_dir", "_repo_dir", "_shadowed_modules"}
    }
    answers["_template"] = template
    state = {
        "template": template,
        "commit": commit,
        "checkout": CONTEXT.get("_checkout"),
        "context": {"cookiecutter": answers},
        "directory": None,
    }
    (project / ".cruft.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def git_name(author: str) -> str:
    """The author as git takes it: git refuses a name made only of characters it drops."""
    if author.strip(" .,:;<>\"\\'"):
        return author
    return str(CONTEXT["github_owner"])


def init_git(project: Path) -> bool:
    """Create a `main` repository with one commit; never depends on the user's git config."""
    if shutil.which("git") is None or (project / ".git").exists():
        return False
    identity = [
        "-c", f"user.name={git_name(str(CONTEXT['author_name']))}",
        "-c", f"user.email={CONTEXT['author_email']}",
        "-c", "commit.gpgsign=false",
        "-c", "core.hooksPath=/dev/null",
    ]  # fmt: skip
    steps = [
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", *identity, "add", "--all"],
        ["git", *identity, "commit", "--quiet", "--no-verify", "-m", "Initial commit from the MLOps template"],
    ]
    for step in steps:
        if subprocess.run(step, cwd=project, capture_output=True, check=False).returncode != 0:
            print(
                f"warning: '{' '.join(step[:2])} {step[-1]}' failed; the project is generated without git.",
                file=sys.stderr,
            )
            return False
    return True


def rendered_by_cruft() -> bool:
    """cruft renders through cookiecutter's generate_files, which records no output dir.

    `cruft update` renders the old and the new template into temporary folders and diffs
    them, and `cruft create` writes its own .cruft.json: either way cruft owns the state,
    so no answers file, no git repository and no instructions are produced.
    """
    return "_output_dir" not in CONTEXT


def main() -> None:
    project = Path.cwd()
    prune(project)
    if rendered_by_cruft():
        return
    write_answers(project)
    init_git(project)
    setup = "make setup"
    pipeline = "make pipeline"
    print(f"\nCreated {project.name} at maturity level {CONTEXT['maturity_level']}. Next:\n")
    print(f"    cd {project.name}")
    print(f"    {setup}      # virtual environment + dependencies")
    print(f"    {pipeline}   # sample data -> validation -> features -> model -> evaluation\n")


if __name__ == "__main__":
    main()
