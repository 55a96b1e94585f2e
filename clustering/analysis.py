"""`analyze`: votes -> projection -> groups -> statement statistics, as one pure function."""

from __future__ import annotations

import dataclasses
import functools
import platform
from dataclasses import dataclass, field
from importlib.metadata import version

import numpy as np

from . import clusters as cl
from .bridging import LAMBDA_F, LAMBDA_I, PASS_RATING, Bridging, bridging_scores
from .consensus import ConsensusComment, group_aware_consensus, select_consensus
from .matrix import (
    VoteData,
    VoteMatrix,
    build_matrix,
    canonical_order,
    permute_participants,
    position_order,
    select_in_conv,
)
from .pca import canonical_signs, centred_matrix, pca, project_participants, project_statements
from .priority import priorities as priority_metric
from .repness import RepComment, repness_stats, select_rep_comments
from .rule import DEFAULT_RULE, Grouping, Robustness, robustness
from .stats import Counts, group_counts, overall_counts

__all__ = ["ALGORITHM_VERSION", "Analysis", "WarmStart", "analyze", "warm_up_umap"]

ALGORITHM_VERSION = "hiroba-clustering/6"


def _pairs(a) -> list[list[float]]:
    return [[float(x) for x in row] for row in np.asarray(a, dtype=np.float64).reshape(-1, 2)]


@dataclass(frozen=True)
class WarmStart:
    """State carried from one run to the next (JSON round-trip via to_dict/from_dict)."""

    method: str = "pca"
    statement_ids: list[int] = field(default_factory=list)
    comps: list[list[float]] = field(default_factory=list)  # (2, len(statement_ids))
    base_centres: list[list[float]] = field(default_factory=list)
    group_clusterings: dict[int, list[list[float]]] = field(default_factory=dict)
    group_centres: list[list[float]] = field(default_factory=list)
    group_ids: list[int] = field(default_factory=list)
    last_k: int | None = None
    last_k_count: int = 0
    smoothed_k: int | None = None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "statement_ids": [int(x) for x in self.statement_ids],
            "comps": [[float(x) for x in row] for row in self.comps],
            "base_centres": _pairs(self.base_centres),
            "group_clusterings": {str(k): _pairs(v) for k, v in
                                  sorted(self.group_clusterings.items())},
            "group_centres": _pairs(self.group_centres),
            "group_ids": [int(x) for x in self.group_ids],
            "k_smoother": {"last_k": self.last_k, "last_k_count": self.last_k_count,
                           "smoothed_k": self.smoothed_k},
        }

    @classmethod
    def from_dict(cls, d: dict) -> WarmStart:
        """Also reads older states, whose ``in_conv_ids`` (the participants placed last
        time) it ignores: who is placed depends on the votes alone."""
        ks = d.get("k_smoother") or {}
        return cls(
            method=str(d.get("method", "pca")),
            statement_ids=[int(x) for x in d.get("statement_ids", [])],
            comps=[[float(x) for x in row] for row in d.get("comps", [])],
            base_centres=_pairs(d.get("base_centres", [])),
            group_clusterings={int(k): _pairs(v) for k, v in
                               (d.get("group_clusterings") or {}).items()},
            group_centres=_pairs(d.get("group_centres", [])),
            group_ids=[int(x) for x in d.get("group_ids", [])],
            last_k=ks.get("last_k"),
            last_k_count=int(ks.get("last_k_count", 0)),
            smoothed_k=ks.get("smoothed_k"),
        )


@dataclass(frozen=True)
class Analysis:
    participant_ids: np.ndarray
    statement_ids: np.ndarray
    projection: np.ndarray  # (n_participants, 2)
    statement_projection: np.ndarray  # (n_statements, 2), PCA space
    in_conv: np.ndarray  # bool: the participants that are clustered
    labels: np.ndarray  # group id per participant, -1 = not clustered
    k: int
    group_ids: np.ndarray
    group_sizes: np.ndarray
    group_counts: Counts  # (k, n_statements)
    overall_counts: Counts  # (n_statements,), all participants
    repness: dict[int, list[RepComment]]
    consensus: dict[str, list[ConsensusComment]]
    group_aware_consensus: dict[int, float]
    group_aware_consensus_disagree: dict[int, float]
    extremity: np.ndarray  # (n_statements,)
    priorities: dict[int, float]
    manifest: dict
    warm_start: WarmStart
    bridging: Bridging
    escalates: np.ndarray  # bool per statement: the rule escalates it on this grouping
    robustness: Robustness

    @property
    def clustered(self) -> np.ndarray:
        return self.labels >= 0

    def to_json_dict(self) -> dict:
        parts = {}
        for pid, (x, y), g in zip(self.participant_ids.tolist(), self.projection.tolist(),
                                  self.labels.tolist(), strict=True):
            parts[str(pid)] = {"x": float(x), "y": float(y), "group": None if g < 0 else int(g)}
        return {
            "k": int(self.k),
            "participants": parts,
            "group_aware_consensus": {str(t): float(v) for t, v in
                                      self.group_aware_consensus.items()},
            "group_aware_consensus_disagree": {
                str(t): float(v) for t, v in self.group_aware_consensus_disagree.items()},
            "repness": {str(g): [_rep_json(r) for r in rows] for g, rows in
                        sorted(self.repness.items())},
            "consensus": {key: [c.tid for c in self.consensus[key]]
                          for key in ("agree", "disagree")},
            "groups": {str(int(g)): {"size": int(s)} for g, s in
                       zip(self.group_ids, self.group_sizes, strict=True)},
            "extremity": {str(int(t)): float(e) for t, e in
                          zip(self.statement_ids, self.extremity, strict=True)},
            "priorities": {str(t): float(v) for t, v in self.priorities.items()},
            "manifest": self.manifest,
            "bridging": self.bridging.to_json_dict(),
            "escalations": self.robustness.to_json_dict(),
        }


