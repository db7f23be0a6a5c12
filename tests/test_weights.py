"""Data-driven and AHP weights reproduce published examples and reference libraries, hold their invariances,
and reject bad input with one clear message."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from perflab import weights as W
from perflab.errors import DataError, PerflabError

ROOT = Path(__file__).resolve().parent.parent
BEIJING_AHP = ROOT / "params" / "sweeps" / "ahp_beijing_2016.csv"


def frame(rows, columns=None, units=None) -> pd.DataFrame:
    a = np.asarray(rows, dtype=float)
    columns = columns or [f"C{j + 1}" for j in range(a.shape[1])]
    units = units or [f"A{i + 1}" for i in range(a.shape[0])]
    return pd.DataFrame(a, index=units, columns=columns)


# ---------------------------------------------------------------------------
# published examples
#
# Each is reproduced to the precision printed. The entropy, CRITIC, SD and Wang & Chin numbers are as
# transcribed (with their sources) in the test suites of pymcdm (tests/test_weights.py) and crispyn
# (tests/test_weighting_methods.py); the Saaty and Johnson & Wichern matrices reproduce every published digit of
# the eigenvector, λmax, CI and CR (resp. eigenvectors) they come with, which checks the transcription.
# ---------------------------------------------------------------------------

# X. Xu (2004), "A note on the subjective and objective integrated approach to determine attribute weights",
# European Journal of Operational Research 156(2):530–532: entropy weights of the 4 × 4 example (the decision
# matrix of Ma, Fan & Huang 1999), published to 4 decimals. The last attribute barely varies (29, 29, 28.9, 29).
XU_2004 = frame([[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]])
XU_2004_ENTROPY = [0.4630, 0.3992, 0.1378, 0.0000]

# E. K. Zavadskas & V. Podvezko (2016), "Integrated determination of objective criteria weights in MCDM",
# Int. J. Information Technology & Decision Making 15(2):267–283: entropy weights of the 4 × 4 example on the
# values as given (the entropy method does not depend on a criterion's direction), 4 decimals.
ZP_2016 = frame([[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]])
ZP_2016_ENTROPY = [0.1146, 0.1981, 0.4185, 0.2689]

# A. Tuş & E. Aytaç Adalı (2019), "The new combination with CRITIC and WASPAS methods for the time and attendance
# software selection problem", Opsearch 56(2):528–538: 5 alternatives × 6 criteria, CRITIC weights to 3 decimals.
# The published weights are those of min–max normalising every column as "higher is better" (as this module
# does); pymcdm's and pyrepo-mcda's test suites check the same numbers.
TUS_2019 = frame(
    [[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3], [600, 4, 3, 1, 2, 2], [800, 2, 4, 3, 3, 4]]
)
TUS_2019_CRITIC = [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]

# A. Jahan & K. L. Edwards (2013), "Weighting of dependent and target-based criteria for optimal decision-making
# in materials selection process: Biomedical applications", Materials & Design 49:1000–1008: standard-deviation
# weights of a 7 × 3 matrix that is already min–max normalised (each column runs from 0 to 1), 2 decimals.
JAHAN_2013 = frame(
    [
        [0, 0, 0],
        [0.39, 0.3, 0.77],
        [0.17, 0.36, 0.8],
        [0.35, 0.29, 0.93],
        [0.3, 0.4, 0.94],
        [0.84, 0.71, 1],
        [1, 1, 0.99],
    ]
)
JAHAN_2013_STD = [0.35, 0.31, 0.34]

# R. A. Johnson & D. W. Wichern (2007), Applied Multivariate Statistical Analysis, 6th ed., Example 8.5: weekly
# rates of return of five stocks (JP Morgan, Citibank, Wells Fargo, Royal Dutch Shell, ExxonMobil), n = 103 weeks.
# The sample correlation matrix R (published to 3 decimals), its eigenvalues λ1 = 2.437, λ2 = 1.407 (the only two
# ≥ 1, so Kaiser keeps two components, as the book's Example 9.4 does) and eigenvectors e1, e2 (3 decimals);
# Example 9.4 gives the principal-component loadings (3 decimals).
JW_STOCKS = ["jp_morgan", "citibank", "wells_fargo", "royal_dutch_shell", "exxon_mobil"]
JW_R = np.array(
    [
        [1.000, 0.632, 0.511, 0.115, 0.155],
        [0.632, 1.000, 0.574, 0.322, 0.213],
        [0.511, 0.574, 1.000, 0.183, 0.146],
        [0.115, 0.322, 0.183, 1.000, 0.683],
        [0.155, 0.213, 0.146, 0.683, 1.000],
    ]
)
JW_EIGENVALUES = [2.437, 1.407]
JW_E1 = [0.469, 0.532, 0.465, 0.387, 0.361]
JW_E2 = [-0.368, -0.236, -0.315, 0.585, 0.606]
JW_LOADINGS = [[0.732, 0.831, 0.726, 0.605, 0.563], [-0.437, -0.280, -0.374, 0.694, 0.719]]

# T. L. Saaty (1990), "How to make a decision: The analytic hierarchy process", European Journal of Operational
# Research 48:9–26: the house example, 8 criteria (size, transportation, neighbourhood, age, yard, modern
# facilities, general condition, financing). Published: priorities .173 .054 .188 .018 .031 .036 .167 .333,
# λmax = 9.669, C.I. = 0.238, C.R. = 0.169 (inconsistent: above 0.1).
HOUSE_IDS = ["size", "transportation", "neighborhood", "age", "yard", "modern_facilities", "condition", "financing"]
HOUSE = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]
HOUSE_WEIGHTS = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]

# T. L. Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services Sciences 1(1):83–98:
# relative consumption of drinks in the U.S.; the derived (eigenvector) priorities to 3 decimals.
DRINKS_IDS = ["coffee", "wine", "tea", "beer", "sodas", "milk", "water"]
DRINKS = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]
DRINKS_WEIGHTS = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]

# Y.-M. Wang & K.-S. Chin (2011), "A linear programming approximation to the eigenvector method in the analytic
# hierarchy process", Information Sciences 181(23):5240–5248: eigenvector weights of a 6 × 6 matrix, 4 decimals.
WANG_CHIN = [
    [1, 4, 3, 1, 3, 4],
    [1 / 4, 1, 7, 3, 1 / 5, 1],
    [1 / 3, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 6],
    [1, 1 / 3, 5, 1, 1, 1 / 3],
    [1 / 3, 5, 5, 1, 1, 3],
    [1 / 4, 1, 6, 3, 1 / 3, 1],
]
WANG_CHIN_WEIGHTS = [0.3208, 0.1395, 0.0348, 0.1285, 0.2374, 0.1391]


def table_with_correlation(r: np.ndarray, m: int, columns, seed: int = 0) -> pd.DataFrame:
    """m units whose sample correlation matrix is exactly r (scores around 70 with standard deviation 10)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((m, r.shape[0]))
    q, _ = np.linalg.qr(z - z.mean(axis=0))  # orthonormal, mean-zero columns
    x = q @ np.linalg.cholesky(r).T  # x'x = r
    return pd.DataFrame(70 + 10 * np.sqrt(m - 1) * x, index=[f"U{i:03d}" for i in range(m)], columns=columns)


