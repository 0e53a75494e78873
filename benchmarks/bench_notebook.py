"""Time a warm `%grade` of a complete chapter-4 notebook against `python -c "import numpy"`, in paired rounds.

Usage: python benchmarks/bench_notebook.py [--runs N]

A kernel (ipykernel) runs the complete chapter-4 notebook (tests/fixtures/submissions/correct.py
cut into cells at its section comments), loads the extension and grades once (the first
`%grade`, not measured). Then each of N rounds runs `python -c "import numpy"` once, waits until
the extension's next warm grading process is ready (as it is after the few seconds a student
takes between two gradings), and times one `%grade` from the client's side: from the execute
request sent to the kernel's reply (the view shown). The round's ratio is the grading's time
over the floor's in the same round, so a busy moment of the machine slows both sides.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def floor_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from jupyter_client.manager import start_new_kernel

    source = (ROOT / "tests/fixtures/submissions/correct.py").read_text(encoding="utf-8")
    cells = [c for c in re.split(r"\n(?=# =====)", source) if c.strip()]
    folder = tempfile.mkdtemp(prefix="bench-notebook-")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    km, kc = start_new_kernel(kernel_name="python3", cwd=folder, env=env)
    outputs: list[dict] = []

    def run(code: str) -> None:
        reply = kc.execute_interactive(code, timeout=300, output_hook=outputs.append)
        if reply["content"]["status"] != "ok" and "%grade" in code:
            raise SystemExit(f"{code!r} failed: {reply['content']}")

    try:
        for cell in cells:
            run(cell)
        run("%load_ext grader")
        run("%grade")
        floors, gradings, ratios = [], [], []
        floor_seconds()  # unmeasured: the file cache, as in every round after it
        for _round in range(args.runs):
            run("get_ipython()._dlfs_grader.wait_ready()")
            floor = floor_seconds()
            outputs.clear()
            started = time.perf_counter()
            run("%grade")
            grading = time.perf_counter() - started
            shown = [o for o in outputs if o["msg_type"] == "display_data"]
            if not shown or "Score: 100 / 100" not in shown[0]["content"]["data"]["text/plain"]:
                raise SystemExit("the warm %grade did not show the full score")
            floors.append(floor)
            gradings.append(grading)
            ratios.append(grading / floor)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    print(f"rounds: {args.runs}; load average after: {os.getloadavg()[0]:.2f}")
    print(f"python -c 'import numpy'   median {statistics.median(floors):.3f} s")
    print(f"warm %grade (full ch. 4)   median {statistics.median(gradings):.3f} s; ratio median "
          f"{statistics.median(ratios):.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
