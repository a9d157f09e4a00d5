"""The officer's app: settings, strings, shared resources and reusable components.

`app.py` and `app_pages/` only wire these to widgets; parsing, ranking and rules live in
indexer/, retrieval/ and rules/.
"""