@pytest.mark.parametrize(
    "table, published",
    [(XU_2004, XU_2004_ENTROPY), (ZP_2016, ZP_2016_ENTROPY)],
    ids=["xu2004", "zavadskas_podvezko2016"],
)
def test_entropy_reproduces_published_weights(table, published):
    w = W.entropy(table)
    assert list(w.round(4)) == published
    assert list(w.index) == list(table.columns) and w.name == "weight"


def test_critic_reproduces_tus_aytac_adali_2019():
    assert list(W.critic(TUS_2019).round(3)) == TUS_2019_CRITIC


def test_std_reproduces_jahan_edwards_2013():
    assert list(W.std(JAHAN_2013).round(2)) == JAHAN_2013_STD


def test_pca_reproduces_johnson_wichern_eigenvalues_and_loadings():
    """R is published to 3 decimals, so the eigenvalues and loadings computed from it agree with the book's
    (computed from the raw returns) to within 0.002; the eigenvectors agree to the 3 decimals printed."""
    table = table_with_correlation(JW_R, 103, JW_STOCKS)
    res = W.pca_components(table)
    assert res.retained == 2
    assert res.eigenvalues.iloc[:2].to_numpy() == pytest.approx(JW_EIGENVALUES, abs=2e-3)
    assert (res.eigenvalues.iloc[2:] < 1).all()
    load = res.loadings.to_numpy()
    sign = np.sign(load[0]) * np.sign([JW_LOADINGS[0][0], JW_LOADINGS[1][0]])  # eigenvector signs are arbitrary
    load = load * sign
    assert load.T == pytest.approx(np.array(JW_LOADINGS), abs=2e-3)
    vecs = load / np.sqrt(res.eigenvalues.iloc[:2].to_numpy())
    assert vecs[:, 0] == pytest.approx(JW_E1, abs=1e-3)
    assert vecs[:, 1] == pytest.approx(JW_E2, abs=1e-3)
    # the weights follow from the published eigenvalues and loadings by the documented convention
    lam = np.array(JW_EIGENVALUES)
    raw = np.abs(np.array(JW_LOADINGS)).T @ (lam / lam.sum())
    assert res.weights.to_numpy() == pytest.approx(raw / raw.sum(), abs=1e-3)
    assert W.pca(table).equals(res.weights)


