"""Business rules as plain functions, callable without HTTP."""


class ServiceError(Exception):
    """A refusal with a message fit for the user; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
