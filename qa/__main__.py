"""`python -m qa ask "QUESTION"`: the command line lives in qa/serving/cli.py."""
from index.exits import run_cli
from qa.serving.cli import main

raise SystemExit(run_cli(main))
