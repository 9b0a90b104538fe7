"""Any printable answer works: hostile free text lands escaped in every file, derived names stay valid.

Each baked project carries hostile values in project_name, description, author_name and
author_email at once; the projects cover every level and both frameworks.
"""

from __future__ import annotations

import ast
import email.parser
import html
import json
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import markdown
import pytest
import yaml
from helpers import (
    ACTIONS_EXPRESSION,
    ALERT_TEMPLATE,
    ANSWER_MACROS,
    JINJA,
    TEMPLATE,
    assert_ruff_clean,
    bake_project,
    git,
    jinja_literal,
    parse_generated,
    project_files,
    setup_project,
    user_env,
)

FREE_TEXT = ("project_name", "description", "author_name", "author_email")
LONGEST = "Ω" + "x" * 198 + "😀"  # 200 characters: the most the hook allows

# One dict per baked project; every value is one hostile-but-valid answer.
HOSTILE: list[dict[str, str]] = [
    {
        "project_name": "Seán O'Brien's \"Churn\" Model",
        "description": 'He said "stop" \\ then left: a \\"quoted\\" path C:\\Users\\churn\\',
        "author_name": "Seán O'Brien",
        "author_email": "o'brien+ml@example.co.uk",
    },
    {
        "project_name": "{{ cookiecutter.project_slug }} {% raw %}x{% endraw %} {# note #}",
        "description": "Literal Jinja: {{ 7 * 7 }} and {% if true %}yes{% endif %} stay as typed",
        "author_name": "张伟",
        "author_email": "zhang.wei@example.cn",
    },
    {
        "project_name": "<script>alert('x')</script> & <b>bold</b>",
        "description": '<img src=x onerror="alert(1)"> <!-- comment --> ]]> &amp; &lt;',
        "author_name": "Ελληνικά Παπαδόπουλος",
        "author_email": "eleni_p@example.gr",
    },
    {
        "project_name": "العربية للتنبؤ",
        "description": "نموذج للتنبؤ بفقدان العملاء — mixed with English",
        "author_name": "محمد بن سلمان",
        "author_email": "m.salman@example.sa",
    },
    {
        "project_name": "Churn 🚀📉 Forecast 👨‍👩‍👧",
        "description": "Emoji everywhere 😀 🎉 🇺🇳 and a ZWJ family 👨‍👩‍👧",
        "author_name": "😀",
        "author_email": "emoji-fan@example.io",
    },
    {
        "project_name": "$HOME $(rm -rf /) `uname` ${{ secrets.TOKEN }}",
        "description": "50% of $$ in $(MAKE) # not a comment; echo `id` && exit 1",
        "author_name": "Robert'); DROP TABLE students;--",
        "author_email": "bobby.tables@example.org",
    },
    {
        "project_name": "\"\"\"triple\"\"\" and '''single''' quotes",
        "description": '\'; exec("import os") # \\N{BULLET} \\x00 \\u0041 \\n \\t',
        "author_name": 'Renée "The Boss" D\'Arcy \\',
        "author_email": "renee.darcy@example.fr",
    },
    {
        "project_name": "2024: key: [1, 2] {a: b} &anchor *alias !!python/object",
        "description": "- starts like a list item, with a YAML: colon and a trailing #",
        "author_name": "O'Connor-Smith, Jr. (Dr.)",
        "author_email": "x{y}z@example.com",
    },
    {
        "project_name": "# Not a heading | a | b | **bold** _it_ [link](javascript:alert(1))",
        "description": "1. starts like an ordered list; ![img](x) ~~strike~~ <https://example.com>",
        "author_name": "Dvořák Zoë Ünïcödé \uff26\uff55\uff4c\uff4c (fullwidth)",
        "author_email": "dvorak@example.cz",
    },
    {
        "project_name": "Customer Churn \N{EN DASH} v2 \N{MULTIPLICATION SIGN} \N{LEFT DOUBLE QUOTATION MARK}quotes\N{RIGHT DOUBLE QUOTATION MARK} \N{LEFT SINGLE QUOTATION MARK}single\N{RIGHT SINGLE QUOTATION MARK} O\N{RIGHT SINGLE QUOTATION MARK}Brien",
        "description": "Confusables for ruff: \N{EN DASH} \N{EM DASH} \N{MULTIPLICATION SIGN} \N{RIGHT SINGLE QUOTATION MARK} \N{GREEK CAPITAL LETTER RHO} \N{FULLWIDTH LATIN SMALL LETTER A} and a no-break space between a\u00a0b",
        "author_name": "Jean-Luc Picard\u00a0III",
        "author_email": "picard@example.com",
    },
    {
        "project_name": "Pandas",
        "description": "%(name)s {0} %s {} {{}} null true ~ 0x1F 1e10 NaN",
        "author_name": "null",
        "author_email": "null@example.com",
    },
    {
        "project_name": LONGEST,
        "description": "D" * 199 + "\\",
        "author_name": "A" * 200,
        "author_email": "a" * 64 + "@" + "b" * 60 + ".example.com",
    },
]
PLACES = [("1", "sklearn"), ("2", "pytorch"), ("3", "sklearn"), ("1", "pytorch"), ("2", "sklearn"), ("3", "pytorch")]


