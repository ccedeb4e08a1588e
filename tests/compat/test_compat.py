"""Contract tests: each Airflow internal ``airflow_dashscope.compat`` relies on, against the
installed Airflow (CI runs them on 3.3 and on 3.1), and each one's fallback.

A failure here names the internal that changed: fix ``compat`` (and its docstring), not the
callers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_dashscope import compat
from airflow_dashscope.waiting import user_action

AIRFLOW = Version(Version(airflow_version).base_version)
since_3_3 = pytest.mark.skipif(Version("3.3") > AIRFLOW, reason="Airflow >= 3.3 only")
USER_ACTION = f"{compat.TRIGGERER_MODULE}.{compat.USER_ACTION_CANCEL_NAME}"


# ---------------------------------------------------------------- the user-action message


@since_3_3
def test_the_triggerer_cancels_user_actions_with_its_private_message() -> None:
    import importlib

    runner = importlib.import_module(compat.TRIGGERER_MODULE)
    message = getattr(runner, compat.USER_ACTION_CANCEL_NAME, None)
    assert isinstance(message, str), f"{USER_ACTION} is gone: a mark failed keeps the job"
    cancels = inspect.getsource(runner.TriggerRunner.cancel_triggers)
    assert f".cancel({compat.USER_ACTION_CANCEL_NAME})" in cancels, (
        f"TriggerRunner.cancel_triggers no longer cancels with {USER_ACTION}"
    )
    runs = inspect.getsource(runner.TriggerRunner.run_trigger)
    assert compat.USER_ACTION_CANCEL_NAME in runs and "on_kill()" in runs, (
        f"TriggerRunner.run_trigger no longer calls on_kill for {USER_ACTION}"
    )
    assert compat.is_user_action_cancel(asyncio.CancelledError(message))
    assert not compat.is_user_action_cancel(asyncio.CancelledError())
    assert not compat.is_user_action_cancel(asyncio.CancelledError("Supervisor closed"))


def test_without_the_message_no_cancellation_is_a_user_action(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The fallback: an Airflow without the message (3.1, or renamed) keeps the job."""
    monkeypatch.setattr(compat, "_warned_missing_message", False)
    monkeypatch.setitem(sys.modules, compat.TRIGGERER_MODULE, SimpleNamespace())  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger=compat.__name__):
        assert not compat.is_user_action_cancel(asyncio.CancelledError("__airflow_user_action__"))
    assert USER_ACTION in caplog.text and "kept running" in caplog.text


def test_outside_a_triggerer_no_cancellation_is_a_user_action(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, compat.TRIGGERER_MODULE, raising=False)
    assert not compat.is_user_action_cancel(asyncio.CancelledError("__airflow_user_action__"))


def test_the_triggerers_on_kill_timeout_bounds_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__TRIGGERER__ON_KILL_TIMEOUT", "12")
    assert compat.on_kill_budget() == 12 - compat.ON_KILL_MARGIN
    monkeypatch.setenv("AIRFLOW__TRIGGERER__ON_KILL_TIMEOUT", "2")
    assert compat.on_kill_budget() == 1.0


def test_asyncio_can_absorb_a_cancellation() -> None:
    """``outlive_cancellations`` relies on ``Task.uncancel`` (Python >= 3.11)."""
    assert hasattr(asyncio.Task, "uncancel")


# ---------------------------------------------------------------- the task instance's state


def test_the_task_states_api_takes_what_compat_passes() -> None:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    parameters = inspect.signature(RuntimeTaskInstance.get_task_states).parameters
    missing = {"dag_id", "task_ids", "run_ids", "map_index"} - set(parameters)
    assert not missing, f"RuntimeTaskInstance.get_task_states lost {sorted(missing)}"


def test_without_a_supervisor_the_state_is_unknown_and_the_job_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = user_action.TaskInstanceKey("dag", "task", "run")
    with caplog.at_level(logging.WARNING):
        assert user_action.current_state(key) is None
        assert not user_action.ended_as_failed(key)
    assert "Cannot read the state of" in caplog.text


class FakeSupervisor:
    """The supervisor's end of a real ``TriggerCommsDecoder`` socket: answers task states."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.asked: list[dict[str, Any]] = []

    async def serve(self, state: str) -> None:
        import msgspec
        from airflow.sdk.execution_time.comms import (
            TaskStatesResult,
            _RequestFrame,
            _ResponseFrame,
        )

        decoder = msgspec.msgpack.Decoder(_RequestFrame)
        while True:
            size = int.from_bytes(await self.reader.readexactly(4), "big")
            frame = decoder.decode(await self.reader.readexactly(size))
            self.asked.append(frame.body)
            await asyncio.sleep(0.2)  # a busy supervisor
            answer = TaskStatesResult(task_states={"run": {"task": state}})
            self.writer.write(_ResponseFrame(id=frame.id, body=answer.model_dump()).as_bytes())
            await self.writer.drain()


@since_3_3
async def test_a_trigger_reads_the_state_through_the_real_comms_without_blocking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The public ``get_task_states``, run in a thread by a trigger, crosses the installed
    ``TriggerCommsDecoder`` to its loop; the loop keeps running meanwhile."""
    from airflow.jobs.triggerer_job_runner import TriggerCommsDecoder
    from airflow.sdk.execution_time import task_runner

    ours, theirs = socket.socketpair()
    spare, _ = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    supervisor = FakeSupervisor(*await asyncio.open_connection(sock=theirs))
    comms = TriggerCommsDecoder(async_writer=writer, async_reader=reader, socket=spare)
    await comms.start_reader()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    serving = asyncio.create_task(supervisor.serve("failed"))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(tick())
    try:
        key = user_action.TaskInstanceKey("dag", "task", "run")
        assert await asyncio.wait_for(user_action.aended_as_failed(key), 10)
    finally:
        ticking.cancel()
        serving.cancel()
        writer.close()
        supervisor.writer.close()
    assert supervisor.asked[0]["type"] == "GetTaskStates"
    assert supervisor.asked[0]["task_ids"] == ["task"] and supervisor.asked[0]["run_ids"] == ["run"]
    assert ticks >= 10, "the state read blocked the triggerer's loop"


