"""Pure waiting helpers: event validation, classification, deadlines, log following."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_dashscope.client.errors import (
    DashScopeTransportError,
    InternalServerError,
    NotFoundError,
    ThrottlingError,
)
from airflow_dashscope.client.models import Checkpoint, Deployment, FineTuneJob, JobLogs
from airflow_dashscope.waiting import (
    LogFollower,
    MalformedEventError,
    WaitEvent,
    classify_checkpoint,
    classify_deployment,
    classify_job,
    deadline,
    is_transient,
)


def test_event_round_trip_and_validation() -> None:
    event = WaitEvent("failed", "fine_tune", "ft-1", "boom", {"a": 1}, 7, ["x", "y"])
    assert WaitEvent.from_dict(event.to_dict()) == event
    assert "boom" in event.explain() and "  y" in event.explain()
    with pytest.raises(MalformedEventError, match="status 'nope'"):
        WaitEvent.from_dict({**event.to_dict(), "status": "nope"})
    with pytest.raises(MalformedEventError, match="log_offset"):
        WaitEvent.from_dict({**event.to_dict(), "log_offset": -1})
    with pytest.raises(MalformedEventError, match="must be a dict"):
        WaitEvent.from_dict(None)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("RUNNING", "pending"),
        ("SUCCEEDED", "success"),
        ("FAILED", "failed"),
        ("CANCELED", "canceled"),
        ("CANCELING", "pending"),
        ("BRAND_NEW", "pending"),
    ],
)
def test_job_classification(status: str, outcome: str) -> None:
    assert classify_job(FineTuneJob(job_id="ft-1", status=status)) == outcome


def test_checkpoint_and_deployment_classification() -> None:
    assert classify_checkpoint(Checkpoint(checkpoint="checkpoint-1", status="PENDING")) == "pending"
    assert (
        classify_checkpoint(Checkpoint(checkpoint="checkpoint-1", status="SUCCEEDED")) == "success"
    )
    for status, outcome in [  # the documented statuses
        ("PENDING", "pending"),
        ("UPDATING", "pending"),
        ("RUNNING", "success"),
        ("STOPPED", "failed"),
        ("DELETING", "failed"),
        ("FAILED", "failed"),
    ]:
        assert classify_deployment(Deployment(deployed_model="m", status=status)) == outcome


def test_transient_errors() -> None:
    assert is_transient(DashScopeTransportError("x", request_sent=True))
    assert is_transient(ThrottlingError("x", status_code=429))
    assert is_transient(InternalServerError("x", status_code=503))
    assert not is_transient(NotFoundError("x", status_code=404))


def test_deadline() -> None:
    assert deadline(None) is None
    assert deadline(30, now=100) == 130
    assert deadline(timedelta(minutes=1), now=0) == 60
    with pytest.raises(ValueError):
        deadline(-1)


@pytest.mark.parametrize("one_based", [False, True])
def test_log_follower_handles_both_offset_conventions(one_based: bool) -> None:
    """The service's offset is 0-based in the docs and 1-based in the SDKs: both work."""
    remote = [f"line {i}" for i in range(10)]

    def page(offset: int, upto: int) -> JobLogs:
        start = max(offset, 1) - 1 if one_based else offset
        return JobLogs(total=upto, logs=remote[start:upto])

    follower = LogFollower()
    seen: list[str] = []
    for upto in (0, 3, 3, 7, 10):
        seen += follower.feed(page(follower.request_offset(), upto), page_size=1000)
    assert seen == remote and follower.offset == 10
    assert list(follower.tail)[-1] == "line 9"
