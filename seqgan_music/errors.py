"""The project's own error types: what the CLI turns into one line on stderr and a non-zero exit.

Anything else that escapes is a bug, and the CLI shows its traceback with a hint to report it.
"""


class SeqGANMusicError(Exception):
    """A user-facing error: bad input, missing file, wrong checkpoint. The message is one line."""


class ConfigError(SeqGANMusicError, ValueError):
    """An invalid setting (a config field, a preset, a size). Also a ValueError for old callers."""


class SeqGANMusicWarning(UserWarning):
    """Something the user may not want (e.g. --length far past the trained length): the CLI prints
    it as one line on stderr and goes on."""


class CheckpointError(SeqGANMusicError):
    """A checkpoint that cannot be used: unreadable, unsafe, or inconsistent with itself."""
