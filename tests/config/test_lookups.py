import pytest
from django.db import connection

from surveys.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braces}", " spaced ", "NULL", "", "é\u2028ü", "\\\"'"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array literal is PostgreSQL's")
def test_text_array_reaches_postgresql_as_the_values_given():
    from config.lookups import text_array

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array(AWKWARD)])
        assert cursor.fetchone()[0] == AWKWARD


def test_any_of_finds_exactly_the_rows_holding_one_of_the_values():
    ContactFactory(external_id='say "hi"')
    ContactFactory(external_id="back\\slash")
    ContactFactory(external_id="other")

    found = Contact.objects.filter(external_id__any_of=AWKWARD).values_list("external_id", flat=True)

    assert sorted(found) == ["back\\slash", 'say "hi"']