def test_ahp_reproduces_saaty_1990_house_example():
    m = pd.DataFrame(HOUSE, index=HOUSE_IDS, columns=HOUSE_IDS)
    res = W.ahp(m, allow_inconsistent=True)
    assert list(res.weights.round(3)) == HOUSE_WEIGHTS
    assert list(res.weights.index) == HOUSE_IDS
    assert round(res.lambda_max, 3) == 9.669
    assert round(res.ci, 3) == 0.238
    assert res.ri == 1.41
    assert round(res.cr, 3) == 0.169
    assert not res.consistent
    with pytest.raises(W.WeightError, match=r"CR = 0\.169 > 0\.1 \(λmax = 9\.669.*allow_inconsistent=True"):
        W.ahp(m)


def test_ahp_reproduces_saaty_2008_drinks_example():
    res = W.ahp(pd.DataFrame(DRINKS, index=DRINKS_IDS, columns=DRINKS_IDS))
    assert list(res.weights.round(3)) == DRINKS_WEIGHTS
    assert res.consistent and res.cr < 0.1


def test_ahp_reproduces_wang_chin_2011():
    res = W.ahp(np.array(WANG_CHIN), allow_inconsistent=True)
    assert list(res.weights.round(4)) == WANG_CHIN_WEIGHTS
    assert list(res.weights.index) == list(range(6))


# ---------------------------------------------------------------------------
# independent computations
# ---------------------------------------------------------------------------

REFERENCE_TABLES = [XU_2004, ZP_2016, TUS_2019, JAHAN_2013.iloc[1:]]


@pytest.mark.parametrize("table", REFERENCE_TABLES)
def test_entropy_matches_pymcdm_and_scipy(table):
    pymcdm = pytest.importorskip("pymcdm")
    from scipy.stats import entropy as shannon

    ours = W.entropy(table).to_numpy()
    assert ours == pytest.approx(pymcdm.weights.entropy_weights(table.to_numpy()), abs=1e-12)
    x = table.to_numpy()
    d = 1 - np.array([shannon(x[:, j]) for j in range(x.shape[1])]) / np.log(len(x))
    assert ours == pytest.approx(d / d.sum(), abs=1e-12)


def test_entropy_zero_scores_contribute_nothing_as_scipy_entropy():
    """A zero share adds 0 (the limit of p ln p), as scipy.stats.entropy. pymcdm differs here: it sets the
    entropy of any column holding a zero to 0, i.e. gives that indicator the largest possible divergence."""
    from scipy.stats import entropy as shannon

    t = frame([[0, 5, 60], [10, 5, 70], [30, 0, 80], [60, 1, 0]])
    x = t.to_numpy()
    d = 1 - np.array([shannon(x[:, j]) for j in range(3)]) / np.log(4)
    assert W.entropy(t).to_numpy() == pytest.approx(d / d.sum(), abs=1e-12)


@pytest.mark.parametrize("table", REFERENCE_TABLES)
def test_critic_matches_pymcdm_and_pandas(table):
    pymcdm = pytest.importorskip("pymcdm")
    ours = W.critic(table)
    assert ours.to_numpy() == pytest.approx(pymcdm.weights.critic_weights(table.to_numpy()), abs=1e-12)
    z = (table - table.min()) / (table.max() - table.min())
    c = z.std() * (1 - z.corr()).sum()
    pd.testing.assert_series_equal(ours, (c / c.sum()).rename("weight"), atol=1e-12, rtol=0)


@pytest.mark.parametrize("table", REFERENCE_TABLES)
def test_std_matches_pymcdm_on_the_min_max_normalised_table(table):
    pymcdm = pytest.importorskip("pymcdm")
    z = (table - table.min()) / (table.max() - table.min())
    ours = W.std(table).to_numpy()
    assert ours == pytest.approx(pymcdm.weights.standard_deviation_weights(z.to_numpy()), abs=1e-12)
    # pymcdm on the raw values weighs by spread in each indicator's own units instead
    if not np.allclose(table.to_numpy(), z.to_numpy()):
        assert not np.allclose(ours, pymcdm.weights.standard_deviation_weights(table.to_numpy()), atol=1e-3)


@pytest.mark.parametrize("table", [TUS_2019, ZP_2016, table_with_correlation(JW_R, 103, JW_STOCKS)])
def test_pca_matches_a_plain_numpy_eigendecomposition(table):
    x = table.to_numpy()
    lam, vec = np.linalg.eigh(np.corrcoef(x, rowvar=False))
    order = np.argsort(lam)[::-1]
    lam, vec = lam[order], vec[:, order]
    k = max(1, int((lam >= 1 - 1e-9).sum()))
    raw = (np.abs(vec[:, :k]) * np.sqrt(lam[:k])) @ (lam[:k] / lam[:k].sum())
    res = W.pca_components(table)
    assert res.eigenvalues.to_numpy()[: len(lam)] == pytest.approx(lam[: len(res.eigenvalues)], abs=1e-10)
    assert res.weights.to_numpy() == pytest.approx(raw / raw.sum(), abs=1e-10)


