"""The benchmarks' one way to report: print the result as JSON and, when asked, write the same text to a file."""
from __future__ import annotations

import json
from pathlib import Path


def print_and_save(result: dict, path: str | Path | None) -> None:
    """Print ``result`` as indented JSON; also write it to ``path`` (folders created) when given."""
    text = json.dumps(result, indent=1)
    print(text)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")
