"""Smoke test of the benchmark suite: quick mode of every task, resume, report."""

import csv
import math

import numpy as np
import pytest
import torch

from benchmarks.__main__ import main
from benchmarks.report import TABLE_END, TABLE_START, NoRows, compare_table, load, results_table
from benchmarks.tasks import TASKS
from benchmarks.theory import diagonal_problem, np_selection, omp_selection
from skneuronpursuit import PursuitOptions

# Tests of the benchmark tooling, not of the package: -m 'not benchmark' skips them.
pytestmark = pytest.mark.benchmark


def test_quick_mode_of_every_task_resumes_and_reports(tmp_path):
    argv = ["run", "--all", "--quick", "--seeds", "1", "--results", str(tmp_path)]
    assert main(argv) == 0
    rows = load(tmp_path / "quick")
    assert {(r["task"], r["method"]) for r in rows} == {
        (task, method) for task in TASKS for method in ("np", "gd", "mlp")
    }
    for row in rows:
        assert math.isfinite(row["test_error"]) and row["fit_seconds"] > 0
        assert row["machine"]
        if row["method"] == "np":
            assert row["np_iterations"] >= 1

    # Resume: a second run finds every row done and fits nothing.
    assert main(argv) == 0
    assert len(load(tmp_path / "quick")) == len(rows)

    table = results_table(load(tmp_path / "quick"))
    assert all(f"| {task} |" in table for task in TASKS)
    assert "| modadd-59 | NP |" in table and "sign accuracy" in table
    assert "Fit time of NP and sklearn's MLP" in table

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{TABLE_START}\nold\n{TABLE_END}\noutro\n")
    pytest.importorskip("matplotlib")
    report = ["report", "--mode", "quick", "--results", str(tmp_path)]
    report += ["--figures", str(tmp_path / "figures"), "--readme", str(readme)]
    assert main(report) == 0
    text = readme.read_text()
    assert "old" not in text and table in text and text.startswith("intro")
    assert (tmp_path / "figures" / "error_vs_n.png").stat().st_size > 0


def _row(method, n, seed, test_error, **extra):
    row = dict(task="sphere-f1", method=method, mode="full", n=n, seed=seed, train_error=0.0)
    row.update(test_error=test_error, fit_seconds=1.0, neurons=3, np_iterations=None)
    row.update(descent_violations=None, detail="", machine="test machine", commit="x")
    row.update(extra)
    return row


def test_report_of_an_incomplete_run_flags_short_points(tmp_path):
    # NP: 5 seeds at n=100 (median 0.2), 2 at n=200 (median 0.05); GD only n=100.
    np_rows = [
        _row("np", 100, s, e, np_iterations=4, descent_violations=1)
        for s, e in enumerate([0.1, 0.2, 0.2, 0.3, 0.4])
    ]
    np_rows += [_row("np", 200, s, 0.05, np_iterations=4, descent_violations=0) for s in range(2)]
    gd_rows = [_row("gd", 100, s, 0.5) for s in range(5)]
    table = results_table(np_rows + gd_rows)
    line = next(line for line in table.splitlines() if line.startswith("| sphere-f1"))
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    # task, largest common n, seeds, NP n*/error/s, GD n*/error/s, NP not lowered
    assert cells[:4] == ["sphere-f1", "100", "5", "200"]
    assert cells[6] == "> 100" and cells[7] == "0.5" and cells[-1] == "5 / 28"
    assert "sphere-f1 NP n=200 (2)" in table

    pytest.importorskip("matplotlib")
    from benchmarks.report import save_figures

    save_figures(np_rows + gd_rows, tmp_path / "no-models", tmp_path)
    assert (tmp_path / "error_vs_n.png").stat().st_size > 0


