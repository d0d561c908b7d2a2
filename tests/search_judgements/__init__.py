"""A judged set for search: pieces (`pieces`), the queries people type and the pieces each
must and must not find (`queries`), and how well a search does on them: recall among the
first ten and the mean reciprocal rank of the first piece it must find.

`share_all` contributes the pieces through the site's own operations (the index is kept
as it is for any contribution); `judge` searches each query as the site does, as a viewer
who may not see the hidden piece. Used by ``tests/test_search_judged.py`` and
``scripts/bench_search.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.search_judgements.pieces import HIDDEN, PIECES
from tests.search_judgements.queries import QUERIES

FIRST = 10
#: the thresholds the search must meet on this set
MIN_RECALL, MIN_MRR = 0.95, 0.85


@dataclass
class Judgement:
    recall: float = 0.0
    mrr: float = 0.0
    queries: int = 0
    #: (query, the pieces it had to find in the first ten but did not)
    missed: list[tuple[str, list[str]]] = field(default_factory=list)
    #: (query, a piece it found that it must not)
    wrong: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"judged search: {self.queries} queries over {len(PIECES)} pieces, "
            f"recall@{FIRST} {self.recall:.3f}, MRR {self.mrr:.3f}, "
            f"{len(self.wrong)} found that must not be"
        )


def share_all(author, circle, outsider) -> dict[str, str]:
    """Contribute every piece as ``author`` in ``circle``, public, and the hidden one as
    ``outsider``, private; the public ids by key."""
    from archive.db import commit
    from archive.operations import items as item_ops
    from archive.operations.consent import ConsentChoice

    ids = {}
    for (key, language, title, body), by, audience in [
        (piece, author, "public") for piece in PIECES
    ] + [(HIDDEN, outsider, "private")]:
        draft = item_ops.Draft(kind="story", title=title, body=body, language=language)
        result = item_ops.contribute(
            by, circle, item_ops.contributor_for(by), draft, ConsentChoice(audience=audience)
        )
        commit()
        ids[key] = result.item.public_id
    return ids


def judge(found_ids: Callable[[str], list[str]], ids: dict[str, str]) -> Judgement:
    """``found_ids(query)``: the public ids a search finds, best first (all of them)."""
    keys = {public_id: key for key, public_id in ids.items()}
    out = Judgement()
    recalls, ranks = [], []
    for query, must, must_not in QUERIES:
        found = [keys.get(public_id, public_id) for public_id in found_ids(query)]
        for key in [*must_not, HIDDEN[0]]:
            if key in found:
                out.wrong.append((query, key))
        if not must:
            continue
        first = found[:FIRST]
        recalls.append(sum(key in first for key in must) / len(must))
        rank = next((at for at, key in enumerate(first, 1) if key in must), None)
        ranks.append(1 / rank if rank else 0.0)
        if any(key not in first for key in must):
            out.missed.append((query, [key for key in must if key not in first]))
    out.queries = len(QUERIES)
    out.recall = sum(recalls) / len(recalls)
    out.mrr = sum(ranks) / len(ranks)
    return out