# ---------------------------------------------------------------- XComs from a trigger


def test_the_task_sdk_has_the_async_xcom_api_or_the_comms_messages() -> None:
    from airflow.sdk.execution_time.xcom import XCom

    if hasattr(XCom, "aget_one"):
        for name, wanted in (
            ("aget_one", {"key", "dag_id", "task_id", "run_id", "map_index"}),
            ("aset", {"key", "value", "dag_id", "task_id", "run_id", "map_index"}),
        ):
            missing = wanted - set(inspect.signature(getattr(XCom, name)).parameters)
            assert not missing, f"XCom.{name} lost {sorted(missing)}"
        return
    from airflow.sdk.execution_time import comms

    for name in ("GetXCom", "SetXCom"):
        fields = set(getattr(comms, name).model_fields)
        missing = {"key", "dag_id", "task_id", "run_id", "map_index"} - fields
        assert not missing, f"airflow.sdk.execution_time.comms.{name} lost {sorted(missing)}"


async def test_without_a_supervisor_xcoms_are_skipped_quietly() -> None:
    """The fallback: no comms (a worker, a test) means nothing is kept (never an error)."""
    from airflow_dashscope.waiting.progress import ShownInXCom

    shown = ShownInXCom(SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=None))
    assert shown.where["map_index"] == -1
    assert await shown.recall() is None
    await shown.record(3)


def test_moved_exceptions_resolve_to_the_installed_airflows() -> None:
    """The Task SDK's own classes where it has them (3.2+), else ``airflow.exceptions``'."""
    import airflow.exceptions as core
    import airflow.sdk.exceptions as sdk

    for name in ("AirflowException", "AirflowFailException", "AirflowSensorTimeout"):
        cls = getattr(compat, name)
        home = sdk if hasattr(sdk, name) else core
        assert cls is getattr(home, name), f"{name} is not {home.__name__}.{name}"
        if Version("3.2") <= AIRFLOW:
            assert cls.__module__ == "airflow.sdk.exceptions", name


def test_conf_is_the_installed_airflows_configuration() -> None:
    """``[dashscope]`` options are read through the Task SDK's ``conf`` where it has one (3.2+),
    else ``airflow.configuration``'s: both answer Airflow's own options."""
    try:
        from airflow.sdk.configuration import conf as home
    except ImportError:  # Airflow 3.1
        from airflow.configuration import conf as home

    assert compat.conf is home, "compat.conf is not the installed Airflow's configuration"
    assert compat.conf.get("core", "dags_folder", fallback=None) is not None


def test_a_serialized_task_keeps_its_operators_links_where_the_ui_reads_them() -> None:
    """The UI page finds DashScope tasks in serialized DAGs by their console links' XCom keys
    (``compat.SERIALIZED_LINKS_KEY``); serialized with the installed Airflow's own code."""
    from airflow.sdk import DAG
    from airflow.serialization import serialized_objects

    from airflow_dashscope.links.console import DashScopeFineTuneJobLink
    from airflow_dashscope.operators import DashScopeFineTuneOperator

    with DAG("compat_links", schedule=None) as dag:
        DashScopeFineTuneOperator(
            task_id="train",
            model="qwen3-8b",
            training_file_ids=["file-1"],
            hyper_parameters={"n_epochs": 1, "batch_size": 8, "max_length": 1024},
            deferrable=False,
        )
    # Airflow 3.3 renamed the DAG serializer; 3.1 and 3.2 call it SerializedDAG.
    serializer = (
        getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    )
    data = serializer.to_dict(dag)
    tasks = [entry.get("__var", entry) for entry in data["dag"]["tasks"]]
    (task,) = [t for t in tasks if t["task_id"] == "train"]
    assert compat.SERIALIZED_LINKS_KEY in task, (
        f"Airflow no longer serializes a task's extra links under {compat.SERIALIZED_LINKS_KEY!r}:"
        " the DashScope UI page would list no task; update compat.serialized_link_keys"
    )
    assert DashScopeFineTuneJobLink().xcom_key in compat.serialized_link_keys(task)
