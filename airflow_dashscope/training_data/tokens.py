"""A cheap token estimate, to predict the bill before a job starts.

Heuristic (Qwen's tokenizer is not shipped here, and loading it would cost far more than the
validation itself): each CJK character (Han, kana, Hangul, CJK punctuation and full-width
forms) counts as about 1 token; all other text as about 4 characters a token (rounded up per
example); each chat message adds 4 tokens for its ChatML markers
(``<|im_start|>role\\n ... <|im_end|>\\n``). Images and videos are not counted. It is an
estimate good to perhaps +-30 % for typical Chinese/English text, enough to catch a run that
would cost ten times what was expected.
"""

from __future__ import annotations

import re

TOKENS_PER_MESSAGE = 4
CHARS_PER_TOKEN = 4

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


class TokenEstimate:
    """Running totals over a file; ``begin_example`` / ``end_example`` frame each line."""

    def __init__(self) -> None:
        self.examples = 0
        self.turns = 0
        self.characters = 0
        self.tokens = 0
        self.max_example_tokens = 0
        self.bytes_read = 0
        self._cjk = 0
        self._other = 0
        self._messages = 0

    def begin_example(self) -> None:
        self._cjk = self._other = self._messages = 0

    def add_text(self, text: str) -> None:
        cjk = count_cjk(text)
        self.characters += len(text)
        self._cjk += cjk
        self._other += len(text) - cjk

    def add_message(self) -> None:
        self.turns += 1
        self._messages += 1

    def end_example(self) -> None:
        example_tokens = (
            self._cjk + -(-self._other // CHARS_PER_TOKEN) + self._messages * TOKENS_PER_MESSAGE
        )
        self.examples += 1
        self.tokens += example_tokens
        self.max_example_tokens = max(self.max_example_tokens, example_tokens)
