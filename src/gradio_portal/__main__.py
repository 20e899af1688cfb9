"""``python -m gradio_portal`` runs the command line."""

from gradio_portal.cli import main

raise SystemExit(main())
