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


def _documented_page(remote: list[str], upto: int, offset: int, line: int) -> JobLogs:
    """The training API page's logs answer: skip ``offset`` lines, at most ``line`` after."""
    return JobLogs(total=upto, logs=remote[offset:upto][:line])


def test_log_follower_shows_every_line_once_under_the_documented_offset() -> None:
    """``offset`` is the number of lines to skip: no line lost, none repeated."""
    remote = [f"line {i}" for i in range(25)]
    follower = LogFollower()
    seen: list[str] = []
    for upto in (0, 3, 3, 7, 25, 25, 25):
        page = _documented_page(remote, upto, follower.request_offset(), 10)
        seen += follower.feed(page, page_size=10)
    assert seen == remote and follower.offset == 25
    assert list(follower.tail)[-1] == "line 24"


def test_log_follower_resumes_from_a_saved_offset_without_repeating() -> None:
    remote = [f"line {i}" for i in range(12)]
    first = LogFollower()
    shown = first.feed(_documented_page(remote, 5, first.request_offset(), 100))
    resumed = LogFollower(first.offset)  # a new trigger after a triggerer restart
    shown += resumed.feed(_documented_page(remote, 12, resumed.request_offset(), 100))
    assert shown == remote


def test_log_follower_knows_when_more_lines_wait_than_a_page_holds() -> None:
    remote = [f"line {i}" for i in range(30)]
    follower = LogFollower()
    page = _documented_page(remote, 30, follower.request_offset(), 10)
    follower.feed(page, page_size=10)
    assert follower.behind(page)
    while follower.behind(page):
        page = _documented_page(remote, 30, follower.request_offset(), 10)
        follower.feed(page, page_size=10)
    assert follower.offset == 30


def test_log_follower_cuts_a_page_longer_than_asked() -> None:
    follower = LogFollower()
    assert follower.feed(JobLogs(total=5, logs=["a", "b", "c"]), page_size=2) == ["a", "b"]
    assert follower.offset == 2
