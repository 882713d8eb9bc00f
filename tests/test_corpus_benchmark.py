"""The corpus benchmark on scikit-learn's bundled sets: its CSV and summary agree."""

import csv
import re
import statistics

import pytest

from benchmarks.corpus import (
    DATASETS,
    OUTSIDE_REGRESSIONS,
    SMALL_REGRESSIONS,
    Dataset,
    load,
    missing_message,
    summarize,
)

pytestmark = pytest.mark.benchmark

# NP small and quick: the test checks the bookkeeping, not NP's scores.
QUICK_NP = ["max_iter=2", "n_restarts=2", "ncf_steps=10", "gd_steps=20"]


def test_quick_run_writes_one_row_per_fold_and_a_consistent_summary(tmp_path):
    from benchmarks.__main__ import main

    out = tmp_path / "corpus.csv"
    main(
        ["corpus", "--quick", "--datasets", "iris", "diabetes", "--out", str(out), "--np"]
        + QUICK_NP
    )
    with open(out, newline="") as file:
        rows = list(csv.DictReader(file))
    assert set(rows[0]) >= {"dataset", "kind", "rows", "learner", "fold", "score", "fit_seconds"}
    # Quick: 2 folds, no repeats, 4 learners.
    assert len(rows) == 2 * 2 * 4
    assert {r["learner"] for r in rows} == {"np", "linear", "mlp", "hgb"}
    assert {(r["dataset"], r["kind"]) for r in rows} == {
        ("iris", "classification"),
        ("diabetes", "regression"),
    }
    assert all(float(r["fit_seconds"]) > 0 for r in rows)

    # The summary's counts, recomputed here from the CSV's rows.
    gaps = []
    for name in ("iris", "diabetes"):
        score = {
            learner: statistics.fmean(
                float(r["score"]) for r in rows if r["dataset"] == name and r["learner"] == learner
            )
            for learner in ("np", "linear", "mlp")
        }
        gaps.append(score["np"] - max(score["linear"], score["mlp"]))
    wins, ties = sum(g > 0.01 for g in gaps), sum(abs(g) <= 0.01 for g in gaps)
    text = out.with_suffix(".md").read_text()
    assert f"wins {wins}, ties {ties}, losses {2 - wins - ties}" in text
    assert f"NP >= max(linear, MLP) - 0.01: {wins + ties}/2" in text
    assert f"worst {min(gaps):+.3f}" in text
    assert re.search(r"\| iris \| scikit-learn \| 150 \| 4 \(0\) \| classification", text)
    assert summarize(rows)["datasets"] == 2


def test_np_settings_reach_the_estimator():
    from benchmarks.corpus import evaluate

    settings = {"max_iter": 1, "n_restarts": 2, "ncf_steps": 10, "gd_steps": 20}
    rows = evaluate("iris", ["np"], settings, n_splits=2, repeats=2)
    assert [(r["repeat"], r["fold"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(int(r["neurons"]) <= 2 for r in rows)  # one iteration: one neuron a layer


def test_a_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(DATASETS, "nowhere", Dataset("no-such-package", "no_such_module", None))
    assert not DATASETS["nowhere"].available()
    message = missing_message(["iris", "nowhere"])
    assert "nowhere" in message and "no-such-package" in message and ".[benchmarks]" in message
    with pytest.raises(ImportError, match="benchmarks"):
        load("nowhere")
    with pytest.raises(SystemExit, match="benchmarks"):
        from benchmarks.__main__ import main

        main(["corpus", "--quick", "--datasets", "iris", "nowhere"])


def _loaded(registry, name):
    """``load(name)``, or a skip where the dataset's package is not installed."""
    if not registry[name].available():
        pytest.skip(f"{registry[name].package} is not installed (the benchmarks extra)")
    return load(name)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_loads_without_missing_values(name):
    X, y, kind, categorical = _loaded(DATASETS, name)
    assert kind in ("regression", "classification") and len(y) == len(X) >= 100
    if hasattr(X, "isna"):
        assert not X.isna().any().any() and set(categorical) <= set(X.columns)


@pytest.mark.parametrize("name", sorted(SMALL_REGRESSIONS))
def test_every_small_regression_loads_below_the_corpus_sizes(name):
    X, y, kind, categorical = _loaded(SMALL_REGRESSIONS, name)
    assert kind == "regression" and 20 <= len(y) == len(X) <= 125
    assert not X.isna().any().any() and name not in DATASETS


@pytest.mark.parametrize("name", sorted(OUTSIDE_REGRESSIONS))
def test_every_outside_regression_loads_outside_both_sets(name):
    X, y, kind, categorical = _loaded(OUTSIDE_REGRESSIONS, name)
    assert kind == "regression" and len(y) == len(X) >= 100
    assert not X.isna().any().any() and set(categorical) <= set(X.columns)
    assert name not in DATASETS and name not in SMALL_REGRESSIONS


def test_small_runs_the_small_regressions_only(tmp_path, monkeypatch):
    from benchmarks import __main__ as command

    ran = []
    monkeypatch.setattr("benchmarks.corpus.evaluate", lambda name, *args: ran.append(name) or [])
    monkeypatch.setattr("benchmarks.corpus.missing_message", lambda names: "")  # no data read
    command.main(["corpus", "--small", "--learners", "linear"])
    assert ran == list(SMALL_REGRESSIONS)
    ran.clear()
    command.main(["corpus", "--outside", "--learners", "linear"])
    assert ran == list(OUTSIDE_REGRESSIONS)
    ran.clear()
    command.main(["corpus", "--learners", "linear"])
    assert ran == list(DATASETS)
