"""The real-data benchmark: NP settings reach the estimator; one row per fold."""

from benchmarks.realdata import DATASETS, evaluate, parse_settings, summary_table


def test_settings_are_parsed_as_python_values():
    assert parse_settings(["early_stopping=False", "max_iter=3", "device=cpu"]) == {
        "early_stopping": False,
        "max_iter": 3,
        "device": "cpu",
    }


def test_np_is_cross_validated_with_the_given_settings():
    settings = dict(max_iter=2, n_restarts=2, ncf_steps=10, gd_steps=20, early_stopping=False)
    rows = evaluate(DATASETS["iris"], "np", settings, n_splits=3)
    assert [r["fold"] for r in rows] == [0, 1, 2]
    assert all(r["neurons"] <= 2 * 2 for r in rows)  # depth 3: two hidden layers
    assert all(r["stop_reason"] in ("max_iter", "tol") for r in rows)
    linear = evaluate(DATASETS["diabetes"], "linear", n_splits=3)
    table = summary_table(rows + linear, ["np", "linear"])
    assert "| iris | accuracy |" in table and "| diabetes | R^2 |" in table
