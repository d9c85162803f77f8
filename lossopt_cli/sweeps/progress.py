"""Sweep progress on stderr: one line per finished run, and a bar on a terminal."""

from __future__ import annotations

import math
import sys
import time


class Progress:
    """One line per finished run on stderr: done/total, the run, best so far, time left. On a terminal a
    bar below the lines shows the same; in a log or a pipe there are only the plain lines."""

    def __init__(self, total: int, already_done: int = 0, stream=None, metric: str = "val_loss"):
        self.total, self.done, self.stream = total, already_done, stream or sys.stderr
        self.metric = metric  # the sweep's ranking metric (rank_by), at each run's best epoch
        self.started = time.time()
        self.finished_here = 0
        self.first_at = 0.0  # seconds from the start to the first result of this invocation
        self.best: tuple[float, str] | None = None
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, result) -> None:
        from ..reporting.text import fmt

        if result.status == "interrupted":  # not done: --resume finishes it; no time left to promise
            width = len(str(self.total))
            line = (f"[{self.done:>{width}}/{self.total}] {result.name}: interrupted ({fmt(result.wall_time)} s), "
                    f"its finished epochs saved: --resume finishes it")
            self._write(line)
            return
        self.done += 1
        self.finished_here += 1
        from ..analysis.stats import lower_is_better

        value = (result.summary or {}).get("best", {}).get(self.metric)
        sign = 1 if lower_is_better(self.metric) else -1
        if isinstance(value, (int, float)) and math.isfinite(value) and (
                self.best is None or sign * value < sign * self.best[0]):
            self.best = (value, result.name)
        elapsed = time.time() - self.started
        if self.finished_here == 1:  # the first run carries the start-up (TensorFlow's import, tracing): no rate yet
            self.first_at = elapsed
            left = "? (after the next run)" if self.done < self.total else "0s"
        else:
            rate = max(elapsed - self.first_at, 0.0) / (self.finished_here - 1)
            left = _duration((self.total - self.done) * rate)
        best = f"best {self.metric} {fmt(self.best[0])} ({self.best[1]})" if self.best else "best: -"
        width = len(str(self.total))
        line = (f"[{self.done:>{width}}/{self.total}] {result.name}: {result.status} ({fmt(result.wall_time)} s) | "
                f"{best} | {left} left")
        if self.tty:
            filled = round(20 * self.done / max(1, self.total))
            bar = f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} runs | {best} | {left} left"
            self.stream.write(f"\r\033[K{line}\n{bar}")
            self.stream.flush()
        else:
            print(line, file=self.stream, flush=True)

    def _write(self, line: str) -> None:
        """A plain line (above the bar on a terminal)."""
        if self.tty:
            self.stream.write(f"\r\033[K{line}\n")
            self.stream.flush()
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:  # clear the bar: the leaderboard follows
            self.stream.write("\r\033[K")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
