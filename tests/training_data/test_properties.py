"""Property tests: whatever the bytes or JSON, the validator reports and never crashes."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_dashscope.training_data import ValidationReport, validate_training_file

TYPES = ["sft", "efficient_sft", "dpo_full", "dpo_lora", "cpt"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["system", "user", "assistant", "<think>\n", "\n</think>\n\n", "a.png"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "role",
                    "content",
                    "loss_weight",
                    "chosen",
                    "rejected",
                    "text",
                    "image",
                    "video",
                    "fps",
                    "resized_width",
                    "video_start",
                    "video_end",
                    "name",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
chat_like = st.fixed_dictionaries(
    {
        "messages": st.lists(
            st.fixed_dictionaries(
                {
                    "role": st.sampled_from(["system", "user", "assistant", "x"]),
                    "content": json_values,
                },
                optional={"loss_weight": json_values},
            ),
            max_size=6,
        )
    },
    optional={"chosen": json_values, "rejected": json_values},
)

MEMBER_NAMES = st.text(
    st.characters(blacklist_characters="\x00/", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
) | st.sampled_from(["a.png", "d/a.png", "b.jpg", "__MACOSX/._a.png", "x/data.jsonl"])

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def validate_bytes(data: bytes, name: str = "data.jsonl", **options: Any) -> ValidationReport:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        report = validate_training_file(path, **options)
    assert report.error_count + report.warning_count >= len(report.problems)
    assert all(p.line is None or p.line >= 1 for p in report.problems)
    report.summary()
    json.dumps(report.to_dict())
    return report


@SETTINGS
@given(data=st.binary(max_size=400), training_type=st.sampled_from(TYPES))
def test_random_bytes_never_crash(data: bytes, training_type: str) -> None:
    validate_bytes(data, training_type=training_type)


@SETTINGS
@given(
    lines=st.lists(json_values, max_size=5),
    training_type=st.sampled_from(TYPES),
    thinking=st.booleans(),
)
def test_random_json_never_crashes(lines: list[Any], training_type: str, thinking: bool) -> None:
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    report = validate_bytes(
        data, training_type=training_type, thinking=thinking and training_type != "cpt"
    )
    if any(not isinstance(line, dict) for line in lines):
        assert not report.ok


@SETTINGS
@given(lines=st.lists(chat_like, min_size=1, max_size=4), vl=st.booleans(), thinking=st.booleans())
def test_random_chats_never_crash(lines: list[Any], vl: bool, thinking: bool) -> None:
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    validate_bytes(data, vl=vl, thinking=thinking)
    validate_bytes(data, training_type="dpo_lora", thinking=thinking)


@SETTINGS
@given(
    members=st.dictionaries(MEMBER_NAMES, st.binary(max_size=64), max_size=4),
    data_lines=st.lists(chat_like, max_size=3),
)
def test_random_zip_packages_never_crash(members: dict[str, bytes], data_lines: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pkg.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
            archive.writestr("data.jsonl", "\n".join(json.dumps(x) for x in data_lines))
        validate_training_file(path).summary()


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes_as_zip_never_crash(data: bytes) -> None:
    validate_bytes(data, name="pkg.zip")


@SETTINGS
@given(
    data=st.binary(max_size=200),
    head=st.sampled_from(
        [b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"RIFF"]
    ),
)
def test_image_parser_only_raises_its_error(data: bytes, head: bytes) -> None:
    import io

    from airflow_dashscope.training_data.images import ImageHeaderError, read_image_size

    try:
        size = read_image_size(io.BytesIO(head + data))
    except ImageHeaderError:
        return
    assert size.width >= 0 and size.height >= 0
