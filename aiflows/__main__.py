"""`python -m aiflows` is the `aiflows` command (what `torchrun -m aiflows train ...` starts per rank)."""

from aiflows.cli import main

raise SystemExit(main())