@pytest.mark.parametrize("matrix", [HOUSE, DRINKS, WANG_CHIN], ids=["house", "drinks", "wang_chin"])
def test_ahp_eigenvector_matches_ahpy_and_pymcdm(matrix):
    ahpy = pytest.importorskip("ahpy")
    pytest.importorskip("pymcdm")
    from pymcdm.weights.subjective import AHP

    a = np.array(matrix)
    n = len(a)
    names = [f"c{i}" for i in range(n)]
    res = W.ahp(a, allow_inconsistent=True)
    comp = ahpy.Compare(
        "goal", {(names[i], names[j]): a[i, j] for i, j in itertools.combinations(range(n), 2)}, precision=10
    )
    assert res.weights.to_numpy() == pytest.approx([comp.target_weights[c] for c in names], abs=1e-7)
    assert res.weights.to_numpy() == pytest.approx(AHP(matrix=a)(), abs=1e-10)
    assert res.lambda_max == pytest.approx(np.linalg.eigvals(a).real.max(), abs=1e-10)


@pytest.mark.parametrize("matrix", [HOUSE, DRINKS, WANG_CHIN], ids=["house", "drinks", "wang_chin"])
def test_ahp_geometric_is_the_logarithmic_least_squares_solution(matrix):
    """Row geometric means minimise Σ (ln a_ij − ln w_i + ln w_j)² (Crawford & Williams 1985): solved here as
    an ordinary least-squares problem; λmax is the mean of (A w)_i / w_i."""
    a = np.array(matrix)
    n = len(a)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    design = np.zeros((len(pairs) + 1, n))
    for r, (i, j) in enumerate(pairs):
        design[r, i], design[r, j] = 1, -1
    design[-1] = 1  # fix the scale: Σ ln w = 0
    target = np.array([np.log(a[i, j]) for i, j in pairs] + [0.0])
    v = np.linalg.lstsq(design, target, rcond=None)[0]
    w = np.exp(v) / np.exp(v).sum()
    res = W.ahp(a, method="geometric", allow_inconsistent=True)
    assert res.weights.to_numpy() == pytest.approx(w, abs=1e-12)
    assert res.lambda_max == pytest.approx(sum(sum(a[i, j] * w[j] for j in range(n)) / w[i] for i in range(n)) / n)
    assert res.method == "geometric"


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------


PROPERTY_EXAMPLES = 25  # per method and property: the file runs in a few seconds


@st.composite
def score_tables(draw, min_units=2, max_units=8, max_indicators=6):
    m = draw(st.integers(min_units, max_units))
    n = draw(st.integers(1, max_indicators))
    x = draw(arrays(np.float64, (m, n), elements=st.integers(0, 100).map(float)))
    return frame(x, columns=[f"i{j}" for j in range(n)], units=[f"u{i}" for i in range(m)])


def weights_or_reject(method: str, table: pd.DataFrame) -> pd.Series:
    """The weights, or reject the example when the method is undefined for it (e.g. nothing varies)."""
    try:
        return W.data_weights(table, method)
    except W.WeightError:
        assume(False)


def well_separated(table: pd.DataFrame) -> bool:
    """PCA weights are unique when the retained eigenvalues are distinct and none sits on the Kaiser cut."""
    res = W.pca_components(table)
    lam, k = res.eigenvalues.to_numpy(), res.retained
    near_cut = np.abs(lam - 1) < 1e-6
    return bool(np.all(np.abs(np.diff(lam[: k + 1])) > 1e-6) and not near_cut.any())


@pytest.mark.parametrize("method", W.DATA_METHODS)
@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(table=score_tables())
def test_data_weights_are_non_negative_sum_to_one_and_follow_the_columns(method, table):
    w = weights_or_reject(method, table)
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert list(w.index) == list(table.columns) and w.name == "weight"


@pytest.mark.parametrize("method", W.DATA_METHODS)
@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(table=score_tables(), seed=st.integers(0, 2**16))
def test_data_weights_do_not_depend_on_the_order_of_units(method, table, seed):
    w = weights_or_reject(method, table)
    if method == "pca":
        assume(well_separated(table))
    shuffled = table.iloc[np.random.default_rng(seed).permutation(len(table))]
    assert W.data_weights(shuffled, method).to_numpy() == pytest.approx(w.to_numpy(), abs=1e-9)


@pytest.mark.parametrize("method", W.DATA_METHODS)
@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(table=score_tables(max_indicators=4))
def test_identical_columns_get_equal_weights(method, table):
    t = table.assign(copy_of_i0=table["i0"])
    w = weights_or_reject(method, t)
    if method == "pca":
        assume(well_separated(t))
    assert w["copy_of_i0"] == pytest.approx(w["i0"], abs=1e-9)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(table=score_tables(), factor=st.sampled_from([0.01, 0.5, 3.0, 250.0]))