def test_compare_pairs_two_methods_on_the_same_fits(tmp_path, capsys):
    before = [_row("np", 100, s, e) for s, e in enumerate([0.1, 0.2, 0.3])]
    after = [_row("np-momentum", 100, s, e) for s, e in enumerate([0.05, 0.3, 0.1])]
    after.append(_row("np-momentum", 200, 0, 0.01))  # no NP fit to pair it with
    [line] = compare_table(before, after, methods=("np", "np-momentum")).splitlines()[2:]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    pair = "NP -> NP, gd_momentum=0.9"
    assert cells[:7] == ["sphere-f1", pair, "100", "3", "0.2", "0.1", "1"]
    with pytest.raises(NoRows, match="no fit"):  # each method with itself: none
        compare_table(before, after)

    # The opt-in method runs from the command line, and compare pairs it with NP.
    argv = ["run", "--task", "sphere-f1", "--quick", "--seeds", "1", "--results", str(tmp_path)]
    assert main(argv + ["--methods", "np", "np-momentum"]) == 0
    assert {r["method"] for r in load(tmp_path / "quick")} == {"np", "np-momentum"}
    capsys.readouterr()
    folder = str(tmp_path / "quick")
    assert main(["compare", folder, folder, "--methods", "np", "np-momentum"]) == 0
    assert "| sphere-f1 | NP -> NP, gd_momentum=0.9 | 200 | 1 |" in capsys.readouterr().out


