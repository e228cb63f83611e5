"""The words of a message as the word search indexes them, and of a query as it looks them up (domain.words)."""
from __future__ import annotations

from chalicelib.domain.words import MAX_QUERY_WORDS, MAX_WORDS, fold, message_words, query_words


def test_words_are_folded_and_stop_words_of_the_language_left_out():
    assert message_words("@MeridianRail Stranded at DIDCOT Parkway with two kids, train CANCELLED!", "en") == [
        "stranded", "didcot", "parkway", "two", "kids", "train", "cancelled"]
    assert message_words("@SNCF le train pour Orléans a été annulé, où est mon remboursement ?", "fr") == [
        "train", "orleans", "annule", "remboursement"]
    assert message_words("Mae fy nhrên i Landŵ wedi ei ganslo", "cy") == ["nhren", "landw", "ganslo"]
    assert fold("Llandŵ Gare de l'Est") == "llandw gare de l'est"


def test_references_times_and_numbers_are_findable_links_and_handles_are_not():
    words = message_words("@MeridianRail @pat booking ref ABC123XY, the 17:45 from platform 2 cost £145 "
                          "https://t.co/xYz12 #delays mail me pat@example.org", "en")
    assert words[:3] == ["abc123xy", "17:45", "145"]  # the words with digits first
    assert "delays" in words and "2" not in words
    assert not {"meridianrail", "pat", "t", "co", "xyz12", "example", "org"} & set(words)
    assert message_words("Stoke-on-Trent to King's Cross", "en") == ["stoke", "trent", "king", "cross"]


def test_a_message_gives_at_most_max_words_distinct_words_and_a_query_at_most_max_query_words():
    long = " ".join(f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(60))
    assert len(message_words(long + " " + long, "en")) == MAX_WORDS
    assert len(message_words(long, None, limit=None)) == 60
    assert len(query_words(long)) == MAX_QUERY_WORDS


def test_a_query_is_read_as_messages_are_its_likely_rarest_words_first():
    assert query_words("Refund DIDCOT") == ["refund", "didcot"]  # as long: as typed
    assert query_words("refund for the ABC123XY booking") == ["abc123xy", "booking", "refund"]
    assert query_words("Gare de l'Est") == ["gare"]
    assert query_words("the") == ["the"]  # nothing else: a stop word in one language may be a word in another
    assert query_words("@pat https://t.co/x") == []
