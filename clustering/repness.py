"""Representativeness, exactly as Pol.is repness.clj (conv-repness, select-rep-comments)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .stats import Z90, Counts, prop_test, two_prop_test

__all__ = ["RepComment", "RepStats", "repness_stats", "select_rep_comments"]


@dataclass(frozen=True)
class RepStats:
    """All per (group, statement) statistics; arrays of shape (groups, statements)."""

    na: np.ndarray
    nd: np.ndarray
    ns: np.ndarray
    pa: np.ndarray
    pd: np.ndarray
    pat: np.ndarray
    pdt: np.ndarray
    ra: np.ndarray
    rd: np.ndarray
    rat: np.ndarray
    rdt: np.ndarray


@dataclass(frozen=True)
class RepComment:
    tid: int
    direction: str  # "agree" | "disagree"
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float  # float32-rounded as in Pol.is
    pa: float
    pd: float
    pat: float
    pdt: float
    ra: float
    rd: float
    rat: float
    rdt: float
    n_agree: int
    n_disagree: int
    n_seen: int
    best_agree: bool = False

    @property
    def metric(self) -> float:
        return self.repness * self.repness_test * self.p_success * self.p_test

    def to_dict(self) -> dict:
        return asdict(self)


def repness_stats(c: Counts) -> RepStats:
    na, nd, ns = c.agree, c.disagree, c.seen
    rna, rnd, rns = na.sum(0) - na, nd.sum(0) - nd, ns.sum(0) - ns
    pa = (1 + na) / (2 + ns)
    pd = (1 + nd) / (2 + ns)
    return RepStats(
        na=na, nd=nd, ns=ns, pa=pa, pd=pd,
        pat=prop_test(na, ns), pdt=prop_test(nd, ns),
        ra=pa / ((1 + rna) / (2 + rns)), rd=pd / ((1 + rnd) / (2 + rns)),
        rat=two_prop_test(na, rna, ns, rns), rdt=two_prop_test(nd, rnd, ns, rns),
    )


def _f32(x: float) -> float:
    return float(np.float32(x))


def _finalize(s: dict, tid: int, best_agree: bool = False) -> RepComment:
    if s["rat"] > s["rdt"]:
        n, p, pt, r, rt, d = s["na"], s["pa"], s["pat"], s["ra"], s["rat"], "agree"
    else:
        n, p, pt, r, rt, d = s["nd"], s["pd"], s["pdt"], s["rd"], s["rdt"], "disagree"
    return RepComment(
        tid=tid, direction=d, n_success=n, n_trials=s["ns"], p_success=p, p_test=pt,
        repness=r, repness_test=_f32(rt),
        pa=s["pa"], pd=s["pd"], pat=s["pat"], pdt=s["pdt"],
        ra=s["ra"], rd=s["rd"], rat=s["rat"], rdt=s["rdt"],
        n_agree=s["na"], n_disagree=s["nd"], n_seen=s["ns"], best_agree=best_agree,
    )


def _passes(s) -> bool:
    return (s["rat"] > Z90 and s["pat"] > Z90) or (s["rdt"] > Z90 and s["pdt"] > Z90)


def _beats_best_agr(s, best) -> bool:
    if s["na"] == 0 and s["nd"] == 0:
        return False
    if best is not None and best["ra"] > 1.0:
        return s["ra"] * s["rat"] * s["pa"] * s["pat"] > (
            best["ra"] * best["rat"] * best["pa"] * best["pat"])
    if best is not None:
        return s["pa"] * s["pat"] > best["pa"] * best["pat"]
    return s["pat"] > Z90 or (s["ra"] > 1.0 and s["pa"] > 0.5)


_KEYS = ("na", "nd", "ns", "pa", "pd", "pat", "pdt", "ra", "rd", "rat", "rdt")


def select_rep_comments(
    st: RepStats, statement_ids: np.ndarray, excluded: np.ndarray, group_ids, max_n: int = 5
) -> dict[int, list[RepComment]]:
    """Pol.is select-rep-comments: up to 5 per group, best-agree first, agrees first."""
    cols = np.flatnonzero(~excluded)
    out: dict[int, list[RepComment]] = {}
    for gi, gid in enumerate(group_ids):
        arr = {key: getattr(st, key)[gi, cols].tolist() for key in _KEYS}
        sufficient: list[RepComment] = []
        best: RepComment | None = None
        best_agree: dict | None = None
        best_agree_tid = None
        for i, j in enumerate(cols.tolist()):
            s = {key: arr[key][i] for key in _KEYS}
            tid = int(statement_ids[j])
            if _passes(s):
                sufficient.append(_finalize(s, tid))
            if not sufficient and (
                best is None or max(s["rat"], s["rdt"]) > best.repness_test
            ):
                best = _finalize(s, tid)
            if _beats_best_agr(s, best_agree):
                best_agree, best_agree_tid = s, tid
        ba = None
        if best_agree is not None:
            ba = _finalize(best_agree, best_agree_tid, best_agree=True)
        if not sufficient:
            out[int(gid)] = [ba] if ba is not None else ([best] if best is not None else [])
            continue
        rest = [c for c in sufficient if ba is None or c.tid != ba.tid]
        rest.sort(key=lambda c: -c.metric)
        chosen = ([ba] if ba is not None else []) + rest
        chosen = chosen[:max_n]
        chosen = [c for c in chosen if c.direction == "agree"] + [
            c for c in chosen if c.direction == "disagree"
        ]
        out[int(gid)] = chosen
    return out
