"""Web layer: dependencies, error handlers, templating."""
