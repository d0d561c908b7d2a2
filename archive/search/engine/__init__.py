"""The archive's Whoosh engine: the one place that reaches into Whoosh's workings.

Everything here plugs into Whoosh where Whoosh accepts a class of ours, and changes nothing
of Whoosh itself: another Whoosh index in the same process behaves as stock Whoosh.

- `codec`: ``ArchiveCodec``, the codec every segment of the archive's index is written and
  read with — its postings layout and matcher (skipping by bisection), its segment (read in
  place from the memory map, `files`), word table reader (`files`) and field lengths
  (`lengths`).
- `formats`: how a posting keeps its word positions or counts (pickled with the schema).
- `writers`: ``ArchiveWriter`` and its multi-process form, Whoosh's writers gathering
  postings word by word (`pool`).
- `searching`: the segment reader that is brought up to date instead of reopened, the
  searcher that carries the sets worked out for it, and reading the table of contents.
- `postings`: a word's postings in one segment as arrays, for `docsets` and `ranking`.
"""
