"""``python -m openai_trigger_bot.cli``: same as the ``trigger-bot`` command."""

from . import main

raise SystemExit(main())
