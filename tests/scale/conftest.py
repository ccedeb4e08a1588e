"""Scale tests reuse the trigger tests' emulator fixtures (to be moved to tests/conftest.py)."""

try:  # tests as a package, or as a rootdir-relative directory
    from tests.triggers.conftest import (
        client,
        dashscope_emulator,
        dashscope_emulator_session,
        emu,
        new_job,
    )
except ImportError:  # pragma: no cover
    from triggers.conftest import (  # type: ignore[no-redef]  # noqa: F401
        client,
        dashscope_emulator,
        dashscope_emulator_session,
        emu,
        new_job,
    )
