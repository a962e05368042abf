"""Tables rendered from tidy frames, never from live model objects."""
