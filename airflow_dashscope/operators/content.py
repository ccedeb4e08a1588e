"""Which data a model already learned, and which stored file already holds an upload's
bytes: content (size and MD5) decides, never a name or an id, so a cleared run with the same
data pays neither a second upload nor a second training of the same data into one lineage.

The rules are pure (given the service's job and file lists, decide); the operators do the
I/O. They sit beside ``operators/identity.py`` (which resource belongs to a task instance)
and answer with its :class:`~airflow_dashscope.operators.identity.Match`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from airflow_dashscope.operators.identity import Match

if TYPE_CHECKING:  # annotations only: DAG files parse without the pydantic models
    from airflow_dashscope.client.models import DashScopeFile, FineTuneJob


def identical_file(
    files: Iterable[DashScopeFile], *, size: int, digest: bytes, purpose: str
) -> DashScopeFile | None:
    """A stored file with these bytes for this purpose (a listing without ``purpose``
    matches any): uploading it again would pay storage and a new file id for nothing."""
    for stored in files:
        if stored.purpose in (None, purpose) and stored.has_content(size, digest):
            return stored
    return None


def model_makers(
    model: str, jobs: Iterable[FineTuneJob], exported: Mapping[str, str]
) -> list[FineTuneJob]:
    """The SUCCEEDED jobs behind ``model``, newest first: the one whose ``finetuned_output``
    (or exported checkpoint, ``exported``: model -> job id) it is, then the one behind that
    job's own ``model``, up to a model no job made (a base model)."""
    succeeded = {job.job_id: job for job in jobs if job.status_name == "SUCCEEDED"}
    made = {job.finetuned_output: job for job in succeeded.values() if job.finetuned_output}
    chain: list[FineTuneJob] = []
    current: str | None = model
    while current is not None:
        maker = made.get(current) or succeeded.get(exported.get(current, ""))
        if maker is None or maker in chain:
            break
        chain.append(maker)
        current = maker.model
    return chain


def match_lineage(
    model: str,
    training_file_ids: Sequence[str],
    makers: Sequence[FineTuneJob],
    files: Iterable[DashScopeFile],
) -> Match:
    """``reuse`` the job that made ``model`` when every training file is, by content (size
    and MD5), already in the data of ``model``'s lineage (``makers``, from
    :func:`model_makers`); else ``create``, with ``why`` saying what could not be compared.
    Training the same data into a model twice pays again and overfits it."""
    if not makers:
        return Match("create")
    by_id = {stored.file_id: stored for stored in files}
    known: dict[tuple[int, bytes], tuple[str, str]] = {}
    deleted: list[str] = []
    for job in makers:
        for file_id in job.training_file_ids:
            stored = by_id.get(file_id)
            digest = stored.md5_digest() if stored else None
            if stored is None or stored.size is None or digest is None:
                deleted.append(f"file {file_id} of job {job.job_id}")
            else:
                known.setdefault((stored.size, digest), (job.job_id, file_id))
    found = []
    for file_id in training_file_ids:
        stored = by_id.get(file_id)
        digest = stored.md5_digest() if stored else None
        hit = known.get((stored.size, digest)) if stored and stored.size and digest else None
        if hit is None:
            missing = ", ".join(deleted)
            why = f" ({missing} deleted: no MD5 to compare), training" if deleted else ""
            return Match("create", why=f"Model {model} may not contain file {file_id}{why}.")
        found.append(f"job {hit[0]} trained it on file {hit[1]} (same MD5)")
    return Match(
        "reuse",
        makers[0],
        f"Model {model} already contains this data: {'; '.join(found)}; nothing to train "
        '(reuse="never" trains anyway).',
    )
