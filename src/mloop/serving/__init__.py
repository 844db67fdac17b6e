"""Serving: models behind HTTP, in the protocols clients already speak.

The server answers MLflow's scoring protocol (``POST /invocations``), the Open
Inference Protocol V2 (KServe, Triton) and a plain ``POST /predict``, with
batching, signature checks and Prometheus metrics. The HTTP parts need the
``serve`` extra (``pip install 'mloop[serve]'``); the codecs here do not.
"""
