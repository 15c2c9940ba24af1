"""The CLI's contract for bad input, shared by the command-line tests."""


def one_error_line(status: int, err: str, fragment: str) -> bool:
    """Exit 2 and exactly one line ``error: ...`` on stderr that names ``fragment``."""
    return status == 2 and err.startswith("error: ") and err.count("\n") == 1 and fragment in err
