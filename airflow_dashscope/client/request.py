"""Requests as values, and flows that describe an endpoint once for both clients.

An endpoint is a generator function (a *flow*): it yields :class:`ApiRequest` values and
receives each one's decoded JSON body (or has the call's error thrown into it), then returns
its typed result. A flow that must wait before sending a create again yields a
:class:`Backoff` instead and receives whether the retry policy allows another try. The flow
does no network I/O. :class:`~airflow_dashscope.client.DashScopeClient`
runs flows over a sync httpx client, :class:`~airflow_dashscope.client.AsyncDashScopeClient`
over an async one; neither knows any endpoint.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

from airflow_dashscope.client.errors import DashScopeError

T = TypeVar("T")

#: A flow yields requests (or backoffs), receives their JSON bodies, returns its result.
Flow = Generator["ApiRequest | Backoff", Any, T]


@dataclass(frozen=True)
class Backoff:
    """Wait before try ``attempt + 2`` of a create, as the client's retry policy says.

    The client sleeps (or not) and sends back True when the policy allows another try,
    False when its retries are used up.
    """

    attempt: int


def wire_value(value: Any) -> Any:
    """What goes on the wire for ``value``: an enum's value (``TrainingType.SFT`` -> ``"sft"``,
    never ``"TrainingType.SFT"``), containers converted throughout, None kept."""
    if isinstance(value, enum.Enum):
        return wire_value(value.value)
    if isinstance(value, Mapping):
        return {str(wire_value(k)): wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_value(v) for v in value]
    return value


@runtime_checkable
class Openable(Protocol):
    """Anything with ``open("rb")``, such as ``pathlib.Path`` or Airflow's
    ``ObjectStoragePath`` (whose ``fspath`` may be a URL, not a file): what an upload and
    the training-data validator both read from."""

    def open(self, mode: str = ...) -> Any: ...


UploadInput = str | os.PathLike[str] | IO[bytes] | Openable


@dataclass(frozen=True)
class UploadPart:
    """One file of a multipart upload, opened only while the request is sent."""

    source: UploadInput
    filename: str

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        source: Any = self.source
        if isinstance(source, io.IOBase) or hasattr(source, "read"):
            if source.seekable():
                source.seek(0)
            yield source
        elif isinstance(source, str):
            with open(source, "rb") as handle:
                yield handle
        elif callable(getattr(source, "open", None)):
            # pathlib paths and ObjectStoragePath (whose fspath may be a URL, not a file).
            with source.open("rb") as handle:
                yield handle
        else:
            with open(source, "rb") as handle:
                yield handle


def fingerprint(part: UploadPart, chunk_size: int = 1 << 20) -> tuple[int, bytes]:
    """Size and MD5 digest of an upload, read in chunks (local I/O, no network).

    Only called after an ambiguous upload, to recognise the copy the service may have kept.
    """
    source: Any = part.source
    if hasattr(source, "read") and not (hasattr(source, "seekable") and source.seekable()):
        raise DashScopeError(
            f"The upload of {part.filename!r} failed without a clear answer, and its source "
            "cannot be read again to check whether the service kept it: upload from a path."
        )
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with part.open() as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.digest()


def upload_filename(source: UploadInput) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source))
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return os.path.basename(name)
    raise DashScopeError("Cannot tell the file name of the upload; pass filename=.")


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP call, described without sending it."""

    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, str | list[str]] | None = None
    uploads: Sequence[tuple[str, UploadPart]] = ()
    #: ``native`` is ``/api/v1``; ``compatible`` is the OpenAI-compatible ``/compatible-mode/v1``.
    root: Literal["native", "compatible"] = "native"
    #: Safe to send again after an ambiguous failure (sent, no answer)?
    idempotent: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def single(request: ApiRequest, parse: Callable[[Any], T]) -> Flow[T]:
    """The flow of an endpoint that is one request and one parse."""
    body = yield request
    return parse(body)


def output_of(body: Any) -> Any:
    """The payload of a management or generation answer (``output``)."""
    return body.get("output") if isinstance(body, dict) else None


def data_of(body: Any) -> Any:
    """The payload of a files answer (``data``)."""
    return body.get("data") if isinstance(body, dict) else None


def segment(value: str) -> str:
    """A path segment from an id, quoted so that an odd id cannot change the path."""
    if not value:
        raise DashScopeError("An id in the request path is empty.")
    return quote(str(value), safe="")
