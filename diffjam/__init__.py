"""The ``diffjam`` command: one parser over the packages' sub-commands (:mod:`diffjam.cli`).

The top of the import graph: it imports ``engine`` and ``bridge`` command modules, and
``gui`` only when ``diffjam panel`` runs; nothing imports it.
"""