def test_report_and_compare_refuse_folders_without_rows(tmp_path, capsys):
    # A mistyped folder replaced the published table with an empty one, and exited 0.
    readme = tmp_path / "results.md"
    readme.write_text(f"{TABLE_START}\nkept\n{TABLE_END}\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "omp.csv").write_text("problem,np_order\n0,x\n")  # not the runner's
    for argv in (
        ["report", "--results", str(tmp_path), "--readme", str(readme)],
        ["report", "--results", str(tmp_path / "typo"), "--paper"],
        ["compare", str(tmp_path / "full"), str(tmp_path / "typo")],
    ):
        with pytest.raises(SystemExit, match="no rows of `python -m benchmarks run`"):
            main(argv)
    assert "kept" in readme.read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["corpus", "--folds", "1", "--datasets", "iris"], None),  # argparse: exit 2
        (["corpus", "--datasets", "iris", "--np", "nosuch=1"], "unknown setting 'nosuch'"),
        (["converge", "--datasets", "diabetes"], "early_stopping=False"),
        (["realdata", "--datasets", "diabetes", "--readme", "MISSING.md"], "not a file"),
    ],
)
def test_bad_benchmark_arguments_are_refused_before_any_fit(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    said = str(raised.value.code) + capsys.readouterr().err
    assert ("at least 2 folds" if message is None else message) in said


def test_a_task_of_one_size_runs_whatever_sizes_are_asked():
    from benchmarks.runner import chosen_sizes
    from benchmarks.tasks import TASKS

    assert chosen_sizes(TASKS["pvr"], False, [3200]) == list(TASKS["pvr"].sizes)
    assert chosen_sizes(TASKS["modadd-59"], False, [100]) == [None]
    assert chosen_sizes(TASKS["sphere-f1"], False, [100, 7]) == [100]
    assert chosen_sizes(TASKS["sphere-f1"], True, [1600]) == []


def test_np_on_a_diagonal_linear_network_selects_like_omp():
    X, y = diagonal_problem(seed=0)
    assert np_selection(X, y, 3, gd_steps=3000, step_size=0.2) == omp_selection(X, y, 3)


def test_speed_profile_splits_the_fit_time_from_the_history():
    from benchmarks.speed import profile

    result = profile("sphere-f1", "cpu")
    assert result["gd_steps"] > 0 and result["gflops"] > 0
    assert 0 < result["search"] and 0 < result["gd"]
    assert result["search"] + result["gd"] <= result["total"]


def test_sparse_input_comparison_times_both_kinds_of_step():
    from benchmarks.sparse_inputs import compare

    ((width, parts),) = compare(widths=(5,), repeats=1).items()
    assert width == 5 and set(parts) == {"gd", "search"}
    assert all(t > 0 for part in parts.values() for t in part.values())


def test_step_costs_time_every_kind_of_inner_step():
    from benchmarks.steps import ASCENT, DESCENT, FIRST, LM, measure

    results = measure(repeats=1, steps_scale=0.02)
    assert len(results) == len(DESCENT) + len(ASCENT) + len(FIRST) + len(LM)
    kinds = {kind for kind, _, _ in results}
    assert kinds == {"gradient descent", "NCF ascent", "first search", "Levenberg-Marquardt"}
    assert all(microseconds > 0 for _, _, microseconds in results)


def test_every_benchmark_module_imports():
    # They import engine internals (docs/engineering.md): a rename must fail here.
    import importlib
    import pathlib

    import benchmarks

    for path in sorted(pathlib.Path(benchmarks.__file__).parent.glob("*.py")):
        importlib.import_module(f"benchmarks.{path.stem}")


def test_the_step_given_to_torch_compile_is_the_engines_gd_step():
    from benchmarks.compiled_gd import RELU, gd_step
    from skneuronpursuit._kernels.gradient_descent import lay_out, run_window
    from skneuronpursuit._kernels.network import loss

    generator = torch.Generator().manual_seed(3)
    X = torch.randn(50, 4, dtype=torch.float64, generator=generator)
    Y = torch.randn(50, 1, dtype=torch.float64, generator=generator)
    ones = torch.ones(50, dtype=torch.float64)
    sizes = [4, 8, 6, 5, 1]
    weights = [
        torch.randn(sizes[i + 1], sizes[i], dtype=torch.float64, generator=generator)
        for i in range(4)
    ]
    data = lay_out(X, Y, ones)
    engine = [w.clone() for w in weights]
    run_window(engine, data, RELU, 0.01, 1)
    stepped, start_loss = gd_step(*weights, data.X, data.Y, torch.tensor(1.0 / 50), 0.01)
    assert not any(torch.equal(new, old) for new, old in zip(stepped, weights))
    for ours, theirs in zip(stepped, engine):
        torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(start_loss, loss(weights, X, Y, ones, RELU))


def test_two_fits_on_the_same_device_grow_the_same_network():
    from benchmarks.devices import compare, first_difference, row

    ours, theirs = compare("sphere-f1", "cpu", size=200, quick=True)
    assert ours.layers[0] is None and len(ours.layers) >= 2
    assert first_difference(ours.layers, theirs.layers) is None
    assert (ours.widths, ours.train_error, ours.test_error) == (
        theirs.widths,
        theirs.train_error,
        theirs.test_error,
    )
    assert "| sphere-f1 | float64 | yes |" in row("sphere-f1", "float64", ours, theirs)


def test_first_difference_names_the_iteration_where_two_growths_part():
    from benchmarks.devices import first_difference

    assert first_difference([None, 1, 2], [None, 1, 2]) is None
    assert first_difference([None, 1, 2], [None, 2, 2]) == 2
    assert first_difference([None, 1], [None, 1, 1]) == 3


def test_a_results_file_left_empty_by_a_killed_run_gets_its_header(tmp_path):
    (tmp_path / "quick").mkdir()
    (tmp_path / "quick" / "sphere-f1.csv").touch()
    argv = ["run", "--task", "sphere-f1", "--quick", "--seeds", "1", "--methods", "mlp"]
    assert main(argv + ["--results", str(tmp_path)]) == 0
    [row] = load(tmp_path / "quick")
    assert (row["task"], row["method"], row["seed"]) == ("sphere-f1", "mlp", 0)


def test_dominant_frequency_share_tells_fourier_rows_from_random_rows():
    from types import SimpleNamespace

    from benchmarks.report import dominant_frequency_share

    rng = np.random.RandomState(0)
    residues = np.arange(59)
    fourier = [
        np.r_[
            np.cos(2 * np.pi * f * residues / 59 + rng.uniform(0, 6)),
            np.cos(2 * np.pi * f * residues / 59 + rng.uniform(0, 6)),
            0.3,
        ]
        for f in (1, 7, 29)
    ]
    share, count = dominant_frequency_share(SimpleNamespace(coefs_=[np.array(fourier).T]))
    assert count == 3 and share > 0.999
    share, _ = dominant_frequency_share(SimpleNamespace(coefs_=[rng.standard_normal((119, 20))]))
    assert share < 0.3


def test_compare_table_pairs_the_same_fits_and_counts_worse_seeds():
    from benchmarks.report import compare_table

    def row(seed, error, seconds, task="cube-f1"):
        return dict(
            task=task, method="np", n=3200, seed=seed, test_error=error, fit_seconds=seconds
        )

    before = [row(0, 0.1, 10.0), row(1, 0.2, 20.0), row(0, 0.5, 1.0, task="pvr")]
    after = [row(0, 0.1, 4.0), row(1, 0.3, 6.0), row(2, 0.9, 1.0)]
    lines = compare_table(before, after).splitlines()
    assert len(lines) == 3  # header, separator, cube-f1 only: pvr and seed 2 are unpaired
    assert lines[2] == "| cube-f1 | NP | 3200 | 2 | 0.15 | 0.2 | 1 | 15.0 | 5.0 |"


def test_stop_at_zero_training_error_stops_at_the_first_perfect_network():
    pytest.importorskip("sklearn.callback")
    from sklearn.datasets import make_blobs

    from benchmarks.speed import StopAtZeroTrainingError
    from skneuronpursuit import NeuronPursuitClassifier, PursuitOptions

    X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=1)
    options = PursuitOptions(ncf_steps=50)
    params = dict(n_restarts=4, options=options, gd_steps=200, max_iter=30, random_state=0)
    clf = NeuronPursuitClassifier(**params).set_callbacks(StopAtZeroTrainingError(y)).fit(X, y)
    assert clf.stop_reason_ == "callback" and np.all(clf.predict(X) == y)
    earlier = NeuronPursuitClassifier(**{**params, "max_iter": clf.n_iter_ - 1}).fit(X, y)
    assert np.any(earlier.predict(X) != y)


