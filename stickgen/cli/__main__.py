"""`python -m stickgen.cli ...` (what `torchrun -m stickgen.cli train ...` runs on every rank)."""

from stickgen.cli import main

main()
