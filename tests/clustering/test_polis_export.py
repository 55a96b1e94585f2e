"""Reader of Pol.is CSV export directories: both formats, and every error case."""

from datetime import UTC, datetime

import pytest

from clustering import ExportFormatError, read_export

VOTES = "timestamp,datetime,comment-id,voter-id,vote\n"
OLD_COMMENTS = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
NEW_COMMENTS = (
    "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,is-seed,"
    "group-informed-consensus,comment-body\n"
)


def write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def minimal(tmp_path, votes=None, comments=None, **extra):
    files = {
        "votes.csv": votes if votes is not None else VOTES + "1403054214196,x,0,0,1\n",
        "comments.csv": comments if comments is not None
        else OLD_COMMENTS + '1403054214000,x,0,5,1,0,1,"Hello, world"\n',
    }
    files.update(extra)
    return write(tmp_path, files)


def test_old_format_ms_timestamps(tmp_path):
    ex = read_export(minimal(tmp_path))
    (c,) = ex.comments
    assert (c.comment_id, c.author_id, c.body, c.moderated) == (0, 5, "Hello, world", 1)
    assert c.is_meta is False and c.is_seed is False and c.group_informed_consensus is None
    assert c.timestamp == datetime.fromtimestamp(1403054214.0, tz=UTC)
    (v,) = ex.votes
    assert (v.comment_id, v.voter_id, v.vote) == (0, 0, 1)
    assert v.timestamp.tzinfo is not None and v.timestamp.year == 2014
    assert ex.group_ids is None and ex.summary is None


def test_new_format_seconds_bom_and_optional_files(tmp_path):
    comments = "\ufeff" + NEW_COMMENTS + (
        '1726860676,2,0,57,0,1,false,true,0.68,"multi\nline body"\n'
        "1726860677,3,0,1,1,-1,true,false,,meta\n"
    )
    votes = "\ufeff" + VOTES + "1726860583,x,2,7,-1\n1726860584,x,2,7,0\n"
    pv = "participant,xid,group-id,n-comments,n-votes\n7,,1,0,2\n8,,,0,0\n"
    summary = 'topic,"A ""topic"""\nvoters,2\n'
    d = minimal(tmp_path, votes, comments, **{"participant-votes.csv": pv,
                                              "summary.csv": summary})
    ex = read_export(d)
    a, b = ex.comments
    assert a.body == "multi\nline body" and a.is_seed and not a.is_meta
    assert a.group_informed_consensus == 0.68
    assert a.timestamp == datetime.fromtimestamp(1726860676, tz=UTC)
    assert b.is_meta and b.moderated == -1 and b.group_informed_consensus is None
    assert [v.vote for v in ex.votes] == [-1, 0]
    assert ex.group_ids == {7: 1, 8: None}
    assert ex.summary == {"topic": 'A "topic"', "voters": "2"}


