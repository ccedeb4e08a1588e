"""Scale tests use the same emulator fixtures as the sensor tests (the trigger tests' set)."""

from tests.sensors.conftest import *  # noqa: F403
