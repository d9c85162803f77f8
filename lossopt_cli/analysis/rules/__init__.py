"""The diagnosis' rules, one module per family; each rule reads a history (and what a run directory adds)
and returns findings with the severity it decided."""
