"""Thresholds of the reporter: the keys allowed under ``diagnostics:`` with their defaults."""

from __future__ import annotations

from ..schema import Param

THRESHOLDS: dict[str, Param] = {}
