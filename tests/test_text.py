"""The one text normaliser (indexer/text.py): folding, words, stems, squeezing, comparing."""
from __future__ import annotations

import pytest

from indexer.text import comparable, fold, fold_with_origin, squeeze, stem, stem_words, words


def test_fold_lowers_and_strips_diacritics():
    assert fold("Oekraïne ÉÉN café") == "oekraine een cafe"


def test_fold_with_origin_maps_each_folded_character_back():
    text = "Ze zei ‘Oekraïne’"
    folded, origin = fold_with_origin(text)
    assert folded == "ze zei 'oekraine'"
    assert len(origin) == len(folded)
    i = folded.index("oekraine")
    assert text[origin[i] : origin[i + len("oekraine") - 1] + 1] == "Oekraïne"


def test_words_are_folded_and_keep_stop_words():
    assert words("De IND beslist, binnen 6 maanden!") == ["de", "ind", "beslist", "binnen", "6", "maanden"]


def test_stems_in_both_languages_and_an_unknown_language_is_named():
    assert stem("asielaanvragen") == stem("asielaanvraag")
    assert stem_words(["refugees", "refugee"], "en") == ["refuge", "refuge"]
    with pytest.raises(ValueError, match="choose one of nl, en"):
        stem("x", "de")


def test_squeeze_drops_white_space_and_hyphens_and_keeps_the_origin():
    text = "ver-\nlengd met ‘negen’\u00admaanden"
    squeezed, where = squeeze(text)
    assert squeezed == "verlengdmet'negen'maanden"
    assert "".join(text[i] for i in where) == "verlengdmet‘negen’maanden"  # each kept character's origin
    assert squeeze("2022–2023")[0] == squeeze("2022-2023")[0] == "20222023"


def test_comparable_ignores_case_diacritics_soft_hyphens_and_white_space():
    assert comparable("  A\u00adB\tC ") == "ab c"
    assert comparable("Oekraïne\n duurt") == comparable("OEKRAINE duurt")
