"""``python -m esgledger``: the same command line as the ``esgledger`` script."""

from esgledger.cli import main

if __name__ == "__main__":
    main()
