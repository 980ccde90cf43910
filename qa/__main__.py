"""`python -m qa ask "QUESTION"`: the command line lives in qa/serving/cli.py."""
from qa.serving.cli import main

raise SystemExit(main())
