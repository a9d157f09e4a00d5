"""The estimated time left of a build stage (indexer/progress.py) on a fake clock: the rate is
passages done over the seconds since the stage began, no estimate in its first seconds or
batches, and the time said rounded as a person reads it."""
from __future__ import annotations

import pytest

from indexer.progress import MIN_SECONDS, MIN_UPDATES, StageEta, count_text, duration, embed_text, rounded


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_the_estimate_is_what_is_left_at_the_rate_measured_since_the_stage_began(clock):
    eta = StageEta(clock)
    assert eta.update(0, 2400) is None  # the stage begins
    for done in (8, 16, 24, 32):
        clock.now += 1.0
        eta.update(done, 2400)
    clock.now += 1.0
    # 40 passages in 5 s: 8/s, so the other 2360 take 295 s
    assert eta.update(40, 2400) == pytest.approx(295.0)


def test_the_rate_counts_from_where_the_stage_began_not_from_zero(clock):
    eta = StageEta(clock)
    eta.update(100, 400)  # e.g. a reader that joins a stage already under way
    for done in (110, 120, 130, 140):
        clock.now += 1.0
        eta.update(done, 400)
    assert eta.update(140, 400) == pytest.approx(260 / 10)  # 40 in 4 s


def test_no_estimate_in_the_first_seconds_however_many_batches(clock):
    eta = StageEta(clock)
    eta.update(0, 1000)
    for done in range(10, 60, 10):  # five batches in 2.5 s
        clock.now += 0.5
        assert eta.update(done, 1000) is None
    assert clock.now - 100.0 < MIN_SECONDS
    clock.now = 100.0 + MIN_SECONDS
    assert eta.update(60, 1000) == pytest.approx(940 * MIN_SECONDS / 60)


def test_no_estimate_before_a_few_batches_however_long_they_take(clock):
    eta = StageEta(clock)
    eta.update(0, 1000)
    for i in range(1, MIN_UPDATES):
        clock.now += 10.0
        assert eta.update(32 * i, 1000) is None
    clock.now += 10.0
    repeat = eta.update(32 * (MIN_UPDATES - 1), 1000)  # the same count again is not a batch done
    assert repeat is None
    assert eta.update(32 * MIN_UPDATES, 1000) is not None


def test_no_estimate_when_nothing_is_left_or_nothing_was_done(clock):
    eta = StageEta(clock)
    eta.update(0, 10)
    clock.now += 60.0
    assert eta.update(0, 10) is None
    for done in (3, 6, 9):
        clock.now += 2.0
        eta.update(done, 10)
    assert eta.update(10, 10) is None


def test_a_count_going_back_starts_a_new_measurement(clock):
    eta = StageEta(clock)
    eta.update(0, 100)
    for done in (10, 20, 30, 40):
        clock.now += 10.0  # slow: 1 passage/s
        eta.update(done, 100)
    assert eta.update(40, 100) == pytest.approx(60.0)
    eta.update(0, 50)  # the next build's embed stage
    for done in (10, 20, 30):
        clock.now += 1.0  # fast: 10 passages/s
        eta.update(done, 50)
    assert eta.update(30, 50) == pytest.approx(2.0)  # not mixed with the first run's rate


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.2, 5), (5.0, 5), (41.0, 45), (59.9, 60), (60.0, 60), (99.0, 100), (100.0, 100), (599.0, 600), (601.0, 660),
     (3599.0, 3600), (3601.0, 3900)],
)
def test_rounded_up_to_a_step_that_fits_the_size(seconds, expected):
    assert rounded(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(41.0, "45 s"), (60.0, "1 min"), (99.5, "1 min 40 s"), (125.0, "2 min 10 s"), (1234.0, "21 min"),
     (3600.0, "1 h"), (7444.0, "2 h 5 min")],
)
def test_duration_leaves_out_the_zero_parts(seconds, expected):
    assert duration(seconds) == expected


def test_duration_in_other_unit_words():
    assert duration(7444.0, ("u", "min", "s")) == "2 u 5 min"


def test_embed_text_with_and_without_an_estimate():
    assert embed_text(312, 2400, 99.5) == "312/2,400 passages · about 1 min 40 s left"
    assert embed_text(8, 2400, None) == "8/2,400 passages"
    assert count_text(1234, 12345, ".") == "1.234/12.345"


def test_the_cli_embed_bar_shows_the_estimate_once_known(clock, capsys):
    from indexer.__main__ import _progress_printer

    progress = _progress_printer(clock)
    progress("embed", 0, 2400, "")
    progress("embed", 8, 2400, "")
    assert "8/2,400 passages" in capsys.readouterr().err.splitlines()[-1].split("\r")[-1]
    for done in (16, 24, 32, 40):
        clock.now += 1.0
        progress("embed", done, 2400, "")
    shown = capsys.readouterr().err.split("\r")[-1]
    assert "Embedding passages" in shown and shown.rstrip().endswith("| 40/2,400 passages · about 4 min left")  # 2360 at 10/s


class FakeBar:
    """Stands in for st.progress: keeps what it was last told."""

    def __init__(self) -> None:
        self.value, self.text, self.calls = 0.0, "", 0

    def progress(self, value: float, text: str = "") -> None:
        self.value, self.text, self.calls = value, text, self.calls + 1


@pytest.mark.parametrize(
    ("language", "before", "after"),
    [("nl", "Passages inbedden (40/2.400)", "Passages inbedden: 1.240/2.400 · nog ongeveer 1 min 40 s"),
     ("en", "Embedding passages (40/2,400)", "Embedding passages: 1,240/2,400 · about 1 min 40 s left")],
)
def test_the_app_bar_shows_the_estimate_once_known_in_the_sessions_language(clock, monkeypatch, language, before, after):
    from ui import i18n
    from ui.index_guard import progress_callback

    monkeypatch.setattr(i18n, "lang", lambda: language)
    bar = FakeBar()
    progress = progress_callback(bar, clock)
    progress("embed", 0, 2400, "")
    for done in (8, 16, 24, 32, 40):  # a batch every 0.5 s: too early for an estimate
        clock.now += 0.5
        progress("embed", done, 2400, "")
    assert bar.text == before
    clock.now += 97.5  # 1240 in 100 s: the other 1160 take 94 s at that rate, said as 100 s
    progress("embed", 1240, 2400, "")
    assert bar.text == after
    assert bar.value == pytest.approx(0.15 + 0.78 * 1240 / 2400)


def test_the_app_bar_is_redrawn_at_most_ten_times_a_second_but_every_step_counts(clock):
    from ui.index_guard import progress_callback

    bar = FakeBar()
    progress = progress_callback(bar, clock)
    for done in range(0, 100, 10):  # ten batches in the same instant
        progress("embed", done, 1000, "")
    assert bar.calls == 1
    clock.now += 4.0
    progress("embed", 100, 1000, "")  # the skipped batches counted: an estimate now
    assert bar.calls == 2 and "nog ongeveer" in bar.text
