"""Detectors: one module per practice, pure functions of the report and the rubric.

Each detector module registers ``detect(ctx, practice_id, practice) -> PracticeOutcome`` under
its practice id(s) with :func:`register`. Scoring (``calmline.monitor.scoring``) runs the customer
stress estimate first, then every enabled practice's detector, then combines the outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from calmline.monitor.rubric import PracticeRubric, Rubric
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import CallReport, Finding, Role, StressTrajectory, Turn


@dataclass(frozen=True, slots=True)
class DetectorContext:
    report: CallReport
    rubric: Rubric
    matcher: PhraseMatcher
    stress: StressTrajectory

    @property
    def language(self) -> str:
        return self.rubric.language

    def turns_of(self, role: Role) -> tuple[Turn, ...]:
        return tuple(t for t in self.report.turns if t.role is role)

    def agitation_at(self, time: float) -> float:
        """Customer agitation (0-1) at ``time``: the customer turn covering it, else the latest
        customer turn that ended before it, else 0."""
        best = 0.0
        for s in self.stress.turns:
            if s.start <= time <= s.end:
                return s.agitation
            if s.end < time:
                best = s.agitation
        return best


@dataclass(frozen=True, slots=True)
class PracticeOutcome:
    score: float | None
    """0-100, or ``None`` when the call gives nothing to judge this practice on."""
    findings: tuple[Finding, ...]
    coaching_values: Mapping[str, str] = field(default_factory=dict)
    """Values for the coaching template's ``{missing}`` and ``{say}`` (what is missing and the
    words suggested for it), where the detector knows them."""


Detector = Callable[[DetectorContext, str, PracticeRubric], PracticeOutcome]

_DETECTORS: dict[str, Detector] = {}


def register(*practice_ids: str) -> Callable[[Detector], Detector]:
    def decorator(fn: Detector) -> Detector:
        for pid in practice_ids:
            _DETECTORS[pid] = fn
        return fn

    return decorator


def detector_for(practice_id: str) -> Detector | None:
    _load_all()
    return _DETECTORS.get(practice_id)


def known_practices() -> list[str]:
    _load_all()
    return sorted(_DETECTORS)


def _load_all() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
