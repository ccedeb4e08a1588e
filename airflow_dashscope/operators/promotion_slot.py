"""Serving slots: a stable role ("production") held by one deployment at a time.

How a slot is recorded, with no Airflow state: a deployment cannot be renamed and the service
keeps no alias, so membership is written into what the service gives back for certain, the
``deployed_model`` id. Each deployment made for a slot gets the suffix
``p<slot 4><owner 3>`` (8 characters, the service's limit; lowercase base 36):

* ``slot 4``: a digest of the slot's key, its DAG and its name (``production`` of one DAG is
  not ``production`` of another), so every member of a slot is found from a listing alone;
* ``owner 3``: a digest of the task instance and the model, so a retry or a clear finds the
  deployment it made (and no other), and two deployments never share a suffix (the page asks
  for a globally unique one);
* the leading ``p`` is a letter no derived (8 hex digits) or random service suffix starts
  with, so no deployment of another tool is taken for a member.

The slot's name is also sent as the deployment's display ``name`` (for the console), but it is
not read back: the pages show no ``name`` in any deployment the service returns (create, get
and list samples; the quick start sends ``"name": "qwen3-8b-ft"`` and gets none back), and
their parameter table calls the field ``display_name``, so a listing may carry no name, or
one the service chose. Two slot names share a digest with odds of 1 in 36^4 (1.7 million).

The **holder** is the oldest RUNNING member: while a new model is smoke-tested beside it the
old one still serves, the switch is the deletion of the old one, and a rollback is the
deletion of the new one. A slot holds one promotion at a time: run its DAG with
``max_active_runs=1`` (two concurrent promotions retire each other's candidate).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from airflow_dashscope.exceptions import InvalidRequestError

if TYPE_CHECKING:
    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.client.models import Deployment

#: The first character of every slot suffix (never a hex digit).
MARK = "p"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
#: A slot is a display name too: printable, no surrounding spaces, short.
_SLOT_NAME = r"^\S(?:[^\x00-\x1f]{0,62}\S)?$"


@cache
def _slot_suffix() -> re.Pattern[str]:
    """Compiled when first needed: ``serving_in_slot`` is exported to DAG files, and the
    deployment-name rules (``identity.py``) load only when a task runs."""
    from airflow_dashscope.operators.identity import MAX_SUFFIX

    return re.compile(rf"^{MARK}[0-9a-z]{{{MAX_SUFFIX - 1}}}$")


def _base36(text: str, size: int) -> str:
    number = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    digits = []
    for _ in range(size):
        number, digit = divmod(number, 36)
        digits.append(_DIGITS[digit])
    return "".join(digits)


def check_slot(slot: object) -> str:
    """The slot's name, or an error saying what a slot name must be."""
    if not isinstance(slot, str) or not re.match(_SLOT_NAME, slot):
        raise InvalidRequestError(
            f"slot must be a name of 1 to 64 printable characters without surrounding spaces "
            f'(e.g. "production"), got {slot!r}'
        )
    return slot


def slot_key(dag_id: str, slot: str) -> str:
    """What a slot is: a name within a DAG. The helpers below take this key."""
    return f"{dag_id}/{slot}"


def slot_tag(slot: str) -> str:
    """4 characters naming the slot inside a suffix."""
    return _base36(f"slot|{slot}", 4)


def slot_suffix(slot: str, instance: str, model_name: str) -> str:
    """The suffix of the deployment a task instance (its digest) makes of ``model_name``."""
    from airflow_dashscope.operators.identity import MAX_SUFFIX

    return f"{MARK}{slot_tag(slot)}{_base36(f'{instance}|{model_name}', MAX_SUFFIX - 5)}"


def in_slot(deployment: Deployment, slot: str) -> bool:
    """True for a live (not DELETING) deployment made for ``slot``."""
    tail = deployment.deployed_model.rsplit("-", 1)[-1]
    return (
        deployment.status_name != "DELETING"
        and bool(_slot_suffix().match(tail))
        and tail[1:5] == slot_tag(slot)
    )


def slot_members(deployments: Iterable[Deployment], slot: str) -> list[Deployment]:
    """The slot's live deployments, oldest first (ties by id, so every reader agrees)."""
    members = [d for d in deployments if in_slot(d, slot)]
    return sorted(members, key=lambda d: (str(d.gmt_create or ""), d.deployed_model))


def slot_holder(deployments: Iterable[Deployment], slot: str) -> Deployment | None:
    """The deployment serving ``slot``: its oldest RUNNING member (None: the slot is empty)."""
    running = [d for d in slot_members(deployments, slot) if d.status_name == "RUNNING"]
    return running[0] if running else None


def serving_in_slot(
    client: DashScopeClient, slot: str, *, dag_id: str | None = None
) -> Deployment | None:
    """The deployment serving ``slot`` of ``dag_id`` now (one listing); in a task,
    ``dag_id`` defaults to the task's DAG, e.g. from a ``@task``::

    current = serving_in_slot(DashScopeHook().get_conn(), "production")
    model = current.deployed_model if current else None
    """
    key = slot_key(dag_id or _current_dag_id(), check_slot(slot))
    return slot_holder(client.list_deployments(), key)


def _current_dag_id() -> str:
    from airflow.sdk import get_current_context

    try:
        return str(get_current_context()["ti"].dag_id)
    except Exception:  # no task is running here (the SDK raises its own error type)
        raise InvalidRequestError(
            "serving_in_slot: a slot belongs to a DAG; outside a task, pass dag_id= (the "
            "DAG whose DashScopePromoteModelOperator fills the slot)."
        ) from None
