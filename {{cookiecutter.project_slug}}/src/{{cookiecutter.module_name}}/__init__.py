{%- import 'answers.jinja' as answers -%}
"""{{ answers.docstring(cookiecutter.project_name ~ ": " ~ cookiecutter.description) }}"""

from importlib import metadata

try:  # pyproject.toml holds the version; the installed metadata carries it here, to the API and the image
    __version__ = metadata.version("{{ cookiecutter.project_slug }}")
except metadata.PackageNotFoundError:  # sources on the path without being installed
    __version__ = "0+unknown"