def test_participants_votes_preferred_name(tmp_path):
    pv = "participant,group-id\n0,0\n"
    ex = read_export(minimal(tmp_path, **{"participants-votes.csv": pv}))
    assert ex.group_ids == {0: 0}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"votes.csv": VOTES + "1,x,0,0,abc\n"},
         'votes.csv line 2, column "vote": "abc" is not a number'),
        ({"votes.csv": VOTES + "1,x,0,0,1\n1,x,0,1,2\n"},
         'votes.csv line 3, column "vote": "2" is not -1, 0 or 1'),
        ({"votes.csv": VOTES + "1,x,0,0,0.5\n"},
         'votes.csv line 2, column "vote": "0.5" is not an integer'),
        ({"votes.csv": VOTES + "1,x,0,,1\n"},
         'votes.csv line 2, column "voter-id": missing value'),
        ({"votes.csv": VOTES + "1,x,0\n"},
         'votes.csv line 2, column "vote": missing value'),
        ({"votes.csv": VOTES + "yesterday,x,0,0,1\n"},
         'votes.csv line 2, column "timestamp": "yesterday" is not a number'),
        ({"votes.csv": VOTES + "-5,x,0,0,1\n"},
         'votes.csv line 2, column "timestamp": "-5" is not a valid epoch timestamp'),
        ({"votes.csv": "timestamp,comment-id,voter-id\n1,0,0\n"},
         'votes.csv line 1, column "vote": missing required column'),
        ({"votes.csv": ""}, "votes.csv: empty file (no header row)"),
        ({"comments.csv": OLD_COMMENTS + "1,x,0,5,1,0,2,body\n"},
         'comments.csv line 2, column "moderated": "2" is not -1, 0 or 1'),
        ({"comments.csv": NEW_COMMENTS + "1,0,5,1,0,1,maybe,false,,b\n"},
         'comments.csv line 2, column "is-meta": "maybe" is not true/false'),
        ({"comments.csv": NEW_COMMENTS + "1,0,5,1,0,1,false,false,high,b\n"},
         'comments.csv line 2, column "group-informed-consensus": "high" is not a number'),
        ({"comments.csv": "timestamp,comment-id,author-id,agrees,disagrees,moderated\n"},
         'comments.csv line 1, column "comment-body": missing required column'),
        ({"participants-votes.csv": "participant,group-id\nabc,1\n"},
         'participants-votes.csv line 2, column "participant": "abc" is not a number'),
        ({"participants-votes.csv": "participant,n-votes\n1,1\n"},
         'participants-votes.csv line 1, column "group-id": missing required column'),
    ],
)
def test_errors_are_one_line(tmp_path, files, expected):
    d = minimal(tmp_path, **{k: v for k, v in files.items()
                             if k not in ("votes.csv", "comments.csv")},
                votes=files.get("votes.csv"), comments=files.get("comments.csv"))
    with pytest.raises(ExportFormatError) as info:
        read_export(d)
    assert str(info.value) == expected
    assert "\n" not in str(info.value)


def test_line_number_counts_multiline_records(tmp_path):
    comments = OLD_COMMENTS + '1,x,0,5,1,0,1,"two\nlines"\n2,x,1,5,1,0,9,b\n'
    with pytest.raises(ExportFormatError) as info:
        read_export(minimal(tmp_path, comments=comments))
    assert (info.value.file, info.value.line, info.value.column) == ("comments.csv", 4,
                                                                      "moderated")


@pytest.mark.parametrize("missing", ["votes.csv", "comments.csv"])
def test_missing_required_file(tmp_path, missing):
    d = minimal(tmp_path)
    (d / missing).unlink()
    with pytest.raises(ExportFormatError, match=f"^{missing}: file not found$"):
        read_export(d)


def test_not_a_directory(tmp_path):
    with pytest.raises(ExportFormatError, match="not a directory"):
        read_export(tmp_path / "nope")


def test_invalid_utf8(tmp_path):
    d = minimal(tmp_path)
    (d / "votes.csv").write_bytes(VOTES.encode() + b"1,\xff\xfe,0,0,1\n")
    with pytest.raises(ExportFormatError, match=r"^votes\.csv line 2: not valid UTF-8 text$"):
        read_export(d)


@pytest.mark.parametrize(
    ("name", "n_comments", "n_vote_rows"),
    [("vtaiwan.uberx", 197, 49997), ("bg2050-volunteers", None, None),
     ("15-per-hour-seattle", 54, None), ("scoop-hivemind.biodiversity", None, None)],
)
def test_reads_real_exports(polis_dir, name, n_comments, n_vote_rows):
    ex = read_export(polis_dir(name))
    assert ex.comments and ex.votes and ex.group_ids and ex.summary
    if n_comments is not None:
        assert len(ex.comments) == n_comments
    if n_vote_rows is not None:
        assert len(ex.votes) == n_vote_rows
    assert all(v.vote in (-1, 0, 1) for v in ex.votes)


# ----------------------------------------------------------------- columnar votes.csv reading


def _columns_equal(a, b):
    import numpy as np

    return all(np.array_equal(getattr(a, name), getattr(b, name))
               for name in ("timestamp", "comment_id", "voter_id", "vote"))