def bake_hostile(output: Path, index: int) -> tuple[Path, dict[str, str]]:
    answers = HOSTILE[index]
    level, framework = PLACES[index % len(PLACES)]
    licenses = ("MIT", "BSD-3-Clause", "Proprietary", "Apache-2.0")
    context = {key: jinja_literal(value) for key, value in answers.items()}
    context |= {"maturity_level": level, "model_framework": framework, "license": licenses[index % len(licenses)]}
    project = bake_project(output, **context)
    return project, answers


def rendered_forms(value: str) -> list[str]:
    """Every form the answer takes in a generated file, longest first."""
    forms = {
        value,
        ANSWER_MACROS.quoted(value)[1:-1],
        ANSWER_MACROS.html_quoted(value)[1:-1],
        ANSWER_MACROS.python_str(value)[1:-1],
        ANSWER_MACROS.docstring(value),
        ANSWER_MACROS.markdown(value),
    }
    return sorted((form for form in forms if form), key=len, reverse=True)


class Headings(HTMLParser):
    """Text of each <h1>, <p> and <title>, without MkDocs' permalink anchors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, list[str]] = {"h1": [], "p": [], "title": []}
        self.open: str | None = None
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.texts and self.open is None:
            self.open = tag
            self.texts[tag].append("")
        elif tag == "a" and ("class", "headerlink") in attrs:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self.open:
            self.open = None
        elif tag == "a" and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.open and not self.skip:
            self.texts[self.open][-1] += data


def html_texts(page: str) -> dict[str, list[str]]:
    parser = Headings()
    parser.feed(page)
    return parser.texts


def fastapi_call(app_source: str) -> dict[str, Any]:
    """The literal keyword arguments of the FastAPI(...) call in serving/app.py."""
    for node in ast.walk(ast.parse(app_source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FastAPI":
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if isinstance(kw.value, ast.Constant)}
    raise AssertionError("no FastAPI(...) call in serving/app.py")


def test_the_corpus_has_forty_hostile_answers_across_levels_and_frameworks() -> None:
    assert sum(len(answers) for answers in HOSTILE) >= 40
    assert {PLACES[i % len(PLACES)] for i in range(len(HOSTILE))} == set(PLACES)


@pytest.mark.parametrize("index", range(len(HOSTILE)), ids=lambda i: f"project{i}")
def test_hostile_answers_land_escaped_in_every_file(tmp_path: Path, index: int) -> None:
    project, answers = bake_hostile(tmp_path / "out", index)
    name, description, author = answers["project_name"], answers["description"], answers["author_name"]
    forms = [form for value in answers.values() for form in rendered_forms(value)]

    for file in project_files(project):
        text = (project / file).read_text(encoding="utf-8")
        parse_generated(file, text)
        if file == ".cruft.json":
            continue  # answers are recorded there as Jinja that renders to them (checked below)
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "")
        checked = ACTIONS_EXPRESSION.sub("", text)
        if file.startswith("deploy/monitoring/"):
            checked = ALERT_TEMPLATE.sub("", checked)
        assert not JINJA.findall(checked), f"{file} still holds template syntax"

    assert_ruff_clean(project)
    # the Makefile (the name sits in its first comment) still parses
    make = subprocess.run(["make", "-n", "help"], cwd=project, capture_output=True, text=True, check=False)
    assert make.returncode == 0, make.stderr

    # each file reads the answer back exactly, literal Jinja included
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["description"] == description
    assert pyproject["authors"] == [{"name": author, "email": answers["author_email"]}]
    app = fastapi_call(next(project.glob("src/*/serving/app.py")).read_text(encoding="utf-8"))
    assert app["title"] == f"{name} prediction service"
    assert app["description"] == description
    package = ast.parse(next(project.glob("src/*/__init__.py")).read_text(encoding="utf-8"))
    assert ast.get_docstring(package, clean=False) == f"{name}: {description}".strip()
    mkdocs_config = yaml.safe_load((project / "mkdocs.yml").read_text(encoding="utf-8"))
    assert html.unescape(mkdocs_config["site_name"]) == name
    assert html.unescape(mkdocs_config["site_description"]) == description
    dashboard = project / "deploy/monitoring/grafana-dashboard.json"
    if dashboard.exists():
        assert json.loads(dashboard.read_text(encoding="utf-8"))["title"] == f"{name} prediction service"
    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    assert author in license_text or "Apache License" in license_text
    committer = subprocess.run(
        ["git", "log", "-1", "--format=%ae"], cwd=project, capture_output=True, text=True, check=True
    )
    assert committer.stdout.strip() == answers["author_email"]  # git kept the e-mail as typed
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    for key in FREE_TEXT:
        assert jinja2.Environment().from_string(recorded[key]).render() == answers[key], key

    # the README shows the name and the description as typed: no markup, HTML escaped
    readme = html_texts(markdown.markdown((project / "README.md").read_text(encoding="utf-8")))
    assert readme["h1"][0] == name.strip()
    assert readme["p"][0] == description.strip()
    for raw in ("<script>", "<img", "<b>"):
        assert raw not in (project / "README.md").read_text(encoding="utf-8")

    # the docs site builds strictly and shows them the same way
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    home = (site / "index.html").read_text(encoding="utf-8")
    texts = html_texts(home)
    assert texts["title"][0].strip() == name.strip()
    assert texts["h1"][0].strip() == name.strip()
    assert texts["p"][0] == description.strip()
    for raw in ("<script>alert", "<img src=x", "<b>bold"):
        assert raw not in home

    # the package metadata builds and carries the answers
    metadata_dir = tmp_path / "metadata"
    metadata_dir.mkdir()
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))",
            str(metadata_dir),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    dist_info = metadata_dir / built.stdout.strip().splitlines()[-1]
    metadata = email.parser.Parser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8"))
    assert metadata["Summary"] == description
    assert metadata["Name"] == project.name


@pytest.mark.parametrize(
    ("answers", "derived"),
    [
        (
            {"author_name": "Seán O'Brien"},
            {"github_owner": "sean-o-brien", "container_registry": "ghcr.io/sean-o-brien"},
        ),
        ({"author_name": "张伟"}, {"github_owner": "zhang-wei"}),
        ({"author_name": "😀"}, {"github_owner": "my-org", "container_registry": "ghcr.io/my-org"}),
        ({"author_name": "A" * 60}, {"github_owner": "a" * 39}),
        ({"project_name": "2024 Churn"}, {"project_slug": "project-2024-churn", "module_name": "project_2024_churn"}),
        ({"project_name": "🚀"}, {"project_slug": "unnamed-project", "module_name": "unnamed_project"}),
        ({"project_name": "Ελληνικά"}, {"project_slug": "ellenika", "module_name": "ellenika"}),
        ({"project_name": "Pandas"}, {"project_slug": "pandas", "module_name": "pandas_model"}),
        ({"project_name": "JSON"}, {"module_name": "json_model"}),
        ({"project_name": "Test"}, {"module_name": "test_model"}),
        ({"project_name": "Class"}, {"module_name": "class_model"}),
        ({"project_name": "x" * 30 + " " + "y" * 30}, {"project_slug": "x" * 30}),
        ({"project_name": "a" * 200}, {"project_slug": "a" * 50, "module_name": "a" * 50}),
        ({"github_owner": "Jane-Doe"}, {"container_registry": "ghcr.io/jane-doe"}),
    ],
    ids=lambda value: str(value)[:40],
)
def test_names_derived_from_free_text_are_valid(
    tmp_path: Path, answers: dict[str, str], derived: dict[str, str]
) -> None:
    project = bake_project(tmp_path, **answers)
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    assert {key: recorded[key] for key in derived} == derived


SLOW_PROJECTS = [1, 2, 6]


@pytest.mark.slow
@pytest.mark.parametrize("index", SLOW_PROJECTS, ids=lambda i: f"project{i}")
def test_hostile_project_installs_and_serves_its_openapi_page(tmp_path: Path, index: int) -> None:
    """Set up by its own `make setup` (never into this environment), then the app's /openapi.json."""
    project, answers = bake_hostile(tmp_path / "out", index)
    setup_project(project)
    python = str(project / ".venv/bin/python")
    env = user_env(project)
    module = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]["module_name"]
    fetch = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        f"from {module}.serving.app import create_app\n"
        "with TestClient(create_app()) as client:\n"
        "    response = client.get('/openapi.json')\n"
        "print(json.dumps({'status': response.status_code, 'info': response.json()['info']}))\n"
    )
    served = subprocess.run(
        [python, "-c", fetch], cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert served.returncode == 0, served.stderr[-3000:]
    page = json.loads(served.stdout.strip().splitlines()[-1])
    assert page["status"] == 200
    assert page["info"]["title"] == f"{answers['project_name']} prediction service"
    assert page["info"]["description"] == answers["description"]


@pytest.mark.parametrize("author", [".", "<>", "'\"'", "\\"])
def test_an_author_git_cannot_take_still_gets_a_repository(tmp_path: Path, author: str) -> None:
    project = bake_project(tmp_path, author_name=author)
    assert git(project, "log", "--format=%an").split() == ["my-org"]  # the derived GitHub owner stands in for the name
    assert author in (project / "LICENSE").read_text(encoding="utf-8")


def test_jinja_typed_at_the_prompt_is_kept_as_typed(tmp_path: Path) -> None:
    """Only answers given with --no-input are rendered by cookiecutter; typed ones stay literal."""
    name = "My {{ x }} name {% if %}"
    prompts = sum(1 for key in json.loads((TEMPLATE / "cookiecutter.json").read_text()) if not key.startswith("_"))
    typed = name + "\n" + "\n" * prompts  # the name, then every default
    result = subprocess.run(
        ["cookiecutter", "-o", str(tmp_path), str(TEMPLATE)], input=typed, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    project = tmp_path / "my-x-name-if"
    assert (project / "README.md").read_text(encoding="utf-8").startswith(f"# {ANSWER_MACROS.markdown(name)}\n")
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    assert jinja2.Environment().from_string(recorded["project_name"]).render() == name
