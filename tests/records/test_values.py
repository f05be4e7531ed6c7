"""CEL evaluation hands a program only the fields it reads, without changing any answer."""

import pytest

from metadata.cel_check import compile_expression
from records.values import _reads, evaluate

RECORD = {"amount": 10.0, "probability": 50.0, "stage": "won", "note": None}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("record.amount * record.probability / 100.0", 5.0),
        ('record["stage"] == "won"', True),
        ("has(record.note) && record.note == null", True),
        ("size(record)", 4),  # the whole record: every field is there
        ('"record.amount" + record.stage', "record.amountwon"),
        ("now > timestamp('2000-01-01T00:00:00Z')", True),
    ],
)
def test_pruned_and_whole_records_give_the_same_answers(source, expected):
    assert evaluate(compile_expression(source), RECORD) == expected


def test_what_a_program_reads():
    assert _reads("record.amount > record.probability") == (
        frozenset({"amount", "probability"}),
        False,
    )
    assert _reads("size(record) > 1 && now > now") == (None, True)
    assert _reads('record["stage"] == "record"') == (frozenset({"stage"}), False)


def test_a_field_missing_from_the_record_is_still_an_error():
    with pytest.raises(KeyError, match="unknown"):
        evaluate(compile_expression("record.unknown == 1"), RECORD)
