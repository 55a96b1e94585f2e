#!/usr/bin/env python3
"""Git merge driver for the gettext catalogs: a three-way merge message by message.

Two branches that each add translations touch different messages of the same catalog;
line-based merging reports a conflict whenever their entries are neighbours. Enable with

    git config merge.po.driver ".venv/bin/python scripts/merge_po.py %O %A %B"

(.gitattributes routes *.po to it). Where both sides changed one message, ours is kept.
"""

import sys

from babel.messages.pofile import read_po, write_po


def _load(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def _key(message):
    return (message.id if isinstance(message.id, str) else tuple(message.id), message.context)


def merge(base_path: str, ours_path: str, theirs_path: str) -> None:
    base, ours, theirs = _load(base_path), _load(ours_path), _load(theirs_path)
    base_messages = {_key(m): m for m in base if m.id}
    ours_messages = {_key(m): m for m in ours if m.id}
    for message in theirs:
        if not message.id:
            continue
        key = _key(message)
        mine = ours_messages.get(key)
        before = base_messages.get(key)
        if mine is None:
            if before is None:  # added on their side
                ours[message.id] = message
            continue
        if before is not None and mine.string == before.string:  # only they changed it
            mine.string = message.string
    theirs_keys = {_key(m) for m in theirs if m.id}
    for key, before in base_messages.items():
        mine = ours_messages.get(key)
        if key not in theirs_keys and mine is not None and mine.string == before.string:
            del ours[before.id, before.context]  # removed on their side
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, sort_output=True, omit_header=False, include_previous=False)


if __name__ == "__main__":
    merge(*sys.argv[1:4])
