"""``python -m digest`` runs the command-line interface."""

from digest.cli import main

if __name__ == "__main__":
    main()
