"""Analysis beyond one machine: the same per-file analysis on a Dask distributed cluster, and
catalog files built from an archive (on a cluster or on this machine's process pool).

Dask is imported only when a cluster address is given (dask_runner.py), so the app and the
bundle never pay for it; pyarrow only when a catalog file is written or read (catalog_file.py).
"""
