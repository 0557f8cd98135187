"""Logs carry no patient data, and come as JSON lines for a collector when asked."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from app.web.logs import JsonFormatter


def test_a_json_log_line_has_time_level_logger_message_and_only_the_exception_type():
    try:
        raise ValueError("Dupont Marie née le 01/02/1950")  # a message that quotes a value
    except ValueError:
        record = logging.LogRecord(
            "app.errors", logging.ERROR, __file__, 1, "unhandled on %s", ("/patients",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["logger"] == "app.errors" and line["message"] == "unhandled on /patients"
    assert line["exception"] == "ValueError" and "Dupont" not in json.dumps(line)


def test_the_server_logs_no_query_string_nor_form_value(tmp_path, demo, database_url):
    """A real server in JSON mode: a search with a patient's name and a refused form leave no
    trace of them in its output."""
    import httpx

    from app.bench.http import _free_port

    port = _free_port()
    env = {**os.environ, "SMP_LOG_FORMAT": "json", "SMP_DATABASE_URL": database_url}
    log = (tmp_path / "server.log").open("w")
    smp = str(Path(sys.executable).parent / "smp")
    server = subprocess.Popen([smp, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                import time

                time.sleep(0.1)
        httpx.get(base + "/api/clinicians", params={"role": "Secretname\x00"}, headers={"Authorization": "Bearer x"})
        httpx.get(base + "/patients", params={"q": "Secretname Zorglub"})
        httpx.get(base + "/no-such-page", params={"nom": "Secretname"})
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    output = (tmp_path / "server.log").read_text()
    assert "Secretname" not in output and "Zorglub" not in output
    json_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert json_lines, output[:500]  # the application's own lines are JSON
