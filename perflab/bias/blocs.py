"""Do some raters score in concert? Bloc detection on residual profiles against a permutation baseline.

Each rater's residuals (after its own level and slope) form a profile over the units it scored; rater pairs
whose profiles correlate are clustered (average linkage), and a cluster is a bloc when its members' mean
pairwise Fisher z exceeds the largest pair z of permuted panels (each rater's residuals shuffled over its units).
"""

from __future__ import annotations

import numpy as np

MIN_COMMON_UNITS = 5  # units two raters must both have scored for their residual correlation to count


def residual_matrix(pr, pu, pres, nr, nu):
    """Raters × units matrix of the pair residuals, centred per rater over the units it scored, and the mask."""
    A = np.zeros((nr, nu))
    M = np.zeros((nr, nu))
    A[pr, pu] = pres
    M[pr, pu] = 1.0
    cnt = M.sum(axis=1)
    mean = A.sum(axis=1) / np.maximum(cnt, 1)
    A = (A - mean[:, None]) * M
    return A, M


def pair_z(A, M):
    """Fisher z of each rater pair's residual correlation over the units both scored (0 for fewer than 5).

    No baseline is subtracted here: the permutation maxima in :func:`find_blocs` are
    the baseline, so a bloc that covers a whole evaluator group is found as
    readily as one that spans groups.
    """
    num = A @ A.T
    sq = (A * A) @ M.T  # sum over the common units of a_i²
    n = M @ M.T
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = num / np.sqrt(sq * sq.T)
    valid = (n >= MIN_COMMON_UNITS) & np.isfinite(corr)
    np.fill_diagonal(valid, False)
    z = np.arctanh(np.clip(np.where(valid, corr, 0.0), -0.999, 0.999)) * np.sqrt(np.maximum(n - 3, 0))
    z[~valid] = 0.0
    return z


def permutation_maxima(A, M, n_perm: int, seed=None) -> np.ndarray:
    """The largest pair z of each of ``n_perm`` panels with each rater's residuals shuffled over its units."""
    rng = np.random.default_rng(seed)  # an int, or a Generator whose stream continues
    maxima = np.empty(n_perm)
    big = np.where(M > 0, 0.0, np.inf)
    dest = np.argsort(np.where(M > 0, 0, 1), axis=1, kind="stable")
    for b in range(n_perm):
        keys = rng.random(M.shape) + big
        src = np.argsort(keys, axis=1, kind="stable")
        Ap = np.zeros_like(A)
        np.put_along_axis(Ap, dest, np.take_along_axis(A, src, axis=1), axis=1)
        maxima[b] = pair_z(Ap, M).max()
    return maxima


def find_blocs(pr, pu, pres, nr, nu, n_perm: int, min_bloc_size: int, seed=None):
    """Clusters of raters whose residual profiles agree far beyond a permutation baseline.

    ``pr``, ``pu``, ``pres``: rater code, unit code and residual of each rater × unit pair. Returns
    ``(bloc_id, bloc_z, threshold_z)``: per rater its bloc number (None outside a bloc) and its mean pair z
    with the other members, and the permutation threshold.
    """
    from sklearn.cluster import AgglomerativeClustering

    A, M = residual_matrix(pr, pu, pres, nr, nu)
    Z = pair_z(A, M)
    z_star = float(permutation_maxima(A, M, n_perm, seed).max())
    bloc_id = np.full(nr, -1, dtype=np.int64)
    bloc_z = np.full(nr, np.nan)
    if nr < min_bloc_size or Z.max() <= z_star:
        return np.where(bloc_id < 0, None, bloc_id).astype(object), bloc_z, z_star
    top = Z.max()
    D = np.clip(top - Z, 0.0, None)
    np.fill_diagonal(D, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=top - z_star
    ).fit_predict(D)
    next_id = 1
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        if len(members) < min_bloc_size:
            continue
        sub = Z[np.ix_(members, members)]
        mean_z = sub[~np.eye(len(members), dtype=bool)].mean()
        if mean_z > z_star:
            bloc_id[members] = next_id
            bloc_z[members] = (sub.sum(axis=1)) / (len(members) - 1)
            next_id += 1
    return np.where(bloc_id < 0, None, bloc_id).astype(object), bloc_z, z_star
