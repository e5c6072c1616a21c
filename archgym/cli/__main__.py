"""``python -m archgym.cli``: the ``archgym`` command."""

from archgym.cli import main

raise SystemExit(main())
