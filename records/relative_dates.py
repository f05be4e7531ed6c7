"""Relative date ranges (today, this_month, last_n_days…) as half-open [start, end) dates."""

from __future__ import annotations

import datetime as dt


def _month_start(day: dt.date, offset: int = 0) -> dt.date:
    month = day.month - 1 + offset
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def date_range(operator: str, today: dt.date, n: int | None = None) -> tuple[dt.date, dt.date]:
    day = dt.timedelta(days=1)
    week_start = today - dt.timedelta(days=today.weekday())
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    ranges = {
        "today": lambda: (today, today + day),
        "yesterday": lambda: (today - day, today),
        "tomorrow": lambda: (today + day, today + 2 * day),
        "this_week": lambda: (week_start, week_start + 7 * day),
        "last_week": lambda: (week_start - 7 * day, week_start),
        "this_month": lambda: (_month_start(today), _month_start(today, 1)),
        "last_month": lambda: (_month_start(today, -1), _month_start(today)),
        "this_quarter": lambda: (quarter_start, _month_start(quarter_start, 3)),
        "this_year": lambda: (dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        "last_n_days": lambda: (today - (n - 1) * day, today + day),
        "next_n_days": lambda: (today, today + n * day),
        # before the day n days ago: "no order for more than 180 days"
        "over_n_days_ago": lambda: (dt.date(1, 1, 1), today - n * day),
    }
    return ranges[operator]()
