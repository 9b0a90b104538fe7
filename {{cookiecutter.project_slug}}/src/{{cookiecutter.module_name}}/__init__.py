{%- import 'answers.jinja' as answers -%}
"""{{ answers.docstring(cookiecutter.project_name ~ ": " ~ cookiecutter.description) }}"""

__version__ = "0.1.0"