def _rep_json(r: RepComment) -> dict:
    d = r.to_dict()
    out = {"tid": d.pop("tid"), "direction": d.pop("direction")}
    for key, val in d.items():
        out[key] = bool(val) if isinstance(val, bool) else (
            int(val) if isinstance(val, (int, np.integer)) else float(val))
    return out


@functools.cache
def _versions(method: str) -> dict:
    # from the installed metadata: importing scikit-learn only to read its version would
    # load all of it on the PCA path, which otherwise never needs it; read once per
    # process, since parsing the metadata files is not free and the loaded modules do not
    # change under a running worker
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "scipy": version("scipy"), "scikit-learn": version("scikit-learn")}
    if method == "umap":
        # numba compiles the layout for this processor, and its floating-point code (like
        # OpenBLAS's) differs between processor types: the same votes and versions give the
        # same UMAP groups on the same type, possibly slightly different ones on another
        from llvmlite.binding import get_host_cpu_name

        v["umap-learn"] = version("umap-learn")
        v["numba"] = version("numba")
        v["processor"] = get_host_cpu_name()
    return v


def _reference_comps(vm: VoteMatrix, ws: WarmStart | None) -> np.ndarray | None:
    if ws is None or not ws.comps or not ws.statement_ids:
        return None
    prev_ids = np.asarray(ws.statement_ids, dtype=np.int64)
    prev = np.asarray(ws.comps, dtype=np.float64)
    ref = np.zeros((prev.shape[0], vm.shape[1]))
    pos = np.searchsorted(vm.statement_ids, prev_ids)
    ok = (pos < vm.shape[1]) & (vm.statement_ids[np.minimum(pos, vm.shape[1] - 1)] == prev_ids)
    ref[:, pos[ok]] = prev[:, ok]
    return ref


def warm_up_umap() -> float:
    """Import umap-learn and compile its layout code now (``clustering.embedding.warm_up``),
    so that a worker's first UMAP refresh does not pay for it. Returns the seconds it took."""
    from .embedding import warm_up

    return warm_up()


def _umap_parameters(reducer: str, base_k: int) -> dict:
    if reducer != "umap":
        return {}
    from . import embedding as e

    return {"umap": {"base_clusters": int(base_k), "n_neighbors": e.N_NEIGHBORS,
                     "min_dist": e.MIN_DIST, "n_epochs": e.EPOCHS,
                     "random_state": e.RANDOM_STATE}}


def _umap_of_the_grouped(vm: VoteMatrix, grouped: np.ndarray, base_k: int
                         ) -> np.ndarray | None:
    """UMAP positions of every participant (rows of ``vm``, in canonical order), laid out
    from the votes of the ``grouped`` participants alone, as Pol.is finds its base clusters
    among the participants in-conv only.

    The others are placed among the layout but shape nothing: neither the statements'
    means, nor the base clusters, nor the order whose evenly spaced rows start them (the
    grouped participants' own principal axes). With them, one vote from a newcomer who is
    in no group moved the UMAP groups of the shared conversations (adjusted Rand index
    down to 0.0 against the export without that vote) and changed up to 52 escalations.
    """
    from .embedding import umap_projection

    C, center, voted = centred_matrix(vm, centred_on=grouped)
    keep = ~vm.excluded[vm.cols]
    n_voted = np.bincount(vm.rows[keep], minlength=vm.shape[0])
    scale = np.sqrt(max(int(voted.sum()), 1) / np.maximum(n_voted, 1))
    X = C.multiply(scale[:, None]).tocsr()
    # in the fingerprint's order, as the main components: their sums' last bits then
    # depend on the grouped participants' votes alone
    fingerprint = canonical_order(vm)
    rows = fingerprint[grouped[fingerprint]]
    axes = pca(vm, C[rows], center, voted)
    positions = np.asarray(X[rows] @ axes.comps.T)
    return umap_projection(X, base_k=base_k,
                           fit_rows=rows[position_order(positions, canonical_signs(axes.comps))])


