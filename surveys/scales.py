"""Answer scales and default wording per survey kind, in every shipped language.

Pure data: what a kind asks, which scores are valid and up to which score an answer is
unhappy (`detractor_max`); `surveys.scoring` turns that into figures.
"""

from dataclasses import dataclass, field

DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "fr")


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    question: dict[str, str]
    low_label: dict[str, str]
    high_label: dict[str, str]
    # Scores up to this one are unhappy (a detractor's): what `surveys.scoring` counts as one, and a
    # "did we fix it?" answer above it means fixed.
    detractor_max: int = 0
    # Shown instead of the number on a score's button; its accessible name stays the end label.
    symbols: dict[int, str] = field(default_factory=dict)

    @property
    def scores(self) -> range:
        return range(self.low, self.high + 1)


SCALES: dict[str, Scale] = {
    "nps": Scale(
        0,
        10,
        {
            "en": "How likely are you to recommend {product} to a friend or colleague?",
            "fr": "Quelle est la probabilité que vous recommandiez {product} à un ami ou un collègue ?",
        },
        {"en": "Not at all likely", "fr": "Pas du tout probable"},
        {"en": "Extremely likely", "fr": "Très probable"},
        detractor_max=6,
    ),
    "csat": Scale(
        1,
        5,
        {
            "en": "How satisfied were you with {product}?",
            "fr": "Quel est votre niveau de satisfaction concernant {product} ?",
        },
        {"en": "Very dissatisfied", "fr": "Très insatisfait"},
        {"en": "Very satisfied", "fr": "Très satisfait"},
        detractor_max=2,
    ),
    "ces": Scale(
        1,
        7,
        {
            "en": "{product} made it easy for me to handle my issue.",
            "fr": "{product} m'a permis de régler facilement mon problème.",
        },
        {"en": "Strongly disagree", "fr": "Pas du tout d'accord"},
        {"en": "Strongly agree", "fr": "Tout à fait d'accord"},
        detractor_max=3,
    ),
    "five_star": Scale(
        1,
        5,
        {"en": "How would you rate {product}?", "fr": "Quelle note donneriez-vous à {product} ?"},
        {"en": "1 star", "fr": "1 étoile"},
        {"en": "5 stars", "fr": "5 étoiles"},
        detractor_max=2,
    ),
    "thumbs": Scale(
        0,
        1,
        {"en": "Were you happy with {product}?", "fr": "Êtes-vous satisfait de {product} ?"},
        {"en": "No", "fr": "Non"},
        {"en": "Yes", "fr": "Oui"},
        detractor_max=0,
        symbols={0: "\N{THUMBS DOWN SIGN}", 1: "\N{THUMBS UP SIGN}"},
    ),
}


def score_buttons(scale: Scale, locale: str, labels: tuple[str, str] | None = None) -> list[dict]:
    """What each score's button shows and how a screen reader names it, lowest first; `labels` are a survey's own
    end labels (`Survey.end_labels`), else the scale's."""
    low_label, high_label = labels or (scale.low_label[locale], scale.high_label[locale])
    buttons = []
    for score in scale.scores:
        name = str(score)
        if score == scale.low:
            name = f"{score}: {low_label}"
        elif score == scale.high:
            name = f"{score}: {high_label}"
        shows = str(score)
        if score in scale.symbols:
            # The word beside the symbol keeps the button clear where no emoji font is installed.
            name = low_label if score == scale.low else high_label
            shows = f"{scale.symbols[score]} {name}"
        buttons.append({"score": score, "shows": shows, "name": name})
    return buttons


def pick_locale(requested: str | None) -> str:
    """`fr-CA` → `fr`; anything unsupported falls back to English."""
    language = (requested or "").split("-")[0].split("_")[0].lower()
    return language if language in SUPPORTED_LOCALES else DEFAULT_LOCALE
