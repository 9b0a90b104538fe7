"""Fixtures for the template tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import Bake


@pytest.fixture
def bake(cookies: Any) -> Bake:
    """Bake with the given answers; fail the test with cookiecutter's error when baking fails."""

    def _bake(**answers: str) -> Path:
        result = cookies.bake(extra_context=answers)
        assert result.exit_code == 0, result.exception
        return Path(result.project_path)

    return _bake
