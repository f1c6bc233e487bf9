"""JSON from users (job specs, batch job lines, web request bodies): ``loads``, which reads arrays and
objects nested deeper than Python's recursion allows as malformed JSON instead of a RecursionError."""
from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``; raises json.JSONDecodeError (a ValueError) for malformed JSON, nesting too
    deep included (``[[[...]]]`` thousands of levels deep), and UnicodeDecodeError for bytes that are not
    UTF-8."""
    try:
        return json.loads(text)
    except RecursionError:
        document = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise json.JSONDecodeError("arrays or objects nested too deeply", document, 0) from None
