"""Content-addressed artifact storage over fsspec (local, memory, s3, gcs)."""
