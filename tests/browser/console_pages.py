"""What the console's browser tests share: signing in, and the checks every staff page must pass."""


def log_in(page, email: str, password: str, then: str) -> None:
    page.goto(f"/accounts/login/?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{then}")


def assert_accessible_at_its_width(page, axe_violations) -> None:
    """No axe-core violation, and usable at the page's width: nothing makes the page itself scroll sideways
    (wide tables scroll in their box)."""
    violations = axe_violations(page)
    assert violations == [], violations
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1"
        " && !e.closest('.table-scroll'))"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
