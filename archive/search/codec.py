"""The names indexes written before `archive.search.engine` recorded for the codec and the
word formats (Whoosh pickles the classes with each segment and the schema): kept so that
such an index still opens, and `flask setup` can see that it is to be rebuilt."""

from archive.search.engine.codec import ArchiveCodec  # noqa: F401
from archive.search.engine.formats import WordCounts, WordPositions  # noqa: F401
