"""axe-core in the browser tests: the engine (vendored from the npm registry, test-only) is added to
every page of a context, and ``serious_violations`` returns what WCAG 2.1 A/AA rules it breaks
with a serious or critical impact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.10.3.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " + (n.failureSummary || "")) }));
}"""


def with_axe(context: Any) -> Any:
    """Make axe available on every page of ``context`` (an init script: no page needs to load it)."""
    context.add_init_script(path=str(AXE))
    return context


def serious_violations(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(_RUN, WCAG_TAGS))


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"  [{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations)
