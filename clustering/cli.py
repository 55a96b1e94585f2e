"""Command line: ``python -m clustering analyze DIR [--method pca|umap] [--seed N]
[--max-groups K] [--groups-from-export]``. Prints one JSON object; bad input -> exit 2."""

from __future__ import annotations

import argparse
import json
import sys

from .analysis import analyze
from .matrix import VoteData
from .polis_export import ExportFormatError, read_export


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m clustering")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    a = sub.add_parser("analyze", help="analyse a Pol.is CSV export directory")
    a.add_argument("directory")
    a.add_argument("--method", choices=("pca", "umap"), default="pca")
    a.add_argument("--seed", type=int, default=0,
                   help="recorded in the manifest; the groups never depend on it")
    a.add_argument("--max-groups", type=int, default=5)
    a.add_argument("--groups-from-export", action="store_true",
                   help="use the group-id column of participants-votes.csv as membership")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.max_groups < 2:
        sys.stderr.write("error: --max-groups must be at least 2\n")
        return 2
    try:
        export = read_export(args.directory)
        membership = None
        if args.groups_from_export:
            if export.group_ids is None:
                raise ExportFormatError("participants-votes.csv", None, None, "file_not_found",
                                        detail="needed for --groups-from-export")
            membership = export.group_ids
        data = VoteData.from_export(export)
    except ExportFormatError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    result = analyze(data, method=args.method, seed=args.seed, max_groups=args.max_groups,
                     membership=membership)
    # json.dumps, not json.dump: dump encodes in pure Python with one write per token
    sys.stdout.write(json.dumps(result.to_json_dict(), ensure_ascii=False, allow_nan=False))
    sys.stdout.write("\n")
    return 0
