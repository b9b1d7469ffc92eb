from insights.text.taxonomy import DEFAULT_TAXONOMY, ThemeSpec
from insights.text.themes import ThemeMatcher, compile_seed


def test_default_taxonomy_has_the_six_themes_with_seeds():
    assert [t.slug for t in DEFAULT_TAXONOMY] == [
        "delivery",
        "price",
        "product_quality",
        "customer_service",
        "website_app",
        "billing_refund",
    ]
    assert all(len(t.seeds) >= 20 for t in DEFAULT_TAXONOMY)


def test_match_finds_themes_in_both_languages_in_taxonomy_order():
    matcher = ThemeMatcher(DEFAULT_TAXONOMY)
    assert matcher.match("Refund still not processed and the courier lost my parcel") == [
        "delivery",
        "billing_refund",
    ]
    assert matcher.match("Le livreur était aimable mais le remboursement traîne") == ["delivery", "billing_refund"]
    assert matcher.match("L'appli plante au paiement") == ["website_app"]


def test_match_returns_nothing_for_a_themeless_comment():
    assert ThemeMatcher(DEFAULT_TAXONOMY).match("Love it, thanks!") == []
    assert ThemeMatcher(DEFAULT_TAXONOMY).match("") == []


def test_seed_star_matches_a_word_start_and_a_lone_star_a_gap():
    assert compile_seed("livr*").occurs_in(["livreur"])
    assert not compile_seed("livr").occurs_in(["livreur"])
    gap = compile_seed("took * to arrive")
    assert gap.occurs_in("it took three weeks to arrive".split())
    assert gap.occurs_in("took ages to arrive".split())
    assert not gap.occurs_in("took a very long time to arrive".split())


def test_seeds_are_folded_like_comments():
    matcher = ThemeMatcher([ThemeSpec("packaging", "Packaging", ("Emballage abîmé",))])
    assert matcher.match("EMBALLAGE ABIME à la réception") == ["packaging"]


def test_a_managers_theme_matches_its_own_seeds():
    taxonomy = (*DEFAULT_TAXONOMY, ThemeSpec("loyalty", "Loyalty programme", ("loyalty points", "points fidélité")))
    matcher = ThemeMatcher(taxonomy)
    assert matcher.match("My loyalty points vanished") == ["loyalty"]
    assert matcher.match("Mes points fidélité ont disparu") == ["loyalty"]
