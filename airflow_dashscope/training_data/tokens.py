"""Training tokens of a data set, counted as the billing page's formula counts them.

model-training-and-deployment-billing.md bills "训练数据 Token 总数" (x epochs). What a
training example is, in tokens, is what the model is trained on: its messages rendered with
Qwen's chat template (ChatML, ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message):

* SFT (and Qwen-VL: the text parts only; no page gives an image's or a video's count): the
  ``messages``. qwen2.5 templates add their default system message when the data has none
  (Qwen3 and newer add none), so the model matters.
* DPO: two sequences, the prompt ``messages`` + ``chosen`` and the prompt + ``rejected`` (the
  trainer runs both; no page says whether the prompt is billed once, so it is counted twice).
* CPT: the ``text`` and the ``<|endoftext|>`` that ends a pre-training document.

With Qwen's tokenizer installed (``qwen_tokenizer.py``) the rendered text is encoded; that
agrees with the emulator's bill to the token on the project's data sets (docs/cost.md).
Without it a heuristic counts the same sequences: each CJK character (Han, kana, Hangul, CJK
punctuation, full-width forms) 1 token, other text 4 characters a token (rounded up per
sequence), 4 tokens per message for the template. Measured against the tokenizer
(docs/cost.md) it is within about -20 %/+10 % on English chat data and up to about 60 % over on
Chinese: enough to catch a run that would cost ten times what was expected, not to budget to
the yuan.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_dashscope.training_data.qwen_tokenizer import (
    ENDOFTEXT,
    IM_END,
    IM_START,
    bpe_count,
    qwen_encoding,
)

if TYPE_CHECKING:
    import tiktoken

TOKENS_PER_MESSAGE = 4
CHARS_PER_TOKEN = 4
#: The default system message of chat templates that add one, by model-id prefix.
DEFAULT_SYSTEM = (
    ("qwen2.5-vl-", "You are a helpful assistant."),
    ("qwen2.5-", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
)
#: Which counter produced an estimate (shown next to it).
BY_TOKENIZER, BY_HEURISTIC = "Qwen tokenizer", "heuristic"

Message = tuple[str, str]

_CJK = re.compile(
    "[\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)


def count_cjk(text: str) -> int:
    if text.isascii():
        return 0
    return len(_CJK.findall(text))


def estimate_text_tokens(text: str) -> int:
    """Tokens for one piece of text under the heuristic above."""
    cjk = count_cjk(text)
    return cjk + -(-(len(text) - cjk) // CHARS_PER_TOKEN)


def content_text(content: object) -> str:
    """The text of a content value: the string itself, or a VL array's text entries joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            entry["text"]
            for entry in content
            if isinstance(entry, dict) and isinstance(entry.get("text"), str)
        )
    return ""


def chat_sequences(example: dict[str, Any], model: str = "") -> list[list[Message]]:
    """The (role, text) messages of each sequence the trainer sees (see the module doc)."""
    raw = example.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    prompt = [(str(m.get("role", "user")), content_text(m.get("content"))) for m in messages]
    if not (messages and messages[0].get("role") == "system"):
        default = next((text for prefix, text in DEFAULT_SYSTEM if model.startswith(prefix)), None)
        if default is not None:
            prompt.insert(0, ("system", default))
    answers = [example[key] for key in ("chosen", "rejected") if isinstance(example.get(key), dict)]
    if not answers:
        return [prompt]
    return [
        [*prompt, (str(answer.get("role", "assistant")), content_text(answer.get("content")))]
        for answer in answers
    ]


def render_chatml(messages: list[Message]) -> str:
    """The text Qwen's chat template gives ``messages`` (no generation prompt)."""
    return "".join(f"{IM_START}{role}\n{text}{IM_END}\n" for role, text in messages)


def count_example(
    example: dict[str, Any], model: str = "", encoding: tiktoken.Encoding | None = None
) -> int:
    """Training tokens of one example: with ``encoding`` (Qwen's), exact; else the heuristic."""
    text = example.get("text")
    if isinstance(text, str) and "messages" not in example:  # CPT
        if encoding is not None:
            return bpe_count(encoding, text + ENDOFTEXT)
        return estimate_text_tokens(text) + 1
    total = 0
    for messages in chat_sequences(example, model):
        if encoding is not None:
            total += bpe_count(encoding, render_chatml(messages))
        else:
            joined = "".join(text for _, text in messages)
            total += estimate_text_tokens(joined) + TOKENS_PER_MESSAGE * len(messages)
    return total


class TokenEstimate:
    """Running totals over a file; ``begin_example`` / ``end_example`` frame each line.

    ``model``: the model the data will train (its template may add a system message).
    ``use_tokenizer=False`` counts with the heuristic even when the tokenizer is installed.
    """

    def __init__(self, model: str | None = None, *, use_tokenizer: bool = True) -> None:
        self.model = model or ""
        self.encoding = qwen_encoding() if use_tokenizer else None
        self.counted_by = BY_HEURISTIC if self.encoding is None else BY_TOKENIZER
        self.examples = 0
        self.turns = 0
        self.characters = 0
        self.tokens = 0
        self.max_example_tokens = 0
        self.bytes_read = 0

    def begin_example(self) -> None:
        """Nothing to reset: an example is counted whole, at its end."""

    def add_text(self, text: str) -> None:
        self.characters += len(text)

    def add_message(self) -> None:
        self.turns += 1

    def end_example(self, example: dict[str, Any]) -> None:
        example_tokens = count_example(example, self.model, self.encoding)
        self.examples += 1
        self.tokens += example_tokens
        self.max_example_tokens = max(self.max_example_tokens, example_tokens)