def test_entropy_is_invariant_to_scaling_a_column_but_not_to_shifting_it(table, factor):
    w = weights_or_reject("entropy", table)
    scaled = table.assign(i0=table["i0"] * factor)
    assert W.entropy(scaled).to_numpy() == pytest.approx(w.to_numpy(), abs=1e-9)


def test_entropy_shifting_a_column_lowers_its_weight():
    shifted = XU_2004.assign(C1=XU_2004["C1"] + 100)
    assert W.entropy(shifted)["C1"] < W.entropy(XU_2004)["C1"]


@pytest.mark.parametrize("method", ["critic", "std", "pca"])
@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(table=score_tables(), a=st.sampled_from([0.01, 0.7, 3.0, 250.0]), b=st.sampled_from([-50.0, 0.0, 12.5]))
def test_normalising_methods_are_invariant_to_a_positive_affine_change_of_a_column(method, table, a, b):
    w = weights_or_reject(method, table)
    if method == "pca":
        assume(well_separated(table))
    changed = table.assign(i0=a * table["i0"] + b)
    assert W.data_weights(changed, method).to_numpy() == pytest.approx(w.to_numpy(), abs=1e-9)


@pytest.mark.parametrize("method", ["entropy", "critic", "std", "pca"])
def test_a_constant_indicator_gets_zero_and_leaves_the_others_unchanged(method):
    base = W.data_weights(TUS_2019, method)
    w = W.data_weights(TUS_2019.assign(flat=80.0), method)
    assert w["flat"] == 0
    assert w.drop("flat").to_numpy() == pytest.approx(base.to_numpy(), abs=1e-12)


def test_pca_gives_uncorrelated_indicators_equal_weights():
    t = frame([[1, 1], [1, -1], [-1, 1], [-1, -1]])
    assert W.pca(t).to_numpy() == pytest.approx([0.5, 0.5])


def test_equal_weights():
    assert W.equal(TUS_2019).to_numpy() == pytest.approx([1 / 6] * 6)


# ---------------------------------------------------------------------------
# weights by ranking group
# ---------------------------------------------------------------------------


def test_data_weights_by_group_is_the_method_within_each_group():
    t = TUS_2019.set_axis(["D01", "D02", "M01", "M02", "M03"])
    kind = pd.Series(
        {"M01": "department", "D01": "district", "D02": "district", "M02": "department", "M03": "department"},
        name="rank_group",
    )
    out = W.group_weights(t, "critic", kind)
    assert list(out.index) == ["district", "department"] and out.index.name == "rank_group"
    assert list(out.columns) == list(t.columns)
    pd.testing.assert_series_equal(out.loc["department"], W.critic(t.loc[["M01", "M02", "M03"]]), check_names=False)
    assert out.sum(axis=1).to_numpy() == pytest.approx([1, 1])
    plain = W.group_weights(t, "std", {u: "all" for u in t.index})
    assert plain.index.name == "group"
    assert plain.loc["all"].to_numpy() == pytest.approx(W.data_weights(t, "std").to_numpy())


def test_data_weights_by_group_errors_name_the_unit_or_group():
    t = TUS_2019.set_axis(["D01", "D02", "M01", "M02", "M03"])
    with pytest.raises(W.WeightError, match=r"unit 'M03' has no rank group"):
        W.group_weights(t, "entropy", pd.Series({"D01": "d", "D02": "d", "M01": "m", "M02": "m"}))
    with pytest.raises(W.WeightError, match=r"unit 'M02' has no rank group in rank_group \(NaN\)"):
        W.group_weights(t, "entropy", pd.Series({"D01": "d", "D02": "d", "M01": "m", "M02": None, "M03": "m"}))
    with pytest.raises(W.WeightError, match=r"unit 'D01' appears twice in rank_group"):
        W.group_weights(t, "entropy", pd.Series(["d", "d", "m"], index=["D01", "D01", "M01"]))
    with pytest.raises(W.WeightError, match=r"^group 'lone': entropy: needs at least 2 units.*got 1 \('M03'\)"):
        W.group_weights(t, "entropy", pd.Series({"D01": "d", "D02": "d", "M01": "m", "M02": "m", "M03": "lone"}))


def test_data_weights_unknown_method_suggests_the_nearest():
    with pytest.raises(
        W.WeightError,
        match=r"unknown weighting method 'entropie' \(did you mean 'entropy'\?\); choose one of equal, entropy",
    ):
        W.data_weights(TUS_2019, "entropie")


# ---------------------------------------------------------------------------
# AHP consistency
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", W.AHP_METHODS)
@settings(max_examples=50, deadline=None)
@given(w=st.lists(st.floats(0.1, 10.0), min_size=1, max_size=12))
def test_a_consistent_matrix_gives_back_its_weights_with_cr_zero(method, w):
    w = np.array(w) / np.sum(w)
    res = W.ahp(np.outer(w, 1 / w), method=method)
    assert res.weights.to_numpy() == pytest.approx(w, abs=1e-9)
    assert res.lambda_max == pytest.approx(len(w), abs=1e-8)
    assert res.ci == pytest.approx(0, abs=1e-9) and res.cr == pytest.approx(0, abs=1e-8)
    assert res.consistent


