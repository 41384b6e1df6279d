"""``python -m torchupgrade``: the same command line as ``torchupgrade``."""
from torchupgrade.cli.main import main

if __name__ == "__main__":  # pragma: no branch
    main()
