"""Playlists: made from seeds, the taste model, a path between two tracks or a filter
(generate.py, with expr.py for the filter language and order.py for smooth transitions), and
written for other players (export.py). Saved playlists live in the library (library/playlists.py).

A package of its own rather than a module of search/: search answers "what is alike", while a
playlist also needs the taste model's predictions, ratings, durations and an order, i.e. it sits
beside albums/ in the "what to recommend" layer and uses search/ from above.
"""
