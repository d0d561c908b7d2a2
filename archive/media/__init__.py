"""Media: the artwork pipeline (`images`) and where its derivatives are kept (`storage`).

The two halves are separate on purpose: storage never imports Pillow, and the pipeline never
touches a disk. An upload passes through `images.process_upload`, and only its re-encoded
derivatives reach `storage.store_processed`; the uploaded bytes are never stored or served.
"""
