"""The text pass over a CSV file before pandas reads it: decoding (gzip, UTF-8 or Latin-1), comment and
blank lines, the sniffed delimiter, and rows whose field count differs from the header's (named by line)."""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..schema import ConfigError

MISSING_MARKERS = ["?"]  # on top of pandas' own: "", NA, N/A, NaN, nan, null, NULL, None, #N/A, ...
DELIMITERS = ",;\t|"


@dataclass
class _Text:
    lines: list[str]  # the lines pandas reads: no comment lines, no blank lines
    line_numbers: list[int] | range  # their 1-based line numbers in the file
    notes: list[str]


def read_text(path: Path) -> tuple[str, list[str]]:
    """The file's text (gunzipped when it starts with gzip's magic bytes), and a note on its encoding."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise ConfigError(f"data.dataset: could not read {path}: {exc}.", key="data.dataset") from None
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return raw.decode("latin-1"), [f"{path.name} is not UTF-8; read as Latin-1."]


def _clean_lines(text: str, comment: str | None) -> _Text:
    """Drop blank lines and lines starting with ``comment``, keeping each kept line's number in the file."""
    body = text.rstrip("\r\n") + "\n"
    lines = io.StringIO(body, newline="").readlines()  # splits at \n, \r\n and \r only, as csv does
    skip = re.compile(r"^[ \t]*(?:[\r\n]|$" + (f"|{re.escape(comment)}" if comment else "") + ")", re.MULTILINE)
    found = [m.start() for m in skip.finditer(body)]
    if not found:  # the common case: nothing to skip
        return _Text(lines, range(1, len(lines) + 1), [])
    ends = np.cumsum(np.fromiter(map(len, lines), dtype=np.int64, count=len(lines)))
    starts = np.concatenate([[0], ends[:-1]])  # where each line begins in body
    drop = set(np.searchsorted(starts, found).tolist())
    kept = [i for i in range(len(lines)) if i not in drop]
    return _Text([lines[i] for i in kept], [i + 1 for i in kept], [])


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter of the first lines (comma, semicolon, tab or bar); a comma when unclear."""
    sample = "".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _records(text: _Text, delimiter: str, path: Path, header: bool) -> list[int]:
    """The file line where each record starts; raises when a row's field count differs from the header's."""
    lengths = list(map(len, csv.reader(text.lines, delimiter=delimiter, skipinitialspace=True)))  # fast, in C
    if len(set(lengths)) <= 1 and len(lengths) == len(text.lines):  # one record per line, all alike
        return list(text.line_numbers)
    reader = csv.reader(text.lines, delimiter=delimiter, skipinitialspace=True)
    starts, expected, first = [], None, None
    consumed = 0
    try:
        for fields in reader:
            line = text.line_numbers[consumed] if consumed < len(text.line_numbers) else None
            consumed = reader.line_num
            if expected is None:
                expected, first = len(fields), line
            elif len(fields) != expected:
                shown = "tab" if delimiter == "\t" else repr(delimiter)
                raise ConfigError(
                    f"data.dataset: line {line} of {path} has {len(fields)} fields, but line {first} (the "
                    f"{'header' if header else 'first row'}) has {expected} (delimiter {shown}). Fix "
                    f"the line, or set data.delimiter (and data.comment for lines of notes) if the file was "
                    f"misread.", key="data.dataset")
            starts.append(line)
    except csv.Error as exc:
        raise ConfigError(f"data.dataset: {path} is not a readable CSV file near line "
                          f"{text.line_numbers[min(consumed, len(text.line_numbers) - 1)]}: {exc}.",
                          key="data.dataset") from None
    return starts


def read_frame(path: Path, options) -> tuple:
    """(DataFrame with str column names, the file line of each row, delimiter, notes)."""
    import pandas as pd

    text, notes = read_text(path)
    cleaned = _clean_lines(text, options.comment)
    if not cleaned.lines:
        raise ConfigError(f"data.dataset: {path} has no data rows.", key="data.dataset")
    delimiter = options.delimiter or sniff_delimiter(cleaned.lines)
    starts = _records(cleaned, delimiter, path, options.header)
    try:
        frame = pd.read_csv(io.StringIO("".join(cleaned.lines)), sep=delimiter, header=0 if options.header else None,
                            na_values=MISSING_MARKERS, skipinitialspace=True, skip_blank_lines=False,
                            low_memory=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise ConfigError(f"data.dataset: pandas could not read {path}: {str(exc).strip()[:300]}",
                          key="data.dataset") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = starts[1:] if options.header else starts
    if len(rows) != len(frame):
        rows = [None] * len(frame)
    if len(frame) == 0:
        raise ConfigError(f"data.dataset: {path} has a header but no data rows.", key="data.dataset")
    return frame, rows, delimiter, notes
