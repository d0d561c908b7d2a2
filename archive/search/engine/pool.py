"""Postings gathered word by word while a segment is written, instead of sorted at the end.

Whoosh's writer puts every posting — (field, word, entry, weight, value) — into one list and
sorts the whole list when the segment is finished (`PostingPool`): a rebuild of the index
spent a fifth of its time in that sort. Entries are added in order, so the postings of each
word already come in order; only the words need sorting, and there are far fewer words than
postings. `TermPool` (the pool `writers.ArchiveWriter` writes with) keeps each word's
postings in lists of their own, sorts the words once at the end, and hands them to
`ArchiveFieldWriter` a word at a time (which writes a block of postings from list slices
instead of one posting per call).

Like Whoosh's pool it keeps to a memory limit: past it, what it holds is written to a
temporary file in word order (a run), and the runs are merged word by word at the end.
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

from whoosh.util import random_name

#: rough memory of one posting (list slots, the weight, the value object) and of one word
#: (its key, three lists, the dictionary slot), to keep to the writer's ``limitmb``
POSTING_BYTES, WORD_BYTES = 100, 400
Word = tuple  # (fieldname, text, ids, weights, values)


class TermPool:
    """Stands in for Whoosh's ``PostingPool`` (same constructor, ``add``, ``iter_postings``,
    ``cleanup`` and ``fieldnames``)."""

    def __init__(self, tempstore, segment, limitmb: int = 128, **_kwargs):
        self.tempstore = tempstore
        self.segment = segment
        self.limit = limitmb * 1024 * 1024
        self.fieldnames: set[str] = set()
        self._fields: dict[str, dict[bytes, tuple[list, list, list]]] = {}
        self._size = 0
        self.runs: list[str] = []

    def add(self, item) -> None:
        fieldname, text, docnum, weight, value = item
        words = self._fields.get(fieldname)
        if words is None:
            words = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        postings = words.get(text)
        if postings is None:
            postings = words[text] = ([], [], [])
            self._size += WORD_BYTES + len(text)
        postings[0].append(docnum)
        postings[1].append(weight)
        postings[2].append(value)
        self._size += POSTING_BYTES + (len(value) if value else 0)
        if self._size > self.limit:
            self._spill()

    def _spill(self) -> None:
        """Write what is held to a run file, in word order, and start afresh."""
        path = f"{random_name()}.run"
        with self.tempstore.create_file(path).raw_file() as f:
            dump = pickle.Pickler(f, pickle.HIGHEST_PROTOCOL).dump
            for word in self._held():
                dump(word)
        self.runs.append(path)
        self._fields = {}
        self._size = 0

    def _read_run(self, path: str) -> Iterator[Word]:
        with self.tempstore.open_file(path).raw_file() as f:
            load = pickle.Unpickler(f).load
            while True:
                try:
                    yield load()
                except EOFError:
                    break
        self.tempstore.delete_file(path)

    def _held(self) -> Iterator[Word]:
        for fieldname in sorted(self._fields):
            words = self._fields[fieldname]
            for text in sorted(words):
                yield (fieldname, text, *words[text])

    def words(self) -> Iterator[Word]:
        """Every word once, in (field, text) order, with its postings' entry numbers,
        weights and values as lists, in entry order."""
        if not self.runs:
            words = self._held()
        else:
            # a word's postings are split between runs written one after another
            sources = [self._read_run(path) for path in self.runs] + [self._held()]
            merged = heapq.merge(*sources, key=itemgetter(0, 1))
            words = (_joined(list(group)) for _key, group in groupby(merged, key=itemgetter(0, 1)))
        for word in words:
            ids = word[2]
            if len(ids) > 1 and ids != sorted(ids):  # never seen: Whoosh adds in order
                word = _sorted(word)
            yield word
        self._fields = {}
        self.runs = []

    def iter_postings(self) -> Postings:
        return Postings(self)

    def save(self) -> None:
        raise NotImplementedError(
            "a TermPool is not handed from process to process: each process of a "
            "multi-process writer finishes a segment of its own (multisegment=True)"
        )

    def cleanup(self) -> None:
        for path in self.runs:
            try:
                self.tempstore.delete_file(path)
            except OSError:
                pass
        self.runs = []
        self._fields = {}


def _joined(parts: list[Word]) -> Word:
    if len(parts) == 1:
        return parts[0]
    fieldname, text = parts[0][:2]
    ids, weights, values = [], [], []
    for part in parts:
        ids += part[2]
        weights += part[3]
        values += part[4]
    return fieldname, text, ids, weights, values


def _sorted(word: Word) -> Word:
    order = sorted(range(len(word[2])), key=word[2].__getitem__)
    return (*word[:2], *([column[i] for i in order] for column in word[2:]))


class Postings:
    """The pool's postings: word by word through `words` (what `ArchiveFieldWriter` reads),
    or one (field, text, entry, weight, value) tuple at a time, as any Whoosh field writer
    reads them."""

    def __init__(self, pool: TermPool):
        self.words = pool.words

    def __iter__(self):
        for fieldname, text, ids, weights, values in self.words():
            for posting in zip(ids, weights, values, strict=True):
                yield (fieldname, text, *posting)
