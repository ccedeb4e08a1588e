from __future__ import annotations

import pytest

from airflow_dashscope.client import (
    AuthenticationError,
    BaseUrlError,
    BillingError,
    ConflictError,
    DashScopeAPIError,
    DashScopeClient,
    DashScopeConfigError,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    SuffixRequiredError,
    ThrottlingError,
    UnsupportedOperationError,
    WorkspaceNotFoundError,
)
from airflow_dashscope.client.errors import error_class_for
from airflow_dashscope.client.transport import api_error
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import Call, config_for


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "InvalidParameter", InvalidParameterError),
        (400, "UnsupportedOperation", UnsupportedOperationError),
        (400, "BadRequest.TooLarge", InvalidParameterError),
        (401, "InvalidApiKey", AuthenticationError),
        (404, "NotFound", NotFoundError),
        (404, "ModelNotFound", NotFoundError),
        (409, "Conflict", ConflictError),
        (429, "Throttling", ThrottlingError),
        (429, "Throttling.RateQuota", RateLimitError),
        (429, "Throttling.BurstRate", RateLimitError),
        (429, "limit_requests", RateLimitError),
        (429, "Throttling.AllocationQuota", QuotaExceededError),
        (429, "insufficient_quota", QuotaExceededError),
        (429, "CommodityNotPurchased", BillingError),
        (429, "PrepaidBillOverdue", BillingError),
        (403, "AllocationQuota.FreeTierOnly", BillingError),
        (404, "WorkSpaceNotFound", WorkspaceNotFoundError),
        (500, "InternalError", InternalServerError),
        (503, "ServiceUnavailable", InternalServerError),
        (418, None, DashScopeAPIError),
        (403, None, AuthenticationError),
    ],
)
def test_every_code_maps_to_its_exception(
    status: int, code: str | None, expected: type[DashScopeAPIError]
) -> None:
    assert error_class_for(status, code) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, ThrottlingError), (500, InternalServerError), (503, InternalServerError)],
)
def test_server_errors_over_the_wire(
    api: Call, dashscope_emulator: RunningEmulator, status: int, expected: type[Exception]
) -> None:
    dashscope_emulator.inject_fault(status=status, count=10, path="/fine-tunes")
    with pytest.raises(expected) as caught:
        api("list_fine_tunes_page")
    error = caught.value
    assert isinstance(error, DashScopeAPIError)
    assert error.status_code == status and error.request_id and error.message
    assert str(status) in str(error) and error.request_id in str(error)


def test_bad_key_is_an_authentication_error_that_says_what_to_do(
    dashscope_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashscope_emulator.emulator.settings, "api_key", "the-right-key")
    with (
        DashScopeClient(config_for(dashscope_emulator)) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.list_files_page()
    assert caught.value.code == "InvalidApiKey" and caught.value.status_code == 401
    assert "API key" in str(caught.value)


REQUESTS = "GET /api/v1/fine-tunes"


def _requests(emulator: RunningEmulator) -> int:
    return int(emulator.counters()["requests"].get(REQUESTS, 0))


@pytest.mark.parametrize(
    ("message", "retryable"),
    [
        # error-code.md, 429 Throttling.AllocationQuota: TPS/TPM over quota (the next window
        # passes it) versus a used-up free quota (nothing but a paid model helps).
        ("Allocated quota exceeded, please increase your quota limit.", True),
        ("You exceeded your current quota, please check your plan and billing details.", True),
        ("Free allocated quota exceeded.", False),
    ],
)
def test_quota_errors_are_retried_only_when_waiting_can_fix_them(
    message: str, retryable: bool
) -> None:
    error = api_error(429, {}, {"code": "Throttling.AllocationQuota", "message": message})
    assert isinstance(error, QuotaExceededError) and error.retryable is retryable


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (429, {"code": "limit_requests", "type": "limit_requests"}, RateLimitError),
        (429, {"code": None, "type": "insufficient_quota"}, QuotaExceededError),
        (401, {"code": "invalid_api_key", "type": "invalid_request_error"}, AuthenticationError),
    ],
)
def test_compatible_mode_errors_map_by_code_or_type(
    status: int, error: dict[str, object], expected: type[DashScopeAPIError]
) -> None:
    """error-code.md names the compatible-mode codes: limit_requests, insufficient_quota..."""
    body = {"error": {"message": "m", "param": None, **error}}
    assert type(api_error(status, {}, body)) is expected


def test_a_conflict_asking_for_a_suffix_is_its_own_error() -> None:
    # model-deployment-api.md and error-code.md word it two ways; both ask for a suffix.
    for message in (
        "Model instance qwen3-8b-ft-1 already exists, please specify a suffix.",
        "Deployed model qwen3-8b-ft-1 already exists, please specify a suffix.",
    ):
        error = api_error(409, {}, {"code": "Conflict", "message": message})
        assert isinstance(error, SuffixRequiredError) and "suffix=" in str(error)
    assert type(api_error(409, {}, {"code": "Conflict", "message": "exists"})) is ConflictError


def test_the_request_id_header_is_used_when_the_body_has_none() -> None:
    error = api_error(500, {"x-request-id": "req-from-header"}, {"code": "InternalError"})
    assert error.request_id == "req-from-header" and "req-from-header" in str(error)
    body = {"code": "InternalError", "request_id": "req-body"}
    assert api_error(500, {"x-request-id": "other"}, body).request_id == "req-body"


def test_a_rate_limit_is_retried_and_then_succeeds(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    dashscope_emulator.inject_fault(
        status=429, code="Throttling.RateQuota", count=2, path="/fine-tunes$"
    )
    assert api("list_fine_tunes_page").total == 0
    assert _requests(dashscope_emulator) == 3


def test_an_exhausted_free_quota_fails_at_once(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    dashscope_emulator.inject_fault(
        status=429,
        code="Throttling.AllocationQuota",
        message="Free allocated quota exceeded.",
        count=10,
        path="/fine-tunes$",
    )
    with pytest.raises(QuotaExceededError) as caught:
        api("list_fine_tunes_page")
    assert not caught.value.retryable
    assert _requests(dashscope_emulator) == 1


def test_an_unknown_workspace_is_a_configuration_error_naming_it(
    dashscope_emulator: RunningEmulator,
) -> None:
    """error-code.md: 404 WorkSpaceNotFound "WorkSpace can not be found."."""
    config = config_for(dashscope_emulator, workspace="llm-no-such-space")
    with DashScopeClient(config) as client, pytest.raises(WorkspaceNotFoundError) as caught:
        client.list_files_page()
    error = caught.value
    assert isinstance(error, DashScopeConfigError) and isinstance(error, NotFoundError)
    assert error.workspace == "llm-no-such-space" and "'llm-no-such-space'" in str(error)
    assert "workspace extra" in str(error)


def test_a_base_url_without_the_api_root_says_the_url_looks_wrong(
    dashscope_emulator: RunningEmulator,
) -> None:
    host_only = dashscope_emulator.base_url.removesuffix("/api/v1")
    with (
        DashScopeClient(config_for(dashscope_emulator, base_url=host_only)) as client,
        pytest.raises(BaseUrlError) as caught,
    ):
        client.get_fine_tune("ft-202601010000-abcd")
    message = str(caught.value)
    assert "base URL looks wrong" in message and "/api/v1" in message
    assert isinstance(caught.value, DashScopeConfigError)


def test_an_unknown_id_under_the_right_root_is_still_a_plain_not_found(api: Call) -> None:
    with pytest.raises(NotFoundError) as caught:
        api("get_fine_tune", "ft-202601010000-abcd")
    assert not isinstance(caught.value, BaseUrlError)
