"""Run the emulator in a process of its own for the benchmark.

``python bench/emulator_process.py SCENARIO.json`` loads the scenario (and again only when the
file changes: the night's benchmark changes 1 % of its customers between two cycles), starts the
HTTPS emulator on a free port and prints one JSON line
(``base_url``, ``ca_path``, ``partner_tenant_id``). It serves until its standard input closes
or it gets SIGTERM, so it never outlives the benchmark that started it.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent import logging as plog  # noqa: E402
from standin.emulator import Emulator  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: emulator_process.py SCENARIO.json", file=sys.stderr)
        return 2
    plog.configure("error", "json")
    path = Path(argv[0])
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    def _watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe (or dies)
        stop.set()

    threading.Thread(target=_watch_stdin, daemon=True, name="stdin-watch").start()
    with Emulator(path, port=0) as emulator:  # by path: a changed file is reloaded
        print(
            json.dumps(
                {
                    "base_url": emulator.base_url,
                    "ca_path": emulator.ca_path,
                    "partner_tenant_id": emulator.partner_tenant_id,
                }
            ),
            flush=True,
        )
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
