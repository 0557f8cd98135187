"""Logs: one line per event, JSON when ``SMP_LOG_FORMAT=json`` (for a log collector), plain text
otherwise. Nothing about patients goes in: the application logs paths (never query strings or
bodies), exception types and counts; patient accesses are in the audit trail instead."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os

from litestar.logging.config import LoggingConfig


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type and the code location only: its message may quote a value.
            entry["exception"] = record.exc_info[0].__name__
            tb = record.exc_info[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                entry["where"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        return json.dumps(entry, ensure_ascii=False)


def logging_config() -> LoggingConfig:
    """Litestar's logging configuration (it owns the root logger): its usual text lines, or JSON
    lines with ``SMP_LOG_FORMAT=json``."""
    if os.environ.get("SMP_LOG_FORMAT", "text") == "json":
        return LoggingConfig(formatters={"standard": {"()": JsonFormatter}})
    return LoggingConfig()
