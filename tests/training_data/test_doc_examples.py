"""The examples shown in fine-tune-with-api.txt pass, written into files as users would."""

from __future__ import annotations

from pathlib import Path

from .dataset_helpers import validate_lines

SFT = {
    "messages": [
        {"role": "system", "content": "System input 1"},
        {"role": "user", "content": "User input 1"},
        {"role": "assistant", "content": "Expected model output 1"},
        {"role": "user", "content": "User input 2"},
        {"role": "assistant", "content": "Expected model output 2"},
    ]
}
SFT_LOSS_WEIGHT = {
    "messages": [
        {"role": "user", "content": "User input 1"},
        {"role": "assistant", "content": "Expected model output 1", "loss_weight": 1.0},
        {"role": "user", "content": "User input 2"},
        {"role": "assistant", "content": "Expected model output 2", "loss_weight": 0.5},
    ]
}
THINKING = {
    "messages": [
        {"role": "system", "content": "System input 1"},
        {"role": "user", "content": "User input 1"},
        {"role": "assistant", "content": "Model output 1"},
        {"role": "user", "content": "User input 2"},
        {
            "role": "assistant",
            "content": "<think>\nExpected thinking content 2\n</think>\n\nExpected output 2",
            "loss_weight": 1.0,
        },
    ]
}
THINKING_OFF = {
    "messages": [
        {"role": "user", "content": "User input 2"},
        {"role": "assistant", "content": "Expected model output 2"},
    ]
}
VL = {
    "messages": [
        {"role": "system", "content": [{"text": "System input"}]},
        {
            "role": "user",
            "content": [
                {"text": "User input 1"},
                {"image": "image_filename_1.jpg", "resized_width": 200, "resized_height": 200},
            ],
        },
        {"role": "assistant", "content": [{"text": "Expected model output 1"}]},
        {
            "role": "user",
            "content": [
                {"text": "User input 2"},
                {
                    "video": "video_filename_1.mp4",
                    "fps": 3.0,
                    "resized_width": 200,
                    "resized_height": 200,
                    "video_start": 0.0,
                    "video_end": 3.0,
                },
            ],
        },
        {"role": "assistant", "content": [{"text": "Expected model output 2"}]},
        {
            "role": "user",
            "content": [
                {"text": "User input 2"},
                {
                    "video": ["0.jpg", "1.jpg", "2.jpg", "3.jpg"],
                    "sample_fps": 5.0,
                    "resized_width": 200,
                    "resized_height": 200,
                },
            ],
        },
        {"role": "assistant", "content": [{"text": "Expected model output 2"}]},
    ]
}
DPO = {
    "messages": [
        {"role": "system", "content": "System input"},
        {"role": "user", "content": "User input 1"},
        {"role": "assistant", "content": "Model output 1"},
        {"role": "user", "content": "User input 2"},
        {"role": "assistant", "content": "Model output 2"},
        {"role": "user", "content": "User input 3"},
    ],
    "chosen": {"role": "assistant", "content": "Preferred model output 3", "loss_weight": 1.0},
    "rejected": {"role": "assistant", "content": "Rejected model output 3"},
}
DPO_THINKING = {
    **DPO,
    "chosen": {
        "role": "assistant",
        "content": "<think>Expected model thinking content</think>Expected model output",
    },
}
CPT = {"text": "Text content"}


def test_sft_examples_pass(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [SFT, SFT_LOSS_WEIGHT], training_type="sft")
    assert report.ok and report.problem_count == 0, report.summary()
    assert report.stats.examples == 2
    assert report.stats.turns == 9


def test_efficient_sft_accepts_the_same_format(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [SFT], training_type="efficient_sft")
    assert report.problem_count == 0, report.summary()


def test_thinking_examples_pass(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [THINKING, THINKING_OFF, SFT], thinking=True)
    assert report.problem_count == 0, report.summary()


def test_vl_example_passes_as_jsonl(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [VL], vl=True)
    assert report.problem_count == 0, report.summary()


def test_dpo_examples_pass(tmp_path: Path) -> None:
    for training_type in ("dpo_full", "dpo_lora"):
        report = validate_lines(tmp_path, [DPO, DPO_THINKING], training_type=training_type)
        assert report.problem_count == 0, report.summary()
        assert report.stats.turns == 16


def test_cpt_example_passes(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [CPT], training_type="cpt")
    assert report.problem_count == 0, report.summary()
    assert report.stats.characters == len("Text content")
