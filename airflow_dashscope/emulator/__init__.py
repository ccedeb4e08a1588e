"""Local emulator of the Alibaba Cloud Model Studio (DashScope) fine-tuning HTTP API.

A wire-compatible fake (like moto for AWS) for tests, demos and users' own DAG tests:
``/api/v1`` (files, fine-tunes, logs, checkpoints and export, deployments, generation) and
``/compatible-mode/v1`` (chat completions, models) on one server, for two regions (Beijing at
the plain paths, Singapore under ``/intl``), plus a control API under ``/__emulator__``
(clock, faults, job/export/deployment control, account limits, counters, reset). Importing
this package is cheap: the web stack loads only when :func:`run_emulator` or
:func:`create_app` is first used. It imports nothing from the rest of ``airflow_dashscope``
and never imports Airflow.

Layout: ``routes/`` holds every HTTP handler (one module per resource; see its docstring to add
an endpoint); ``jobs``, ``job_create``, ``checkpoints``, ``deployments``, ``file_store`` and
``replies`` hold the state machines and rules, with no HTTP; ``state`` the records, which
persist themselves; ``catalog`` the emulator's own model tables.

The pages cited are ``vendor-docs-zh/*.md`` (2026); "English doc" is
``fine-tune-with-api.txt``. Each choice below follows a page, or says why none settles it.

Identity and scoping
  * Follows error-code.md: an ``X-DashScope-WorkSpace`` the account does not have is 404
    ``WorkSpaceNotFound`` "WorkSpace can not be found."; no header means the default
    workspace ``llm-8v53etv3hwb8orx1`` (the guide's sample id), which always works; others are
    ``Settings.workspaces``. Resources are visible only in their workspace and region; from
    another one they answer like unknown ids (files 400 "File not found.", jobs 404 "Not
    Found!", deployments 404 "Model: x not found!") — no page says what a foreign id answers.
  * No page: the key is not tied to an account (uid ``1654290265984853``, the guide's sample).
    The CLI accepts any non-empty key unless ``--api-key``; ``run_emulator()`` accepts only a
    generated key (``RunningEmulator.api_key``) so a client that drops its key fails.
  * No page: account limits (one RUNNING job, 20 jobs, 100 files / 5 GB) count all workspaces
    and both regions together. The limits are ``Settings`` fields, the service's figures by
    default, settable with ``--max-jobs``/``--max-files``/``--max-total-bytes``/
    ``--max-file-bytes``, ``run_emulator(max_jobs=...)`` or ``POST /__emulator__/limits``.
  * Follows error-code.md's endpoint table (北京 ``dashscope.aliyuncs.com``, 新加坡
    ``dashscope-intl.aliyuncs.com``): the Singapore region is served under ``/intl`` or for a
    ``Host: dashscope-intl...``; each region has its own resources and training table.
Files (model-customization-file-management-service.md)
  * Follows the page: one file at most 1 GB ("单个文件大小最大为1GB"; the training guide says
    300 MB: the file page wins for files), 100 files, 5 GB; over a limit the file is in
    ``failed_uploads`` (HTTP 200) with ``BadRequest.TooMany`` "Out of number, <n> of <max>
    files has been uploaded." or ``BadRequest.TooLarge`` "Out of space, <used> B of <max> B
    storage space has been used.". The message for a single file over 1 GB is not on the page.
  * Follows the page's tables: the file object has ``id`` (integer, from 1001), ``file_id``,
    ``name``, ``description``, ``size``, ``md5``, ``gmt_create``, ``url`` (a loopback URL
    serving the bytes), ``region``, ``user_id``, ``api_key_id`` (a hash, never the key), and
    ``purpose``, in list items and in ``GET /files/{id}`` alike: the get table has none, but
    recorded real traffic of that call shows it (the recording wins over the table).
    ``md5`` is the base64 of the digest (issue 12; the page's samples show hex — unconfirmed
    by any page).
  * No page: ``purpose`` defaults to ``fine-tune``, a missing description is ``""``, lists are
    newest first, ``DELETE`` answers ``{"request_id"}`` only (the page's table shows no
    other success field), a deleted file does not affect a job that used it.
Fine-tune jobs (model-training-api-reference.md, fine-tuning-api-guide.md)
  * Follows the reference: ``finetuned_output`` appears only once SUCCEEDED ("仅调优任务状态为
    “SUCCEED”时出现"; the guide's samples show it earlier: the reference is newer); it is
    ``{base_model}-{job_id}``, or ``{base_model}-{finetuned_output_suffix}-{job_id}`` as in
    "qwen3-14b-suffix-ft-202410291653-1c7f", and is the final checkpoint's ``model_name``.
  * Follows the reference: the create fields are model, training_file_ids,
    validation_file_ids, hyper_parameters, training_type, job_name, model_name,
    finetuned_output_suffix; any other field is 400 ``InvalidParameter`` (the wording
    "Unrecognized parameter: x" is not on a page). ``GET /fine-tunes?model=`` lists the jobs
    whose model or base model is that id ("只列举基于该模型的调优任务").
  * Follows the reference: a CANCELED job carries ``"code": "1"`` and ``"usage": 0``; a FAILED
    one ``code`` and ``message``.
Billing (model-training-and-deployment-billing.md: "（训练数据 Token 总数 + 混合训练数据 Token
总数）× 循环次数 × 训练单价")
  * ``usage`` of a SUCCEEDED job = (training tokens + mixed-in tokens) x ``n_epochs``; the log
    ends with the reference's "Actual number of consumed tokens is N!" and "training usage N".
  * No page gives the tokenizer: each example is rendered with Qwen's ChatML template
    (``<|im_start|>{role}\n{content}<|im_end|>\n`` per message) and encoded with Qwen's BPE
    vocabulary (the SDK's ``qwen.tiktoken``, read with ``tiktoken``), or, without it, a
    heuristic (``tokens.py``). Qwen3 and newer templates add no default system message;
    qwen2.5 ones add theirs, as their chat templates do. DPO counts prompt + chosen and prompt +
    rejected; CPT ``text`` + ``<|endoftext|>``; VL the text parts only. Validation files are
    not billed; every training example is (no page says whether a ``split`` share is).
  * Follows the guide: ``data_augmentation`` mixes preset data, "按训练数据量的10%/5%/15%" per
    ``augmentation_ratio`` (summed; 10 % when absent: no page). No page gives the preset data's
    size: each preset example counts 512 tokens.
  * No page: a file is read once, at the first job that uses it; one over 64 MB, or whose
    bytes are gone, counts ``ceil(bytes / 4)`` and teaches nothing.
  * Follows error-code.md: 429 ``Throttling`` "Too many fine-tune job in running, please retry
    later." / "Only 20 fine-tune job in running or succeeded allowed per user." once jobs in
    progress plus SUCCEEDED ones reach 20; cancelling a finished job is 400
    ``UnsupportedOperation`` (the reference's example message).
  * Follows the guide ("如果调优的模型不支持sft方法，调优任务将会失败"): an unsupported model x
    training type (the region's table, ``catalog.py``) or changed LoRA settings on a second
    efficient fine-tune ("三个参数必须保持一致") is accepted, then FAILED after validation.
  * No page: the timeline (PENDING ``job_seconds / 4``, QUEUING only while the one slot is
    taken, RUNNING ``job_seconds``), steps = ceil(lines / batch_size) per epoch, missing
    ``n_epochs``/``batch_size``/``max_length`` default to 3/16/8192 (the SDK sends ``{}``),
    CANCELING lasts ``min(1 s, job_seconds / 4)``, lists are newest first.
Logs
  * Follows the reference: ``offset`` is the number of lines skipped ("从第offset+1行开始读取",
    default 0), ``line`` defaults to 100 and is capped at 1000; past the end, no lines;
    ``total`` counts the lines so far.
  * Follows the reference's log sample: lines are ``"2024-10-29 17:03:47,719 - INFO - ..."``,
    metrics are the trainer's Python-dict records, and the job ends with the sample's
    ``{'train_runtime', 'train_samples_per_second', 'train_steps_per_second', 'train_loss',
    'epoch'}``. No page shows a step's record: the emulator writes the keys of the Hugging Face
    trainer's log history (the trainer behind that end record), ``{'loss', 'learning_rate',
    'epoch', 'step'}`` every ``logging_steps`` (default ``ceil(steps / 20)``) and
    ``{'eval_loss', 'epoch', 'step'}`` every ``eval_steps`` (default ``logging_steps``) and at
    the last step. The total goes in the free text of the line (``step 4/9 {...}``), as does
    "Training started: 3 epochs, 3 steps per epoch, 9 steps in total"; the other messages'
    wording is the emulator's own.
  * Validation (``eval_loss``) runs only with ``validation_file_ids`` or an explicit ``split``:
    the best-practices page has the user choose "自动切分" or a validation set, and ``split``
    is how an API call chooses the former (the reference's 80/20 default is the console's).
Learning (a deterministic simulation, not training; formulas in ``learning.py``)
  * Follows model-training-best-practices.md's shapes: training loss falls; validation loss
    "先下降后上升" past an optimum of about 4 effective epochs for small data, 1.5-2 for over
    10,000 examples (the guide's epoch advice); a learning rate far too high (over about 3x
    the recommended 1e-5, or 1e-4 for LoRA types) plateaus high; one too low, or fewer than
    10 steps, learns little; a small ``lora_rank`` learns less; ``batch_size`` sets the steps.
  * No page: a deployed fine-tuned model (its output or an exported checkpoint) answers a
    prompt close to a training example's user turn (character n-gram Jaccard >= 0.6) with
    that example's answer, its lineage's included (a job continued from another's model
    inherits its data); a share of such prompts, growing with the final validation loss,
    gets the base reply, or a corrupted answer after an unstable run; other prompts get the
    base reply. Decoding is deterministic; ``temperature``/``seed`` change nothing. What a
    model knows is computed once when its job succeeds and persists with the job.
  * No page documents ``GET /fine-tunes/{id}/stream`` (the SDK's); the guide says the CLI
    stream "持续监控输出模型调优的日志": it sends each log line as an ``event:result`` frame as
    it appears, then ``status: <final status>``, and ends when the job does.
Checkpoints and export (fine-tuning-api-guide.md)
  * Follows the guide: sft/efficient_sft only; ``save_strategy`` epoch or steps
    (``save_steps``, default ``eval_steps`` or 50, plus the last step), ``save_total_limit``
    keeps the newest; statuses PENDING, PROCESSING, SUCCEEDED, FAILED; the final checkpoint is
    published under ``finetuned_output`` when the job succeeds. ``checkpoint_id``
    (``ckpt-`` + 12 hex) and ``step`` are extra fields no page shows.
  * The pages disagree on the id an export publishes (the sample checkpoint's
    "qwen3-8b-instruct-ft-..." is not the asked name): ``Settings.export_model_id`` "asked"
    (default) publishes under ``model_name``, "derived" under ``{asked}-{6 hex}``; either way
    the checkpoint list shows the deployable id. A failed export (control API) is FAILED and
    may be exported again. No page: PENDING for the first quarter of ``export_seconds``, then
    PROCESSING; a second export of a checkpoint is 400 ``UnsupportedOperation``.
Deployments (model-deployment-api.md, model-deployment-quick-start.md)
  * Follows the page: statuses PENDING, UPDATING, RUNNING, STOPPED, DELETING, FAILED (create
    PENDING -> RUNNING; scale UPDATING; the update sample answers PENDING; delete DELETING and
    keeps ``ready_capacity``); STOPPED and FAILED come from the control API.
  * Follows the page: "每个模型在首次部署时，可以不指定后缀": a LoRA first deployment is named
    after the model (quick start); a mu one ``{model}-{8 hex}`` (the update sample); a second
    deployment of the same model without suffix is 409 ``Conflict`` "Deployed model x already
    exists, please specify a suffix."; ``suffix`` at most 8 characters, unique, giving
    ``{model}-{suffix}`` (the SDK's docstring; no page shows the joined form).
  * Follows the page: capacity 0 <= c < 1000, else "Invalid capacity (c), capacity must be
    larger than or equal to 0 and multiples of 1 and less than 1000!"; times carry
    milliseconds with trailing zeros dropped ("2025-06-17T11:00:38.68"); a LoRA create answer
    has no capacity fields; mu objects carry ``model_unit_spec``, ``enable_thinking``,
    ``max_context_length``, ``rpm_limit``, ``tpm_limit``; ``GET /deployments/models`` lists
    fine-tuned models then the mu list (``base_capacity`` 1: no page gives others).
  * No page: ``plan`` defaults to lora and ``capacity`` to 1; ``charge_type`` post_paid
    (pre_paid for ptu); scale and update need RUNNING (else 400 ``UnsupportedOperation``).
Generation
  * Follows error-code.md: an unknown model, or a deployment not RUNNING, is 400
    ``InvalidParameter`` "Model not exist." natively and 404 ``model_not_found`` in compatible
    mode; ``messages: []`` is 400 "[] is too short"; no model is ``BadRequest.EmptyModel``.
    With SSE requested, request errors arrive as one ``event:error`` frame on HTTP 200.
  * Follows the quick start: without ``result_format`` a qwen3-8b answers in the ``text``
    form; which models do is ``Settings.text_default_models`` (newer families: ``message``).
  * Compatible-mode chunks carry ``usage: null`` and ``system_fingerprint: null`` and the
    last content delta is ``{"content": ""}`` (issue 12; no page shows a chunk).
    ``GET /compatible-mode/v1/models`` lists the region's models and RUNNING deployments.
Errors and the wire
  * Follows error-code.md: injected 429s are ``Throttling.RateQuota`` (compatible mode
    ``limit_requests``) or, with ``code=``, ``Throttling.AllocationQuota``
    (``insufficient_quota``), with the page's messages; 500 ``InternalError`` "Internal server
    error!"; 503 ``ServiceUnavailable``.
  * Every answer's ``request_id`` is also its ``X-Request-ID`` header (issue 12; no page
    names the header). Success bodies carry no ``status_code`` field.
  * Faults: a "drop" sends a 200 header promising 4096 bytes and a fragment, then closes; a
    "drop_after" first lets the request take effect. Connections are counted as distinct
    client (host, port) pairs since the last reset. The listening socket sets TCP_NODELAY.
"""

# ruff: noqa: RUF002  (quotes the vendor's Chinese pages)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .runner import RunningEmulator, run_emulator

__all__ = ["RunningEmulator", "create_app", "run_emulator"]


def __getattr__(name: str) -> Any:
    """Lazy exports: importing the package must not import FastAPI or uvicorn."""
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in ("run_emulator", "RunningEmulator"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
