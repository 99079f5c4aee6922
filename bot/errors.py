"""Exceptions with messages a person can act on: each names the input that was wrong."""


class BriefingError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""


class ArticleError(BriefingError):
    """An article file or record could not be read or parsed."""


class ModelError(BriefingError):
    """A model file is missing, corrupt, or fails to load."""


class QuestionError(BriefingError):
    """A question is empty or otherwise unusable."""
