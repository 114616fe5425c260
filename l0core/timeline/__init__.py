"""The timeline engine: time travel over a recorded stream.

:class:`Timeline` indexes a stream's envelopes incrementally and answers, without
refolding from seq 0: the state at any seq, which event last changed a field,
where the next RETRY is, the attempts, timing, text search and a minimap.
:func:`l0core.diff.diff_timelines` compares two of them.

Modules: :mod:`.index` (the Timeline and :func:`load_timeline`), and what it is
built from: :mod:`.content` (content versions), :mod:`.tokens` (TOKEN events as
columns), :mod:`.ranks` (kinds as one byte per seq), :mod:`.minimap`,
:mod:`.attempts`, :mod:`.timing`, :mod:`.search`; and on top of it :mod:`.provenance`
(which TOKEN wrote each character) and :mod:`.lineage` (why each attempt started,
what it carried over). The fold rules it indexes are
in ``docs/format.md``.
"""

from l0core.timeline.attempts import Attempt
from l0core.timeline.index import Timeline, load_timeline
from l0core.timeline.lineage import AttemptLineage, attempt_lineage
from l0core.timeline.provenance import CharProvenance
from l0core.timeline.ranks import IMPORTANCE
from l0core.timeline.search import SEARCH_SCOPES
from l0core.timeline.timing import AttemptTiming, Timing

__all__ = [
    "IMPORTANCE",
    "SEARCH_SCOPES",
    "Attempt",
    "AttemptLineage",
    "AttemptTiming",
    "CharProvenance",
    "Timeline",
    "Timing",
    "attempt_lineage",
    "load_timeline",
]
