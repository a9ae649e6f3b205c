"""The hostile-input corpus (issue 11): files and commands a careful attacker would try.

Each ``cases_<area>.py`` module defines ``CASES``, a list of :class:`_corpus.Case`;
``tests/integration/test_hostile_corpus.py`` runs every case through the CLI and checks that
it ends in exit 0 or 2 with a short message, never a traceback, and (exit 2) never a
partial write.
"""
