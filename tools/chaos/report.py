"""What the chaos campaign counts and prints: each fault's outcome, the table and the one line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    fault: str
    expected: str
    observed: str
    survived: bool


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # requests answered 500
    checks: int = 0
    unescaped: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)

    def summary(self) -> str:
        survived = sum(o.survived for o in self.outcomes)
        return (
            f"faults survived {survived}/{len(self.outcomes)}, "
            f"500s {len(self.errors)}/{self.requests}, "
            f"unescaped {len(self.unescaped)}/{self.checks}, "
            f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, stuck {len(self.stuck)}"
        )

    @property
    def clean(self) -> bool:
        return all(o.survived for o in self.outcomes) and not (
            self.errors or self.unescaped or self.lost or self.duplicated or self.stuck
        )

    def table(self) -> str:
        widths = [
            max(len(getattr(o, name)) for o in self.outcomes) if self.outcomes else 5
            for name in ("fault", "expected")
        ]
        widths = [min(max(w, 5), 48) for w in widths]
        lines = [f"{'fault':<{widths[0]}}  {'expected':<{widths[1]}}  observed"]
        for o in self.outcomes:
            mark = "ok  " if o.survived else "FAIL"
            lines.append(f"{o.fault:<{widths[0]}}  {o.expected:<{widths[1]}}  {mark} {o.observed}")
        for name in ("errors", "unescaped", "lost", "duplicated", "stuck"):
            for item in getattr(self, name)[:20]:
                lines.append(f"  {name}: {item}")
        return "\n".join(lines)
