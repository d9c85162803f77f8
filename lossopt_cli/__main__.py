"""`python -m lossopt_cli`: the same command line as `lossopt`."""

from .cli import main

main()