def test_dtype_comparison_gives_a_row_per_dataset_and_dtype():
    from benchmarks.dtypes import compare

    rows = compare(datasets=("iris",), seeds=1, max_iter=2, ncf_steps=20, gd_steps=50)
    assert [(r["dataset"], r["dtype"]) for r in rows] == [("iris", "float32"), ("iris", "float64")]
    for row in rows:
        assert row["neurons"] >= 1 and row["seconds"] > 0
        assert sum(row["stops"].values()) == 1


def test_the_paper_method_fits_with_the_papers_schedule(monkeypatch):
    # np-paper hands each task its App. C schedule; in quick mode only the step counts
    # are the quick ones, the step sizes and rules stay the paper's.
    from benchmarks import methods

    seen = []

    def record(X, Y, settings, **kwargs):
        seen.append(settings)
        raise StopIteration

    monkeypatch.setattr(methods, "neuron_pursuit", record)
    X, y = np.zeros((4, 2)), np.zeros(4)
    for task, quick in (("pvr", False), ("cube-f2", True), ("gauss-f1-relu", False)):
        with pytest.raises(StopIteration):
            methods.fit_neuron_pursuit_paper(TASKS[task], X, y, 0, quick=quick)
    pvr, quick_cube, gauss = seen
    assert (pvr.options.gd_lr, pvr.gd_steps, pvr.options.gd_window) == (0.005, 500_000, 50_000)
    assert quick_cube.gd_steps == methods.QUICK_NP["gd_steps"]
    assert (quick_cube.schedule.gd_rule, quick_cube.options.ncf_lr) == ("fixed", 0.2)
    assert pvr.schedule.gd_rule == "halve"
    assert (gauss.gd_steps, gauss.schedule.long_gd_steps) == (100_000, 300_000)


def test_sizes_restrict_every_task_run(tmp_path):
    # After the first row the restriction was overwritten by the task's own sizes.
    argv = ["run", "--task", "sphere-f1", "--methods", "mlp", "--seeds", "2"]
    assert main(argv + ["--sizes", "100", "--results", str(tmp_path)]) == 0
    assert {r["n"] for r in load(tmp_path / "full")} == {100}


def test_the_short_search_methods_change_only_the_ascent(monkeypatch):
    # np-ncf8 / np-ncf4: the ascent's steps and step size; quick mode keeps its step count.
    from benchmarks import methods

    seen = []
    monkeypatch.setattr(
        methods, "fit_neuron_pursuit", lambda *args, **params: seen.append(params) or []
    )
    X, y = np.zeros((4, 2)), np.zeros(4)
    methods.METHODS["np-ncf8"](TASKS["cube-f2"], X, y, 0, False)
    methods.METHODS["np-ncf4"](TASKS["cube-f2"], X, y, 0, False)
    methods.METHODS["np-ncf8"](TASKS["cube-f2"], X, y, 0, True)
    assert seen == [
        dict(ncf_lr=8.0, ncf_steps=50),
        dict(ncf_lr=4.0, ncf_steps=100),
        dict(ncf_lr=8.0),
    ]


