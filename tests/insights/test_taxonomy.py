import pytest
from django.core.exceptions import ValidationError

from insights import analysis, taxonomy
from insights.models import Theme, ThemeCandidate, ThemeRollup
from surveys.models import Response
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lexicon_only(settings):
    settings.INSIGHTS_EMBEDDER = "none"
    analysis.reset()
    yield
    analysis.reset()


def test_the_default_taxonomy_is_installed_with_bilingual_seeds():
    themes = {t.slug: t for t in Theme.objects.all()}
    assert list(themes) == ["delivery", "price", "product_quality", "customer_service", "website_app", "billing_refund"]
    assert "livr*" in themes["delivery"].seeds and "deliver*" in themes["delivery"].seeds
    assert themes["billing_refund"].name == "Billing and refunds"


def test_theme_create_slugs_the_name_and_rereads_comments():
    response = ResponseFactory(analysis_pending=True, comment="My loyalty points vanished")
    analysis.comments_analyse_pending()
    assert Response.objects.get(pk=response.pk).themes == []

    theme = taxonomy.theme_create(name="Loyalty programme", seeds=["loyalty points", " points  fidélité "])

    assert (theme.slug, theme.seeds) == ("loyalty_programme", ["loyalty points", "points fidélité"])
    assert Response.objects.get(pk=response.pk).analysis_pending is True
    analysis.comments_analyse_pending()
    assert Response.objects.get(pk=response.pk).themes == ["loyalty_programme"]


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"name": ""}, {"name": ["This field is required."]}),
        ({"name": "Delivery"}, {"slug": ["A theme “delivery” already exists."]}),
        ({"name": "Other"}, {"slug": ["A theme “other” already exists."]}),
        ({"name": "X", "slug": "Bad Slug"}, {"slug": ["Use lower-case letters, digits and underscores."]}),
        ({"name": "X", "seeds": ["*"]}, {"seeds": ["“*” has no word to match."]}),
        ({"name": "X", "seeds": ["a" * 101]}, {"seeds": ["A phrase has at most 100 characters."]}),
    ],
)
def test_theme_create_refuses_bad_input_with_field_errors(kwargs, errors):
    with pytest.raises(ValidationError) as error:
        taxonomy.theme_create(**kwargs)
    assert error.value.message_dict == errors
    assert Theme.objects.count() == 6


def test_theme_rename_keeps_the_slug():
    theme = Theme.objects.get(slug="price")
    taxonomy.theme_rename(theme=theme, name="Prices and promotions")
    assert Theme.objects.get(slug="price").name == "Prices and promotions"


def test_theme_merge_moves_comments_seeds_and_rollups_to_the_other_theme():
    shipping = taxonomy.theme_create(name="Shipping", seeds=["shipping box"])
    both = ResponseFactory(analysis_pending=True, comment="Late delivery and a crushed shipping box")
    only = ResponseFactory(analysis_pending=True, comment="The shipping box was crushed")
    analysis.comments_analyse_pending()
    assert Response.objects.get(pk=both.pk).themes == ["delivery", "shipping"]

    delivery = taxonomy.theme_merge(theme=shipping, into=Theme.objects.get(slug="delivery"))

    assert not Theme.objects.filter(slug="shipping").exists()
    assert "shipping box" in delivery.seeds
    assert Response.objects.get(pk=both.pk).themes == ["delivery"]
    assert Response.objects.get(pk=only.pk).themes == ["delivery"]
    assert not ThemeRollup.objects.filter(theme="shipping", count__gt=0).exists()
    assert sum(ThemeRollup.objects.filter(theme="delivery").values_list("count", flat=True)) == 2


def test_theme_merge_into_itself_is_refused():
    delivery = Theme.objects.get(slug="delivery")
    with pytest.raises(ValidationError) as error:
        taxonomy.theme_merge(theme=delivery, into=delivery)
    assert error.value.message_dict == {"into": ["A theme cannot be merged into itself."]}


def test_candidate_promote_creates_a_theme_from_its_phrases_once():
    candidate = ThemeCandidate.objects.create(
        key_phrases=["loyalty points", "points"], size=4, typical_response_ids=[], discovered_at="2026-12-01T02:00Z"
    )

    theme = taxonomy.candidate_promote(candidate=candidate)

    assert (theme.slug, theme.name, theme.seeds) == ("loyalty_points", "Loyalty points", ["loyalty points", "points"])
    candidate.refresh_from_db()
    assert (candidate.status, candidate.theme) == ("promoted", theme)
    with pytest.raises(ValidationError):
        taxonomy.candidate_promote(candidate=candidate)


def test_themes_discover_groups_other_comments_with_an_embedder():
    np = pytest.importorskip("numpy")

    class Fake:
        name = "fake"

        def embed(self, texts):
            rows = [[1.0, 0.0] if "points" in t else [0.0, 1.0] for t in texts]
            return np.array(rows, dtype="float32")

    for text in ["loyalty points lost", "my loyalty points", "loyalty points expired", "gift wrap torn",
                 "gift wrap missing", "ugly gift wrap"]:  # fmt: skip
        ResponseFactory(analysis_pending=True, comment=text)
    analysis.comments_analyse_pending()

    found = taxonomy.themes_discover(embedder=Fake())

    assert sorted(c.key_phrases[0] for c in found) == ["gift wrap", "loyalty points"]
    assert all(len(c.typical_comments) == 3 for c in found)
    assert ThemeCandidate.objects.filter(status="open").count() == 2
