"""The emulator's clock and the service's time formats.

Every state transition (job phases, deployment phases, checkpoint exports) is computed from
:class:`Clock`, never from ``time.time()`` directly, so tests move time forward with
:meth:`Clock.advance` instead of sleeping. The real service reports naive Beijing times, so the
formatters render epoch seconds in UTC+8 without a zone suffix.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


class Clock:
    """Real time plus an adjustable offset, or a fully manual clock.

    A real clock keeps moving on its own (demos, the CLI); ``advance`` only adds to the offset.
    A manual clock stands still at ``start`` until advanced, which makes unit tests exact.
    """

    def __init__(self, *, manual: bool = False, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self.manual = manual
        self._base = time.time() if start is None else start
        self._offset = 0.0

    def now(self) -> float:
        """Current emulated time in epoch seconds."""
        with self._lock:
            base = self._base if self.manual else time.time()
            return base + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def set_offset(self, offset: float) -> None:
        """Restore a persisted offset (state survives a restart with its advanced time)."""
        with self._lock:
            self._offset = offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; returns the new time. Time never goes backwards."""
        if seconds < 0 or math.isnan(seconds):
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._offset += seconds
        return self.now()


def job_time(epoch: float) -> str:
    """``"2025-11-27 20:33:15"``: job and file times (Beijing, no zone)."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def log_line(epoch: float, message: str, level: str = "INFO") -> str:
    """A job log line in the form of the reference's log sample:
    ``"2024-10-29 17:03:47,719 - INFO - finetune-job succeeded"`` (Beijing, milliseconds)."""
    whole, millis = divmod(round(epoch * 1000), 1000)
    return f"{job_time(whole)},{millis:03d} - {level} - {message}"


def iso_time(epoch: float) -> str:
    """``"2025-11-11T16:25:42"``: checkpoint and deployment times (Beijing, no zone)."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%dT%H:%M:%S")


def id_stamp(epoch: float) -> str:
    """``yyyyMMddHHmm`` as used inside job ids."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y%m%d%H%M")


def estimate_tokens(n_chars: int) -> int:
    """Token estimate used for usage figures: about four characters (bytes) per token."""
    return max(1, math.ceil(n_chars / 4)) if n_chars > 0 else 0


def gmt_time(epoch: float) -> str:
    """``"2025-11-20T20:06:46.405"``: deployment times, milliseconds with trailing zeros dropped
    and no fraction on a whole second, as the samples of model-deployment-api.md show
    (``"2025-06-17T11:00:38.68"``, ``"2025-06-17T11:06:13"``)."""
    whole, ms = divmod(round(epoch * 1000), 1000)
    text = datetime.fromtimestamp(whole, BEIJING).strftime("%Y-%m-%dT%H:%M:%S")
    millis = f"{ms:03d}".rstrip("0")
    return f"{text}.{millis}" if millis else text
