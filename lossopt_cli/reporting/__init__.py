"""Reporting: plots and the HTML report, drawn only from what a run directory holds."""
