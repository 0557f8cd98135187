"""The rule ids and the soft rules' weights (integer cost units), shared by the CP-SAT model and
the solver-independent validator. Why each weight has its size is told in docs/solver.md."""

HARD_RULES: tuple[str, ...] = (
    "works_only_declared_half_days",
    "one_session_per_half_day",
    "sessions_within_site_rooms",
    "only_open_half_days_never_holidays",
    "weekly_maximum_respected",
    "intern_needs_supervisor_on_site",
    "only_allowed_sites",
    "pinned_sessions_are_kept",
)
SOFT_RULES: tuple[str, ...] = (
    "meet_site_targets",
    "use_preferred_half_days",
    "use_preferred_sites",
    "keep_clinicians_near_weekly_target",
    "little_travel_from_home",
    "few_changes_from_previous",
    "avoid_sessions_above_target",
)

# Coverage dominates: filling one more target session is worth more than any cost that one
# added session can bring (change + over weekly target + not preferred + a long trip < 1,000).
WEIGHT_UNMET_TARGET = 10_000
"""Per target session left empty at a site."""
WEIGHT_CHANGE = 300
"""Per session added to or removed from the published rota when re-solving."""
WEIGHT_ABOVE_SITE_TARGET = 100
"""Per session beyond a site's target for a half-day."""
WEIGHT_OVER_WEEKLY_TARGET = 60
"""Per session beyond a clinician's weekly target."""
WEIGHT_UNDER_WEEKLY_TARGET = 40
"""The k-th session missing below a clinician's weekly target costs k × this (convex, so
shortfalls are spread between clinicians rather than heaped on one)."""
WEIGHT_NOT_PREFERRED = 20
"""Per session on a half-day declared "available" rather than "preferred"."""
WEIGHT_NOT_PREFERRED_SITE = 15
"""Per session at a site the clinician did not name among their preferred sites (when they
named any): a comfort, a little less than a preferred half-day."""
WEIGHT_TRAVEL_PER_KM = 1
"""Per kilometre (great circle, home to site, one way) per session."""
