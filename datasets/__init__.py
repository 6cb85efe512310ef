"""Bundled data files, installed as the package ``gbrank._data``.

A regular package (not a namespace one) so that setuptools' editable install can
map ``gbrank._data`` to this folder; read the files with
``importlib.resources.files("gbrank._data")``.
"""
