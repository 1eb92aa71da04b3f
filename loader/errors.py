"""The project's own exceptions; the CLI renders each as one line and maps it to an exit code."""


class DwhError(Exception):
    """Something the user can act on. ``exit_code`` follows contract.md."""

    exit_code = 1


class InputError(DwhError):
    """The curated data or the command's arguments are wrong (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        #: one line per problem, ``file:line:column: what is wrong (what was expected)``
        self.problems = problems or []


class DatabaseUnavailable(DwhError):
    """The database cannot be reached or is not in the expected state (exit 3)."""

    exit_code = 3


class ReadOnlyLogin(DatabaseUnavailable):
    """The login may only read the warehouse, and the command would change it (exit 3)."""


class TemporaryFileError(DwhError):
    """A private copy of the data could not be written to, or read back from, the temporary folder
    (exit 1: the machine, not the data)."""


def temporary_file_error(what: str, exc: OSError) -> TemporaryFileError:
    """``what`` (e.g. "copy sec_nec_sec.csv") failed on the temporary folder, as one line that says what to do."""
    import tempfile

    reason = exc.strerror or type(exc).__name__
    return TemporaryFileError(f"cannot {what} to a temporary file in {tempfile.gettempdir()}: {reason} (set TMPDIR to a folder with room)")

