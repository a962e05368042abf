"""A full run's results against the last accepted run (tests/results_digest.py explains the digest)."""

from pathlib import Path

import pytest
from results_digest import _canonical_text, digest, format_digest, read_digest

ACCEPTED = Path(__file__).parent / "data" / "results.sha256"


@pytest.mark.slow
def test_a_full_run_gives_the_accepted_results(finished_project):
    accepted = read_digest(ACCEPTED)
    now = digest(finished_project / "results")
    changed = sorted(name for name in accepted.keys() & now.keys() if accepted[name] != now[name])
    missing = sorted(accepted.keys() - now.keys())
    new = sorted(now.keys() - accepted.keys())
    assert not (changed or missing or new), (
        f"results/ differ from the accepted run: changed {changed}, missing {missing}, new {new}. If the "
        f"change is intended, run `make results-digest`, commit tests/data/results.sha256 with the change, "
        f"and say in the commit which results moved and why."
    )


def test_the_digest_ignores_a_last_bit_but_not_a_printed_digit(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    table = results / "estimates.csv"
    table.write_text("term,estimate\nage,0.43123037486843158\n")
    before = digest(results)
    table.write_text("term,estimate\nage,0.43123037486843141\n")  # another BLAS's last bits
    assert digest(results) == before
    table.write_text("term,estimate\nage,0.4312304\n")
    assert digest(results) != before
    (results / "figure.png").write_bytes(b"\x89PNG")
    assert digest(results).keys() == before.keys()
    (tmp_path / "accepted.sha256").write_text(format_digest(before))
    assert read_digest(tmp_path / "accepted.sha256") == before


def test_words_are_digested_exactly(tmp_path):
    note = tmp_path / "notes.txt"
    note.write_text("0.43123037486843158\n")
    assert _canonical_text(note) == "0.43123037486843158\n"
