"""Converters from official factor files to tidy factor tables.

Each module reads one publisher's file format and returns a table with the columns of
``esgledger/schema/factor_columns.csv``. They run at build time (``tools/build_factor_data.py``)
to produce the CSV tables shipped in ``esgledger/data/factors/``, and users can run them on a
newer official release.
"""
