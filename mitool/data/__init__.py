"""Tables in, estimator input out: reading CSV/TSV/Parquet (``tables``), deciding each
column's kind and dropping missing rows (``columns``), and datasets with analytically known
MI for tests, benchmarks and ``mitool sample`` (``synthetic``).
"""
