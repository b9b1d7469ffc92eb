import pytest

from surveys.branding import Brand, branding_for, color_errors, contrast_ratio
from surveys.models import Branding
from tests.factories import SurveyFactory


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#1f4fd1", "#ffffff", 6.78),
        ("#777777", "#ffffff", 4.48),
    ],
)
def test_contrast_ratio_is_wcag(first, second, ratio):
    assert contrast_ratio(first, second) == ratio


def test_color_errors_refuse_a_colour_white_text_cannot_be_read_on():
    assert color_errors("#1f4fd1") == []
    assert color_errors("") == []
    assert color_errors("#777777") == ["White text on #777777 contrasts 4.48:1; pick a darker colour (at least 4.5:1)."]
    assert color_errors("blue") == ["Give a colour as #RRGGBB, e.g. #1f4fd1."]


@pytest.mark.django_db
def test_branding_for_lays_a_survey_s_own_fields_over_the_workspace_s():
    survey, other = SurveyFactory(), SurveyFactory()
    Branding.objects.create(sender_name="Acme", sender_email="care@acme.test", footer="Acme, 1 rue de Paris")
    Branding.objects.create(survey=survey, sender_name="Acme Support", brand_color="#0b6b2b")

    assert branding_for(survey.pk) == Brand(
        sender_name="Acme Support", sender_email="care@acme.test", brand_color="#0b6b2b", footer="Acme, 1 rue de Paris"
    )
    assert branding_for(other.pk).sender_name == "Acme"
    assert branding_for(survey.pk).from_email == "Acme Support <care@acme.test>"
    assert Brand().from_email == ""
    assert Brand(sender_name="Acme").from_email == "Acme <surveys@closeloop.localhost>"
