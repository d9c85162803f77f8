"""`python -m lossopt_cli`: the same command line as `lossopt`."""

from .entry import main

main()
