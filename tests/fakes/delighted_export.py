"""A Delighted-shaped export of any size, as a loop over `GET /v1/survey_responses.json?expand[]=person` writes
it (pages of 100 one after the other); shared by the import's round-trip test and `bench/import.py`."""

import json
import random

QUESTIONS = [
    {"id": "enum_caUUdY", "type": "select_one", "text": "Have you purchased from us in the past?"},
    {"id": "text_1WPmCm", "type": "free_response", "text": "Anything else we could do better?"},
    {"id": "scale_Xy12", "type": "scale", "text": "How easy was the checkout?"},
]
CHOICES = [{"id": "tp0Q4K", "text": "Yes"}, {"id": "kQ81zZ", "text": "No"}]
COMMENTS = [
    "The delivery was late and nobody answered.",
    "Great service, fast shipping.",
    "Le colis est arrivé abîmé.",
    "Support solved it in minutes.",
    "",
]
START = 1640995200  # 2022-01-01


def delighted_responses(n: int, *, seed: int = 7, people: int | None = None) -> list[dict]:
    """`n` survey responses over two years, by `people` people (default n / 3), with every field Delighted gives."""
    rng = random.Random(seed)
    people = people or max(1, n // 3)
    items = []
    for i in range(n):
        person = rng.randrange(people)
        created = START + rng.randrange(2 * 365 * 86400)
        answers = []
        if i % 2 == 0:
            choice = rng.choice(CHOICES)
            answers.append(
                {
                    "id": str(10 * i + 1),
                    "value": {"free_response": None, "scale": None, "select_one": choice, "select_many": None},
                    "question": QUESTIONS[0],
                }
            )
        if i % 3 == 0:
            answers.append(
                {
                    "id": str(10 * i + 2),
                    "value": {"free_response": f"Idea {i}", "scale": None, "select_one": None, "select_many": None},
                    "question": QUESTIONS[1],
                }
            )
        if i % 5 == 0:
            answers.append(
                {
                    "id": str(10 * i + 3),
                    "value": {"free_response": None, "scale": 1 + i % 5, "select_one": None, "select_many": None},
                    "question": QUESTIONS[2],
                }
            )
        comment = rng.choice(COMMENTS)
        items.append(
            {
                "id": str(100000 + i),
                "person": {
                    "id": str(5000 + person),
                    "email": f"customer{person}@example.com",
                    "name": f"Customer {person}",
                    "phone_number": f"+1617555{person % 10000:04d}" if person % 4 == 0 else None,
                    "created_at": START - 86400,
                    "last_sent_at": created - 3600,
                    "last_responded_at": created,
                    "next_survey_scheduled_at": None,
                },
                "survey_type": "nps",
                "score": rng.randrange(11),
                "comment": comment or None,
                "permalink": f"https://app.delighted.com/r/{i:032d}",
                "created_at": created,
                "updated_at": created + 60 if i % 7 == 0 else None,
                "person_properties": {"plan": rng.choice(["free", "pro", "team"]), "Delighted Source": "Email"},
                "notes": (
                    [
                        {
                            "id": str(i),
                            "text": f"Called back {i}",
                            "user_email": "cs@example.com",
                            "created_at": created + 600,
                        }
                    ]
                    if i % 10 == 0
                    else []
                ),
                "tags": ["delivery"] if "delivery" in comment else [],
                "additional_answers": answers,
            }
        )
    return items


def pages(items: list[dict], per_page: int = 100) -> str:
    """The items as consecutive pages of JSON arrays, one per line."""
    return "\n".join(json.dumps(items[start : start + per_page]) for start in range(0, len(items), per_page)) + "\n"
