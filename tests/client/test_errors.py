from __future__ import annotations

import pytest

from airflow_dashscope.client import (
    AuthenticationError,
    ConflictError,
    DashScopeAPIError,
    DashScopeClient,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    ThrottlingError,
    UnsupportedOperationError,
)
from airflow_dashscope.client.errors import error_class_for
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
        (429, "Throttling.RateQuota", ThrottlingError),
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
