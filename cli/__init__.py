"""The command line. ``main`` is the console entry point: ``torchupgrade --version`` answers
before click and the command modules are imported (``main.py`` holds the commands)."""
import sys


def main(argv=None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        from importlib.metadata import version

        sys.stdout.write(f"torchupgrade, version {version('torchupgrade')}\n")
        return
    from .main import main as real_main

    real_main(argv)
