"""Image data for dominoes: readers for the standard on-disk formats, where to find them, checksums,
explicit downloads, offline procedural sources, and the uniform :class:`~dominoes.data.sources.ImageSource`
record the mixture builder consumes. Nothing here touches the network unless a download is requested.
"""
