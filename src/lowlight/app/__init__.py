"""The local web app (``lowlight serve``): drop photos in a browser, compare, adjust, download.

- ``photos``: enhancing uploads into full-resolution results, previews and a zip (no Gradio).
- ``page``: the Gradio page and its ``/enhance`` API endpoint.
- ``server``: serving it offline, locally, with only its own files readable.

``page`` and ``server`` need the ``app`` extra: ``pip install "lowlight[app]"``.
"""
