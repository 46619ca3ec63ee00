"""Errors split by blame: our own misuse of an API versus bad input from a peer or file."""

__all__ = ["RemoteError", "UsageError"]


class UsageError(Exception):
    """Our code misused an API (time went backwards, a second op while one is pending).

    This is a bug in paxlab, so it is raised loudly and never caught to carry on.
    """


class RemoteError(Exception):
    """A peer or a file sent something malformed or invalid (bad frame, bad block).

    Drivers log it and carry on: a faulty peer must not crash a correct one.
    """