def _membership_labels(vm: VoteMatrix, membership: dict) -> np.ndarray:
    labels = np.full(vm.shape[0], -1, dtype=np.int64)
    for i, pid in enumerate(vm.participant_ids.tolist()):
        g = membership.get(pid)
        if g is not None:
            labels[i] = int(g)
    return labels


def _grouping(vm: VoteMatrix, name: str, labels: np.ndarray, k: int, with_consensus: bool
              ) -> Grouping:
    counts = group_counts(vm, labels, k)
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    gac = group_aware_consensus(counts)[0] if (with_consensus and k) else None
    return Grouping(name, counts, sizes, gac)


def analyze(
    data: VoteData,
    *,
    method: str = "pca",
    seed: int = 0,
    max_groups: int = 5,
    base_k: int = 100,
    warm_start: WarmStart | None = None,
    membership: dict[int, int | None] | None = None,
    rule: dict | None = None,
) -> Analysis:
    """Full Pol.is-style analysis of ``data``, plus bridging scores and the escalation rule's
    robustness.

    The groups are a function of the votes alone: neither ``seed`` (accepted so existing
    callers keep working, and recorded in the manifest), nor participant ids, nor the order
    of the vote rows change them. ``warm_start`` only renumbers groups (and orients the PCA
    axes) to keep identity with the previous run. ``rule``: the escalation rule's parameters
    (``rule.DEFAULT_RULE`` when None).
    """
    if method not in ("pca", "umap"):
        raise ValueError('method must be "pca" or "umap"')
    if max_groups < 2:
        raise ValueError("max_groups must be at least 2")
    by_id = build_matrix(data)
    n, m = by_id.shape
    # the centred votes' entries are exact (votes are integers), so reordering the rows of
    # C gives the matrix of the reordered votes to the last bit, without a second sort of
    # every vote
    C_by_id, center, voted_cols = centred_matrix(by_id)
    # the components in the fingerprint's order, whose sums no participant ids change
    fingerprint = canonical_order(by_id)
    pca_res = pca(by_id, C_by_id[fingerprint], center, voted_cols,
                  reference=_reference_comps(by_id, warm_start))
    pca_proj = project_participants(by_id, C_by_id, pca_res)[fingerprint]
    # then by position, which, unlike the fingerprint, does not depend on the statements'
    # order: the silhouette of a large round is measured on rows spread over it
    by_position = position_order(pca_proj, canonical_signs(pca_res.comps))
    order = fingerprint[by_position]
    pca_proj = pca_proj[by_position]
    vm = permute_participants(by_id, order)
    proj = pca_proj
    stmt_proj, extremity = project_statements(pca_res)
    reducer = "pca"
    in_conv = select_in_conv(vm)
    if method == "umap":
        emb = _umap_of_the_grouped(vm, in_conv, base_k)
        if emb is not None:
            proj, reducer = emb, "umap"

    ws_prev = warm_start if (warm_start is not None and warm_start.method == method) else None
    rows_in = np.flatnonzero(in_conv)
    pol = {**DEFAULT_RULE, **(rule or {})}
    with_consensus = pol["min_consensus"] is not None
    # every plausible grouping: k = 2 .. max for the projection in use, and PCA's too
    # when UMAP is on
    alternatives: list[tuple[str, np.ndarray, int]] = []
    by_reducer = {reducer: proj} if reducer == "pca" else {reducer: proj, "pca": pca_proj}
    chosen: cl.GroupClustering | None = None
    for name, P in by_reducer.items():
        gcs = cl.group_clusterings(P[in_conv], max_groups, base_k=base_k,
                                   judged_on=pca_proj[in_conv])
        if not gcs:
            continue
        best = cl.pick_k(gcs)
        for kk, g in sorted(gcs.items()):
            if name == reducer and kk == best:
                chosen = g
            elif kk >= 2:
                full = np.full(n, -1, dtype=np.int64)
                full[rows_in] = g.labels
                alternatives.append((f"{name} k={kk}", full, kk))
    clusterings_state: dict[int, list[list[float]]] = {}
    if membership is not None:
        labels = _membership_labels(vm, membership)
        in_conv = labels >= 0
        group_ids = np.unique(labels[in_conv])
        remap = np.full(int(group_ids.max(initial=-1)) + 2, -1, dtype=np.int64)
        remap[group_ids] = np.arange(len(group_ids))
        gidx = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
        k = len(group_ids)
        used_name = "given"
        if chosen is not None and chosen.k >= 2:
            full = np.full(n, -1, dtype=np.int64)
            full[rows_in] = chosen.labels
            alternatives.insert(0, (f"{reducer} k={chosen.k}", full, chosen.k))
    else:
        gidx = np.full(n, -1, dtype=np.int64)
        k = 0
        if chosen is not None:
            if ws_prev is not None and ws_prev.group_centres:
                chosen = cl.align_to_previous(chosen, np.asarray(ws_prev.group_centres))
            gidx[rows_in] = chosen.labels
            k = chosen.k
            clusterings_state = {chosen.k: _pairs(chosen.centres)}
        group_ids = np.arange(k)
        labels = gidx.copy()
        used_name = f"{reducer} k={k}"

    counts = group_counts(vm, gidx, k)
    overall = overall_counts(vm)
    group_sizes = np.bincount(gidx[gidx >= 0], minlength=k)
    reps = select_rep_comments(repness_stats(counts), vm.statement_ids, vm.excluded, group_ids)
    gac_a, gac_d = group_aware_consensus(counts) if k else (np.zeros(m), np.zeros(m))
    bridging = bridging_scores(vm, pca_proj[:, 0])
    used = Grouping(used_name, counts, group_sizes, gac_a if with_consensus else None)
    others = [_grouping(vm, name, lab, kk, with_consensus) for name, lab, kk in alternatives]
    escalates, robust = robustness(vm.statement_ids, ~vm.excluded, used, others,
                                   overall, pol)
    cons = select_consensus(overall, vm.statement_ids, vm.excluded)
    tot = Counts(counts.agree.sum(0), counts.disagree.sum(0), counts.seen.sum(0))
    prio = priority_metric(tot.agree, tot.disagree, tot.seen, extremity, vm.meta)
    tids = vm.statement_ids.tolist()

    group_centres = np.zeros((k, 2))
    if k:
        w = np.bincount(gidx[gidx >= 0], minlength=k).astype(np.float64)
        sel = gidx >= 0
        for d in range(2):
            group_centres[:, d] = np.bincount(gidx[sel], weights=proj[sel, d], minlength=k) / \
                np.maximum(w, 1)
    new_ws = WarmStart(
        method=method,
        statement_ids=tids,
        comps=pca_res.comps.tolist(),
        base_centres=[],
        group_clusterings=clusterings_state,
        group_centres=_pairs(group_centres),
        group_ids=[int(g) for g in group_ids],
        last_k=int(k),
        last_k_count=1,
        smoothed_k=int(k),
    )
    manifest = {
        "algorithm": ALGORITHM_VERSION,
        "method": method,
        "reducer": reducer,
        "membership": "given" if membership is not None else "clustered",
        "parameters": {"seed": int(seed), "max_groups": int(max_groups),
                       "base_k": int(base_k), "min_votes": 7, "greedy_n": 15, "n_comps": 2,
                       "warm_start": warm_start is not None,
                       "bridging": {"lambda_i": LAMBDA_I, "lambda_f": LAMBDA_F,
                                    "pass_rating": PASS_RATING},
                       "rule": pol, **_umap_parameters(reducer, base_k)},
        "deterministic": True,
        "groupings": robust.groupings,
        "seed": int(seed),
        "versions": dict(_versions(method)),
        "input_sha256": vm.digest(),
        "n_participants": int(n),
        "n_statements": int(m),
        "n_votes": len(vm.vals),
        # what the groups were drawn from: without moderated-out and meta statements
        "n_statements_grouped": int(np.count_nonzero(~vm.excluded)),
        "n_votes_grouped": int(np.count_nonzero(~vm.excluded[vm.cols])),
        "n_clustered": int((gidx >= 0).sum()),
    }
    back = np.empty(n, dtype=np.int64)  # participant rows back in id order
    back[order] = np.arange(n)
    return Analysis(
        participant_ids=vm.participant_ids[back],
        statement_ids=vm.statement_ids,
        projection=proj[back],
        statement_projection=stmt_proj,
        in_conv=in_conv[back],
        labels=labels[back],
        k=int(k),
        group_ids=np.asarray(group_ids, dtype=np.int64),
        group_sizes=group_sizes,
        group_counts=counts,
        overall_counts=overall,
        repness={int(g): reps.get(int(g), []) for g in group_ids},
        consensus=cons,
        group_aware_consensus=dict(zip(tids, gac_a.tolist(), strict=True)),
        group_aware_consensus_disagree=dict(zip(tids, gac_d.tolist(), strict=True)),
        extremity=extremity,
        priorities=dict(zip(tids, prio.tolist(), strict=True)),
        manifest=manifest,
        warm_start=new_ws,
        bridging=dataclasses.replace(bridging,
                                     participant_factor=bridging.participant_factor[back]),
        escalates=escalates,
        robustness=robust,
    )
