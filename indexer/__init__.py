"""Documents -> an index: parsers per file type (parsers/), passages with their provenance
(passage.py), the embedding model (encoders/), the dense (dense.py) and lexical (analysis.py,
lexical.py) indexes, and the build folder that holds them (store.py), made by build.py.

text.py is the one text normaliser every package uses.
"""
