"""The officer's app: settings, strings, shared resources, the index guard, and what pages show
(passages, the in-context view, document tables, rule checks, the case file).

`app.py` and `app_pages/` only wire these to widgets; parsing, ranking and rules live in
indexer/, retrieval/ and rules/.
"""
