"""Errors of the storage layer that are worth showing to an operator."""


class StorageError(Exception):
    """The database cannot be used as asked; the message names the path or value and the fix."""


class DuplicateError(StorageError):
    """A row with the same unique value (short name, invite code, cycle name) already exists."""


class NotFoundError(StorageError):
    """A row that the caller named by id does not exist."""
