"""One exception for bad input: a message a user can act on, shown without a traceback."""


class InputError(Exception):
    """Bad input: the message names the file, key, variable or code, and the fix."""


def closest(name: str, candidates, n: int = 3) -> str:
    """'; closest: a, b' when some candidates look like `name`, else ''."""
    import difflib

    near = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)
    return f"; closest: {', '.join(near)}" if near else ""
