"""Every module that imports telegram: the Application, handler registration, sending, handlers."""
