"""User-facing errors: the CLI prints them without a traceback, the API maps them to 4xx."""


class StickGenError(ValueError):
    """Bad input or an unusable artefact, explained in words a user can act on."""


class NotFoundError(StickGenError):
    """A named thing (file, checkpoint, dataset, model) does not exist."""


class Cancelled(Exception):
    """Raised inside long work when its caller asked it to stop."""
