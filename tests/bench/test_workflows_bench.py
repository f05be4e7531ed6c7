"""The workflow benchmark's statistics and log parsing (bench/workflows_bench.py). No database,
no workers: the measurement itself is ``python -m bench workflows``."""

from bench.workflows_bench import (
    PROBABILITY,
    Delivered,
    exactly_once,
    paced,
    phase_stats,
    task_seconds,
)


def row(record_id, committed, applied, *, runs=1, status="done", events=1, version=2):
    return Delivered(
        record_id=record_id,
        committed=committed,
        events=events,
        status=status,
        created_at=committed - 0.002,
        runs=runs,
        applied_at=applied,
        finished_at=None if applied is None else applied + 0.005,
        version=version,
        probability=PROBABILITY,
    )


def test_rates_and_delays_run_from_the_first_commit_to_the_last_action():
    rows = [row(i, 100.0 + i * 0.01, 100.5 + i * 0.02) for i in range(20)]

    stats = phase_stats(rows, expected=20)

    # 20 events between the first commit (100.0) and the last action (100.88).
    assert stats["events_per_s"] == round(20 / 0.88, 1)
    assert stats["delay_p50_ms"] == 595.0  # median of 500, 510, … 690 ms
    assert stats["delay_p95_ms"] == 680.0  # nearest rank: the 19th of 20
    assert stats["complete"]
    assert stats["exactly_once"]


def test_an_action_applied_twice_or_an_event_left_pending_is_not_exactly_once():
    good = [row(i, 1.0, 2.0) for i in range(3)]

    assert exactly_once(good, 3)
    assert not exactly_once([*good[:2], row(2, 1.0, 2.0, runs=2)], 3)
    assert not exactly_once([*good[:2], row(2, 1.0, 2.0, version=3)], 3)
    assert not exactly_once([*good[:2], row(2, 1.0, None, runs=0, status="pending")], 3)
    assert not exactly_once([*good[:2], row(2, 1.0, 2.0, events=2)], 3)
    assert not exactly_once(good[:2], 3)


def test_an_unfinished_phase_reports_what_was_applied():
    rows = [row(0, 1.0, 1.2), row(1, 1.1, None, runs=0, status="pending")]

    stats = phase_stats(rows, expected=2)

    assert stats["applied"] == 1
    assert not stats["complete"]
    assert not stats["exactly_once"]
    assert stats["delay_p95_ms"] == 200.0


def test_task_run_times_are_read_from_the_worker_log():
    log = (
        "[2026-11-23 16:33:50,483: INFO/MainProcess] Task workflows.tasks.deliver_event"
        "[0b1c-42] succeeded in 0.0132s: 'done'\n"
        "[2026-11-23 16:33:50,490: INFO/MainProcess] Task records.tasks.run_schema_jobs"
        "[77aa] succeeded in 0.5s: 0\n"
        "[2026-11-23 16:33:50,495: INFO/MainProcess] Task workflows.tasks.deliver_event"
        "[9f00-1] succeeded in 0.021s: 'done'\n"
    )

    assert task_seconds(log) == [0.0132, 0.021]


def test_a_paced_run_keeps_to_its_schedule():
    now = [0.0]
    calls = []

    def clock():
        return now[0]

    def action(index):
        calls.append((index, now[0]))
        now[0] += 0.03  # each call takes 30 ms; the schedule is one per 50 ms

    def sleep(seconds):
        now[0] += seconds

    elapsed = paced(4, 20.0, action, clock=clock, sleep=sleep)

    assert [round(at, 3) for _, at in calls] == [0.0, 0.05, 0.1, 0.15]
    assert round(elapsed, 3) == 0.18