def test_ahp_small_matrices_have_cr_zero_and_the_saaty_random_index():
    assert W.ahp([[1, 3], [1 / 3, 1]]).cr == 0
    assert W.ahp([[1]]).weights.tolist() == [1.0]
    assert [W.SAATY_RI[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]
    assert W.ahp(np.ones((15, 15))).ri == 1.59


def test_ahp_accepts_fractions_rounded_to_three_decimals():
    res = W.ahp([[1, 3, 5], [0.333, 1, 2], [0.2, 0.5, 1]])
    assert res.weights.sum() == pytest.approx(1)


def test_ahp_summary_lists_weights_then_consistency():
    res = W.ahp(pd.DataFrame(DRINKS, index=DRINKS_IDS, columns=DRINKS_IDS))
    s = res.summary()
    assert list(s.columns) == ["value"]
    assert s.loc[("weight", "water"), "value"] == pytest.approx(res.weights["water"])
    assert s.loc[("consistency", "CR"), "value"] == pytest.approx(res.cr)
    assert s.loc[("consistency", "lambda_max"), "value"] == pytest.approx(res.lambda_max)
    assert s.loc[("consistency", "n"), "value"] == 7 and res.method == "eigenvector"


def test_ahp_result_is_frozen():
    res = W.ahp([[1, 2], [0.5, 1]])
    with pytest.raises(AttributeError):
        res.cr = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------------------
# error messages: the score table
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", W.DATA_METHODS)
def test_every_method_rejects_bad_tables_naming_unit_and_indicator(method):
    t = TUS_2019.copy()
    with pytest.raises(W.WeightError, match=rf"^{method}: the table is empty: it has no units"):
        W.data_weights(t.iloc[:0], method)
    with pytest.raises(W.WeightError, match=rf"^{method}: the table is empty: it has no indicators"):
        W.data_weights(t.iloc[:, :0], method)
    nan = t.copy()
    nan.loc["A3", "C4"] = np.nan
    with pytest.raises(W.WeightError, match=rf"^{method}: unit 'A3', indicator 'C4': missing value \(NaN\)$"):
        W.data_weights(nan, method)
    inf = t.copy()
    inf.loc["A2", "C1"] = np.inf
    with pytest.raises(W.WeightError, match=r"unit 'A2', indicator 'C1': infinite value inf"):
        W.data_weights(inf, method)
    text = t.astype(object)
    text.loc["A5", "C2"] = "good"
    with pytest.raises(W.WeightError, match=r"unit 'A5', indicator 'C2': value 'good' is not a number"):
        W.data_weights(text, method)
    with pytest.raises(
        W.WeightError, match=r"needs at least 2 units to weigh indicators by how they spread, got 1 \('A1'\)"
    ):
        W.data_weights(t.iloc[:1], method)
    with pytest.raises(W.WeightError, match=r"indicator 'C1' appears twice among the columns"):
        W.data_weights(t.rename(columns={"C2": "C1"}), method)
    with pytest.raises(W.WeightError, match=r"unit 'A1' appears twice in the index"):
        W.data_weights(t.rename(index={"A2": "A1"}), method)
    with pytest.raises(W.WeightError, match=r"indicator 'flag' holds true/false values"):
        W.data_weights(t.assign(flag=True), method)
    with pytest.raises(TypeError, match=r"table must be a pandas DataFrame"):
        W.data_weights(t.to_numpy(), method)


def test_numeric_text_is_accepted():
    assert W.std(TUS_2019.astype(str)).to_numpy() == pytest.approx(W.std(TUS_2019).to_numpy())


def test_weight_error_is_a_value_error_and_a_perflab_error():
    assert issubclass(W.WeightError, ValueError) and issubclass(W.WeightError, PerflabError)


def test_entropy_errors():
    neg = XU_2004.copy()
    neg.loc["A2", "C3"] = -4
    with pytest.raises(
        W.WeightError,
        match=r"^entropy: unit 'A2', indicator 'C3': negative value -4; the entropy method needs non-negative scores "
        r"\(min–max normalise the table first\)$",
    ):
        W.entropy(neg)
    with pytest.raises(W.WeightError, match=r"^entropy: indicator 'C2' is 0 for every unit, so its shares p_ij"):
        W.entropy(XU_2004.assign(C2=0.0))
    with pytest.raises(W.WeightError, match=r"^entropy: no indicator varies across the 4 units .* use equal weights$"):
        W.entropy(frame([[5, 7], [5, 7], [5, 7], [5, 7]]))


@pytest.mark.parametrize("method", ["critic", "std", "pca"])
def test_nothing_varies_is_an_error(method):
    with pytest.raises(
        W.WeightError,
        match=rf"^{method}: no indicator varies across the 3 units \(every unit has the same score on each of C1, C2\)",
    ):
        W.data_weights(frame([[5, 7], [5, 7], [5, 7]]), method)


def test_critic_without_conflict_is_an_error():
    with pytest.raises(
        W.WeightError,
        match=r"^critic: the varying indicators \(C1, C2\) are perfectly correlated \(r = 1\).*use std or equal weights$",
    ):
        W.critic(frame([[1, 10, 3], [2, 20, 3], [4, 40, 3]]))
    with pytest.raises(
        W.WeightError, match=r"^critic: the varying indicators \(C2\) is the only indicator that varies"
    ):
        W.critic(frame([[1, 10], [1, 20], [1, 40]]))


# ---------------------------------------------------------------------------
# error messages: the comparison matrix
# ---------------------------------------------------------------------------


def ids_frame(a, ids=("a", "b", "c")) -> pd.DataFrame:
    return pd.DataFrame(a, index=list(ids), columns=list(ids), dtype=object)


GOOD = [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]]


