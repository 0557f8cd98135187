"""The soak in a short form (``smp bench soak`` runs it for five minutes with 50 clients): many
clients at a human pace against the real server — no 5xx, no network error."""

from app.bench.soak import run


def test_a_short_soak_has_no_server_error(demo):
    figures = run(clients=20, seconds=15, patients=300, sample_s=1)
    counts = figures["counts"]
    assert counts["requests"] > 100, counts
    assert counts["5xx"] == 0 and counts["errors"] == 0, counts
    assert counts["2xx"] > counts["requests"] // 2, counts
    assert figures["memory"] and figures["rss_max_mib"] > 0
