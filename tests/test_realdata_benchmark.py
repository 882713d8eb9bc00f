"""The real-data benchmark: NP settings reach the estimator; one row per fold."""

import csv

import numpy as np
import pytest
from conftest import fast_params

from benchmarks.realdata import DATASETS, evaluate, parse_settings, summary_table

# Tests of the benchmark tooling, not of the package: -m 'not benchmark' skips them.
pytestmark = pytest.mark.benchmark


def test_settings_are_parsed_as_python_values():
    assert parse_settings(["early_stopping=False", "max_iter=3", "device=cpu"]) == {
        "early_stopping": False,
        "max_iter": 3,
        "device": "cpu",
    }


def test_np_is_cross_validated_with_the_given_settings():
    settings = fast_params(
        max_iter=2, n_restarts=2, ncf_steps=10, gd_steps=20, early_stopping=False
    )
    rows = evaluate(DATASETS["iris"], "np", settings, n_splits=3)
    assert [r["fold"] for r in rows] == [0, 1, 2]
    assert all(r["neurons"] <= 2 * 2 for r in rows)  # depth 3: two hidden layers
    assert all(r["stop_reason"] in ("max_iter", "tol") for r in rows)
    linear = evaluate(DATASETS["diabetes"], "linear", n_splits=3)
    table = summary_table(rows + linear, ["np", "linear"])
    assert "| iris | accuracy |" in table and "| diabetes | R^2 |" in table


def test_seed_shuffles_the_folds_and_seeds_the_learners(tmp_path):
    from benchmarks.__main__ import main

    for seed in (0, 1):
        out = tmp_path / f"seed{seed}.csv"
        main(
            ["realdata", "--datasets", "iris", "--methods", "linear", "mlp"]
            + ["--seed", str(seed), "--out", str(out)]
        )
        assert f"seed {seed}," in out.with_suffix(".md").read_text()
    first, second = (_rows(tmp_path / f"seed{s}.csv") for s in (0, 1))
    # Other folds: the linear model (no randomness of its own) scores differently.
    linear = [[r["score"] for r in rows if r["method"] == "linear"] for rows in (first, second)]
    assert linear[0] != linear[1] and second[0]["seed"] == "1"
    assert evaluate(DATASETS["iris"], "linear", seed=1)[0]["score"] == float(second[0]["score"])


def test_several_seeds_are_averaged_over_their_means(tmp_path):
    from benchmarks.__main__ import main

    out = tmp_path / "both.csv"
    main(
        ["realdata", "--datasets", "iris", "--methods", "linear", "--seed", "0", "1"]
        + ["--out", str(out)]
    )
    rows = _rows(out)
    assert [r["seed"] for r in rows] == ["0"] * 5 + ["1"] * 5
    means = [np.mean([float(r["score"]) for r in rows if r["seed"] == s]) for s in "01"]
    table = out.with_suffix(".md").read_text()
    assert "seeds 0 1" in table
    assert f"| {np.mean(means):.3f} ± {np.std(means):.3f} (" in table


def _rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))
