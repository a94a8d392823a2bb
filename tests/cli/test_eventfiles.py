"""JSON lines of OpenLineage events: reading names the bad line, writing replaces a file only when done."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from airflow_lineage_provider.cli import eventfiles
from airflow_lineage_provider.exceptions import InvalidEventError


def test_read_events_keeps_line_numbers_and_skips_blank_lines() -> None:
    stream = io.BytesIO(b'{"a": 1}\n\n  \n{"b": 2}\n')

    assert eventfiles.read_events(stream, "events.jsonl") == [(1, {"a": 1}), (4, {"b": 2})]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1}\n{"a": \n', "events.jsonl line 2: not valid JSON: Expecting value (column 7)"),
        (
            '{"a": 1}\n\n[1, 2]\n',
            "events.jsonl line 3: expected one OpenLineage event (a JSON object), got list",
        ),
    ],
)
def test_read_events_names_the_first_bad_line(text: str, message: str) -> None:
    with pytest.raises(InvalidEventError) as error:
        eventfiles.read_events(io.BytesIO(text.encode()), "events.jsonl")

    assert str(error.value) == message


def test_a_byte_that_is_not_utf8_is_reported_on_its_own_line_past_any_read_buffer() -> None:
    long_line = b'{"pad": "' + b"x" * 2000 + b'"}\n'  # 29 lines of 2 kB: well past an 8 kB buffer
    stream = io.BytesIO(long_line * 29 + b'{"name": "caf\xe9"}\n' + long_line)

    with pytest.raises(InvalidEventError) as error:
        eventfiles.read_events(stream, "events.jsonl")

    assert str(error.value) == "events.jsonl line 30: not UTF-8 text (invalid continuation byte at byte 14)"


def test_write_events_writes_one_compact_event_a_line() -> None:
    stream = io.StringIO()

    count = eventfiles.write_events([{"a": 1, "name": "café"}, {"b": [1, 2]}], stream)

    assert count == 2
    assert stream.getvalue() == '{"a":1,"name":"café"}\n{"b":[1,2]}\n'


def test_atomic_text_file_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "export.jsonl"
    target.write_text("old\n")

    with pytest.raises(RuntimeError), eventfiles.atomic_text_file(str(target)) as stream:
        stream.write("half")
        raise RuntimeError("store went away")

    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.jsonl"]


def test_atomic_text_file_replaces_the_file_when_done(tmp_path: Path) -> None:
    target = tmp_path / "export.jsonl"
    target.write_text("old\n")

    with eventfiles.atomic_text_file(str(target)) as stream:
        stream.write("new\n")

    assert target.read_text() == "new\n"
