"""A question -> ranked, cited, quoted passages: retriever.py orchestrates the search over an
index (lexicon, thesaurus and places read the question; references find named provisions;
fusion ranks and decides abstention; quote picks the sentence), library.py gives the indexed
corpus to readers, and evaluate/calibrate/evalsets measure and fit it on eval/.
"""
