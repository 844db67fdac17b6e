"""Content-addressed artifact storage over object stores (local, memory, s3, gcs)."""