@pytest.mark.parametrize("name", ["vtaiwan.uberx", "15-per-hour-seattle", "bg2050-volunteers"])
def test_columnar_reader_matches_reference_reader_on_real_exports(polis_dir, name):
    from clustering.polis_export import VoteColumns, read_vote_columns, read_votes

    path = polis_dir(name) / "votes.csv"
    assert _columns_equal(read_vote_columns(path), VoteColumns.from_votes(read_votes(path)))


@pytest.mark.parametrize(
    "rows",
    [
        "1403054214196,x,0,0,1\n1403054214197,x,1,0,-1\n",  # regular
        '1403054214196,"Tue, Jun 30",0,0,1\n',  # quoted comma in the unused column
        "1403054214196,x,0,0,1,extra\n",  # longer row
        "1403054214196,x, 0 ,0,+1\n",  # spaces and a plus sign
        "1403054214196,x,0,0,1\n\n1403054214197,x,1,1,0\n",  # blank line
        "1.403054214196e12,x,0,0,1\n",  # float timestamp
        "1403054214.25,x,0,0,1\n1403054215,x,1,0,-1\n",  # fractional seconds
        "1403054214196,x,0,0,1\n1403054215,x,1,0,-1\n",  # milliseconds and seconds mixed
        "1403054214,x,0,0,1\n1403054215,x,1,0,0\n",  # whole seconds
        "1403054214196,6月30日（火）,0,0,1\n",  # non-ASCII text in the unused column
        "1403054214,x,0.0,0,1\n",  # float id
        '"1403054214196",x,"0","0","1"\n',  # quoted numbers
    ],
)
def test_columnar_reader_takes_what_the_reference_reader_takes(tmp_path, rows):
    from clustering.polis_export import VoteColumns, read_vote_columns, read_votes

    path = tmp_path / "votes.csv"
    path.write_text(VOTES + rows, encoding="utf-8")
    assert _columns_equal(read_vote_columns(path), VoteColumns.from_votes(read_votes(path)))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (VOTES.encode() + b'1,"x,0,0,1\n2,x,0,1,1\n',
         "votes.csv line 2: a quoted value is not closed properly (unbalanced quote)"),
        (VOTES.encode() + b"1,x,0,0,1\n2,x\x00,0,1,1\n",
         "votes.csv line 3: contains a NUL character (not a text file)"),
        ("\ufeff".encode("utf-16-le").join([b"", VOTES.encode("utf-16-le")]),
         "votes.csv line 1: the file is UTF-16 or UTF-32; save it as UTF-8"),
        (VOTES.encode() + b"1,x,0,99999999999999999999,1\n",
         'votes.csv line 2, column "voter-id": "99999999999999999999" is out of range'),
        (VOTES.encode() + b"1,x,0,0,1\n1e400,x,0,1,1\n",
         'votes.csv line 3, column "timestamp": "1e400" is not a valid epoch timestamp'),
        (VOTES.encode() + b"99999999999999,x,0,0,1\n1e300,x,0,1,1\n",
         'votes.csv line 3, column "timestamp": "1e300" is out of range'),
    ],
)
def test_malformed_votes_files_name_their_line(tmp_path, content, expected):
    d = minimal(tmp_path)
    (d / "votes.csv").write_bytes(content)
    with pytest.raises(ExportFormatError) as info:
        read_export(d)
    assert str(info.value) == expected


def test_unbalanced_quote_in_comments_is_an_error(tmp_path):
    comments = OLD_COMMENTS + '1,x,0,5,1,0,1,"never closed\n2,x,1,5,1,0,1,b\n'
    with pytest.raises(ExportFormatError) as info:
        read_export(minimal(tmp_path, comments=comments))
    assert (info.value.file, info.value.line) == ("comments.csv", 2)
    assert "unbalanced quote" in str(info.value)


def test_votes_are_columns_and_objects(tmp_path):
    ex = read_export(minimal(tmp_path, votes=VOTES + "1403054214196,x,0,0,1\n1,x,0,3,-1\n"))
    assert ex.vote_columns.voter_id.tolist() == [0, 3]
    assert ex.vote_columns.vote.dtype.name == "int8"
    assert [(v.voter_id, v.vote) for v in ex.votes] == [(0, 1), (3, -1)]
