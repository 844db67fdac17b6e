"""The metadata store: every domain's store protocol, their SQL implementation, the schema.

``protocols/`` holds one small protocol per domain (data only crosses them);
``sql/`` implements them all on one engine per URI; ``set.py`` bundles them
into the :class:`~mloop.store.set.StoreSet` that domains reach their stores
through, and ``registry.py`` opens one per URI per process by scheme
(``mloop.stores``). This layer knows tables, not domain rules.
"""
