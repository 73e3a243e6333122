"""mitool's command line (Typer): ``app`` holds the commands, ``main`` is the entry point.

Only this wing touches the terminal: it parses options, calls the library, renders the one
result object (``output`` holds the error mapping, the stderr console and JSON on stdout).
"""

from mitool.cli.app import app, main

__all__ = ["app", "main"]