@pytest.mark.parametrize(
    "matrix, message",
    [
        ([[1, 2, 3], [0.5, 1, 2]], r"^ahp: the comparison matrix is not square: shape 2 × 3$"),
        (pd.DataFrame(np.ones((2, 3))), r"^ahp: the comparison matrix is not square: 2 rows × 3 columns$"),
        ([], r"^ahp: the comparison matrix is not square: shape 0$"),
        (np.ones((0, 0)), r"^ahp: the comparison matrix is empty$"),
        (
            pd.DataFrame(GOOD, index=["a", "b", "c"], columns=["a", "c", "b"]),
            r"^ahp: the rows and columns must list the same indicators in the same order; row 2 is 'b' but column 2 is 'c'$",
        ),
        (
            pd.DataFrame(GOOD, index=["a", "a", "c"], columns=["a", "a", "c"]),
            r"^ahp: indicator 'a' appears twice among the rows$",
        ),
        (
            ids_frame([[1, "x", 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]]),
            r"^ahp: row 'a', column 'b': entry 'x' is not a number$",
        ),
        (
            ids_frame([[1, 3, 5], [1 / 3, 1, -2], [1 / 5, 1 / 2, 1]]),
            r"^ahp: row 'b', column 'c': entry -2.0 is not a positive finite number",
        ),
        (
            ids_frame([[1, 3, 5], [1 / 3, 1, 2], [0, 1 / 2, 1]]),
            r"^ahp: row 'c', column 'a': entry 0.0 is not a positive finite number",
        ),
        (
            ids_frame([[1, 3, np.inf], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]]),
            r"^ahp: row 'a', column 'c': entry inf is not a positive finite",
        ),
        (
            ids_frame([[1, 3, 5], [1 / 3, 2, 2], [1 / 5, 1 / 2, 1]]),
            r"^ahp: row 'b', column 'b': a diagonal entry must be 1, got 2$",
        ),
        (
            ids_frame([[1, 3, 5], [0.3, 1, 2], [1 / 5, 1 / 2, 1]]),
            r"^ahp: rows 'a' and 'b' are not reciprocal: a\['a', 'b'\] = 3 but a\['b', 'a'\] = 0\.3 \(their product is 0\.9, not 1; expected about 0\.333\)$",
        ),
    ],
)
def test_ahp_rejects_bad_matrices_naming_row_and_column(matrix, message):
    with pytest.raises(W.WeightError, match=message):
        W.ahp(matrix)


def test_ahp_inconsistency_and_size_errors():
    with pytest.raises(
        W.WeightError,
        match=r"^ahp: the comparisons are inconsistent: CR = 0\.229 > 0\.1 \(λmax = 7\.420, CI = 0\.284, RI = 1\.24 for n = 6\); revise the judgements or pass allow_inconsistent=True$",
    ):
        W.ahp(WANG_CHIN)
    with pytest.raises(
        W.WeightError,
        match=r"tabulated for n ≤ 15 only, so CR cannot be checked for 16 indicators; pass allow_inconsistent=True",
    ):
        W.ahp(np.ones((16, 16)))
    res = W.ahp(np.ones((16, 16)), allow_inconsistent=True)
    assert np.isnan(res.cr) and not res.consistent
    with pytest.raises(
        W.WeightError,
        match=r"unknown AHP method 'geometric_mean' \(did you mean 'geometric'\?\); choose one of eigenvector, geometric",
    ):
        W.ahp(GOOD, method="geometric_mean")


# ---------------------------------------------------------------------------
# reading a pairwise comparison file
# ---------------------------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


PAIRWISE = ",a,b,c\na,1,3,5\nb,1/3,1,2\nc,0.2,1/2,1\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_read_pairwise_reads_fractions_in_every_encoding(tmp_path, encoding):
    text = PAIRWISE.replace(",a,b,c", "判断矩阵,a,b,c", 1)
    m = W.read_pairwise(write(tmp_path / "m.csv", text, encoding))
    assert list(m.index) == ["a", "b", "c"] and list(m.columns) == ["a", "b", "c"]
    assert m.loc["b", "a"] == pytest.approx(1 / 3) and m.loc["c", "b"] == 0.5 and m.loc["c", "a"] == 0.2
    assert W.ahp(m).weights.index.tolist() == ["a", "b", "c"]


