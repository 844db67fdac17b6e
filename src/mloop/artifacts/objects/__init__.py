"""Object stores: where the content store's bytes live (a local folder, memory, S3, GCS…).

:mod:`~mloop.artifacts.objects.base` states the contract,
:mod:`~mloop.artifacts.objects.schemes` picks a backend by URL scheme, and
:mod:`~mloop.artifacts.objects.local` and :mod:`~mloop.artifacts.objects.remote`
implement it.
"""
