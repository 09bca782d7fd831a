"""How big the check is and about how long it takes, as the welcome and /hilfe say it."""

from __future__ import annotations

from dataclasses import dataclass

from dialogues.catalogue import Catalogue

# Minutes per requirement, an estimate until staff have been timed: the default catalogue has
# about 1250 words to read in all (statements, hints, questions), 6 minutes at 200 words a
# minute, so 0.4 a requirement; typing the potential and the measures, a sentence or two
# each on a phone, takes one to two and a half minutes more where there is something to say.
MINUTES_PER_REQUIREMENT = (1.5, 3.0)


@dataclass(frozen=True)
class CheckSize:
    requirements: int
    per_requirement: int
    minutes_low: int
    minutes_high: int


def check_size(catalogue: Catalogue) -> CheckSize:
    """Return the catalogue's size and the time the check takes, rounded to 5 minutes."""
    count = len(catalogue.requirements)
    low, high = (max(5, round(count * m / 5) * 5) for m in MINUTES_PER_REQUIREMENT)
    return CheckSize(count, len(catalogue.questions), low, high)
