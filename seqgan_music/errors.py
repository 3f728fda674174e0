"""The project's own error type: what the CLI turns into one line on stderr and a non-zero exit."""


class SeqGANMusicError(Exception):
    """A user-facing error: bad input, missing file, wrong checkpoint. The message is one line."""
