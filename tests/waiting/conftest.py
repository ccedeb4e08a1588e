"""The waiting tests reuse the trigger tests' emulator fixtures."""

from tests.triggers.conftest import (  # noqa: F401 (fixtures)
    client,
    dashscope_emulator,
    dashscope_emulator_session,
    emu,
    new_job,
)
