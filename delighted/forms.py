"""The forms of the console's Delighted import: the upload, and the mapping of a CSV's columns."""

from django import forms
from django.utils.translation import gettext_lazy as _

from delighted.export_files import CSV_FIELDS

SURVEY_TYPE_CHOICES = [
    ("nps", _("NPS (0-10)")),
    ("csat", _("CSAT (1-5)")),
    ("ces", _("CES (1-7)")),
    ("five_star", _("Five stars (1-5)")),
    ("thumbs", _("Thumbs (0-1)")),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,.csv,application/json,text/csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item] or super().clean(
            None, initial
        )


class UploadForm(forms.Form):
    files = MultipleFileField(
        label=_("Export files"),
        help_text=_(
            "JSON of survey responses, people, unsubscribes or bounces as Delighted's API returns them "
            "(one page or several per file), and CSV of responses. Choose several at once."
        ),
    )
    default_survey_type = forms.ChoiceField(
        choices=SURVEY_TYPE_CHOICES,
        initial="nps",
        label=_("Survey type of CSV rows that do not say theirs"),
    )


class ColumnsForm(forms.Form):
    """One select per column of every CSV of the import, named `f<file id>-<column number>`."""

    default_survey_type = forms.ChoiceField(
        choices=SURVEY_TYPE_CHOICES, label=_("Survey type of rows that do not say theirs")
    )

    def __init__(self, *args, files=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = []  # (file, header, field name)
        self.samples = {}
        for file, headers, sample in files:
            for number, header in enumerate(headers):
                name = f"f{file.pk}-{number}"
                self.fields[name] = forms.ChoiceField(
                    choices=list(CSV_FIELDS.items()), initial=file.mapping.get(header, "property"), label=header
                )
                self.columns.append((file, header, name))
                self.samples[name] = sample[number] if number < len(sample) else ""

    def csv_files(self) -> list[tuple]:
        """Per CSV file, its columns as (bound field, first row's value), for the page."""
        groups: dict[int, tuple] = {}
        for file, _header, name in self.columns:
            groups.setdefault(file.pk, (file, []))[1].append((self[name], self.samples[name]))
        return list(groups.values())

    def mappings(self) -> dict[int, dict[str, str]]:
        mappings: dict[int, dict[str, str]] = {}
        for file, header, name in self.columns:
            mappings.setdefault(file.pk, {})[header] = self.cleaned_data[name]
        return mappings
