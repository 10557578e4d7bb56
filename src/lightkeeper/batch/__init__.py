"""Batch scoring: read in chunks, score with the deployment's versions, stage, publish.

A run reads its input (a SQL query or table, Parquet or CSV files) chunk by chunk,
validates each chunk against the input schema (bad rows go to a rejects output with the
reason), scores it with the champion (and, on a canary release, a share of entities by
key with the challenger), and stages it. Only when every chunk is staged is the output
published in one step (a transaction on SQL, a directory swap on Parquet) replacing the
partition. A killed run leaves staged chunks that the next run of the same partition
and release takes over.
"""
