"""The example's sample-data generator: determinism, size and the drift knobs."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.example.generate import DEFAULT_CUSTOMERS, DriftKnobs, generate


def test_same_seed_gives_identical_sources() -> None:
    first, second = generate(size=0.02, seed=3), generate(size=0.02, seed=3)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_size_scales_the_number_of_customers() -> None:
    frames = generate(size=0.05, seed=1)
    assert len(frames["customers"]) == int(DEFAULT_CUSTOMERS * 0.05)
    assert len(frames["transactions"]) > 5 * len(frames["customers"])


def test_age_shift_moves_ages_and_leaves_other_columns_alone() -> None:
    base = generate(size=0.1, seed=5)["customers"]
    shifted = generate(size=0.1, seed=5, drift=DriftKnobs(age_shift=10))["customers"]
    assert shifted["age"].mean() - base["age"].mean() == pytest.approx(10, abs=1.0)
    pd.testing.assert_series_equal(base["tenure_months"], shifted["tenure_months"])


def test_concept_drift_flips_labels_of_premium_customers_only() -> None:
    base = generate(size=0.1, seed=5)
    drifted = generate(size=0.1, seed=5, drift=DriftKnobs(concept_drift=1.0))
    premium = base["customers"]["plan"].eq("premium").to_numpy()
    before, after = base["labels"]["churned"].to_numpy(), drifted["labels"]["churned"].to_numpy()
    assert (before[premium] != after[premium]).all()
    assert (before[~premium] == after[~premium]).all()