def test_the_np_method_runs_the_suites_settings_not_the_paper_presets(monkeypatch):
    # docs/benchmarks.md, "Methods compared": modadd-59 stops at a relative training loss
    # of 0.1 (gd_lr 0.5), pvr after 100 iterations; the paper presets (np-paper) once
    # leaked their tol 0 and 1,000-iteration guard into the suite's np.
    from benchmarks import methods

    seen = {}

    class Recorder:
        def __init__(self, **params):
            seen.update(params)

    monkeypatch.setattr(methods, "NeuronPursuitClassifier", Recorder)
    monkeypatch.setattr(methods, "NeuronPursuitRegressor", Recorder)
    X, y = np.zeros((4, 2)), np.zeros(4)
    default_lr = PursuitOptions().gd_lr
    expected = {
        "modadd-59": (0.5, 0.1, 200, False),
        "pvr": (default_lr, 0.005, 100, True),
        "cube-f2": (default_lr, None, None, False),  # the package defaults
    }
    for name, (gd_lr, tol, max_iter, rebalance) in expected.items():
        seen.clear()
        with pytest.raises(AttributeError):  # the recorder cannot fit
            methods.fit_neuron_pursuit(TASKS[name], X, y, 0, False)
        options = seen["options"]
        assert (options.gd_lr, seen.get("tol"), seen.get("max_iter")) == (
            gd_lr,
            tol,
            max_iter,
        )
        assert bool(options.rebalance) == rebalance


def test_paper_max_iter_caps_the_paper_protocols_iterations(tmp_path):
    # docs/paper.md's pvr rows: the preset capped at 10 iterations; quick mode keeps it.
    argv = ["run", "--task", "pvr", "--methods", "np-paper", "--quick", "--seeds", "1"]
    assert main(argv + ["--paper-max-iter", "2", "--results", str(tmp_path)]) == 0
    (row,) = load(tmp_path / "quick")
    assert int(row["np_iterations"]) == 2 and "stop=max_iter" in row["detail"]
    with pytest.raises(SystemExit, match="add np-paper"):
        main(["run", "--task", "pvr", "--methods", "np", "--paper-max-iter", "2"])
    # report's --paper given to run is refused, not read as --paper-max-iter.
    with pytest.raises(SystemExit):
        main(argv + ["--paper", "2", "--results", str(tmp_path / "abbreviated")])


def test_rows_benchmark_fits_each_learner_in_its_own_process(tmp_path):
    from benchmarks.rows import measure, write

    rows = measure([1500], methods=("np", "hgb"), seed=0, threads=1)
    assert [row["method"] for row in rows] == ["np", "hgb"]
    for row in rows:
        assert row["seconds"] > 0 and 0 < row["test_r2"] <= 1
        assert row["peak_mib"] >= row["data_mib"] > 0
    write(rows, tmp_path / "rows.csv")
    table = (tmp_path / "rows.md").read_text()
    ratio = rows[0]["peak_mib"] / rows[1]["peak_mib"]
    assert "| 1,500 | 0 |" in table and f"| — | {ratio:.2f} |" in table


def test_the_rows_benchmark_keeps_the_rows_of_other_runs(tmp_path):
    # Its default --out holds the results the docs cite: a run at other sizes, seeds or
    # threads adds to it, and a rerun of the same ones replaces them.
    from benchmarks.rows import write

    def row(n_rows, method, seed, seconds, threads=1):
        return dict(
            n_rows=n_rows,
            method=method,
            seed=seed,
            threads=threads,
            seconds=seconds,
            test_r2=0.95,
            data_mib=200,
            peak_mib=400,
        )

    out = tmp_path / "rows.csv"
    write([row(100_000, "np", 0, 6.0), row(100_000, "mlp", 0, 4.0)], out)
    write([row(2_000, "hgb", 0, 0.1), row(100_000, "np", 0, 5.0)], out)
    with out.open() as file:
        kept = {(r["n_rows"], r["method"]): r["seconds"] for r in csv.DictReader(file)}
    assert kept == {("100000", "np"): "5.0", ("100000", "mlp"): "4.0", ("2000", "hgb"): "0.1"}
    assert "| 100,000 | 0 | 5.0, 0.95, 400 | 4.0, 0.95, 400 | — | 1.25 | — |" in (
        out.with_suffix(".md").read_text()
    )