def test_read_pairwise_reorders_to_the_scheme_and_accepts_rows_in_any_order(tmp_path):
    text = ",c,a,b\n\nb,2,1/3,1\na,5,1,3\nc,1,1/5,1/2\n\n"
    m = W.read_pairwise(write(tmp_path / "m.csv", text), indicators=["a", "b", "c"])
    expected = W.read_pairwise(write(tmp_path / "plain.csv", PAIRWISE))
    pd.testing.assert_frame_equal(m, expected)


def test_read_pairwise_errors_name_file_line_and_column(tmp_path):
    def err(text, indicators=None, encoding="utf-8") -> DataError:
        p = write(tmp_path / "bad.csv", text, encoding)
        with pytest.raises(DataError) as info:
            W.read_pairwise(p, indicators)
        assert info.value.file == str(p)
        return info.value

    e = err(",a,b,c\na,1,3,5\nb,1/3,1,two\nc,0.2,1/2,1\n")
    assert (e.row, e.column) == (3, "c") and "cannot read 'two' as a comparison" in e.message
    e = err(",a,b,c\na,1,3,5\nb,1/3,1,1/0\nc,0.2,1/2,1\n")
    assert (e.row, e.column) == (3, "c") and "'1/0'" in e.message
    e = err(",a,b,c\na,1,,5\nb,1/3,1,2\nc,0.2,1/2,1\n")
    assert (e.row, e.column) == (2, "b") and "cannot read an empty entry" in e.message
    e = err(",a,b,c\na,1,3,5\nb,1/3,1\nc,0.2,1/2,1\n")
    assert e.row == 3 and "expected 4 fields (an id and 3 comparisons), saw 3" in e.message
    e = err("label,a,b,c\na,1,3,5\nd,1/3,1,2\nc,0.2,1/2,1\n")
    assert (e.row, e.column) == (3, "label") and "row id 'd' is not among the column ids (a, b, c)" in e.message
    e = err(",a,b,c\na,1,3,5\na,1/3,1,2\nc,0.2,1/2,1\n")
    assert e.row == 3 and "indicator 'a' has two rows" in e.message
    e = err(",a,b,c\na,1,3,5\nc,0.2,1/2,1\n")
    assert (e.row, e.column) == (1, "b") and "column id 'b' has no row" in e.message
    e = err(",a,b,a\na,1,3,5\n")
    assert (e.row, e.column) == (1, "a") and "indicator 'a' appears twice in the header" in e.message
    e = err(",a,,c\n")
    assert e.row == 1 and "empty indicator id in column 3" in e.message
    e = err("only_a_label\n")
    assert e.row == 1 and "holds no indicator ids" in e.message
    e = err("\n\n")
    assert "the file is empty" in e.message
    e = err(PAIRWISE.replace("c", "servce"), indicators=["a", "b", "service"])
    assert (e.row, e.column) == (1, "servce") and "unknown indicator 'servce' (did you mean 'service'?)" in e.message
    e = err(PAIRWISE, indicators=["a", "b", "c", "d"])
    assert e.row == 1 and "missing indicator(s) d: the matrix must compare every indicator" in e.message
    p = tmp_path / "latin1.csv"
    p.write_bytes(b",a\na,1\n\xff\xfe\xfa,1\n")
    with pytest.raises(DataError, match=r"row 3: undecodable bytes at byte 7"):
        W.read_pairwise(p)
    with pytest.raises(DataError, match=r"file not found"):
        W.read_pairwise(tmp_path / "nowhere.csv")


# ---------------------------------------------------------------------------
# the shipped Beijing judgement
# ---------------------------------------------------------------------------


def test_shipped_beijing_pairwise_matrix_is_reciprocal_and_consistent(scheme):
    ids = scheme.indicator_ids
    m = W.read_pairwise(BEIJING_AHP, indicators=ids)
    assert list(m.index) == ids and list(m.columns) == ids
    a = m.to_numpy()
    assert np.allclose(a * a.T, 1.0, rtol=0, atol=1e-12) and (np.diag(a) == 1).all()
    assert set(np.round(np.concatenate([a[a >= 1], 1 / a[a < 1]]), 9)) <= set(range(1, 10))  # Saaty's 1–9 scale
    res = W.ahp(m)
    assert res.cr < 0.05
    w = res.weights
    assert w["main_indicators"] == pytest.approx(w["key_tasks"])
    assert set(w.nlargest(2).index) == {"main_indicators", "key_tasks"}
    assert (w.drop(["main_indicators", "key_tasks"]) < w["key_tasks"] / 2).all()
