from notifications.email_reply import reply_text


def test_reply_text_cuts_gmail_english_attribution_and_quote():
    text = (
        "Thanks, the refund arrived.\r\n\r\n"
        "On Tue, 1 Dec 2026 at 10:02, Care <care@shop.test> wrote:\r\n"
        "> Sorry Ana, a refund is on its way.\r\n"
    )
    assert reply_text(text) == "Thanks, the refund arrived."


def test_reply_text_cuts_attribution_wrapped_over_two_lines():
    text = "Still nothing.\n\nOn Tue, 1 Dec 2026 at 10:02, Care team\n<care@shop.test> wrote:\n> Hello\n"
    assert reply_text(text) == "Still nothing."


def test_reply_text_cuts_french_attribution():
    text = (
        "Merci, c'est réglé.\n\nLe mar. 1 déc. 2026 à 10:02, Service client <care@shop.test> a écrit :\n> Bonjour Ana\n"
    )
    assert reply_text(text) == "Merci, c'est réglé."


def test_reply_text_cuts_signature_after_dash_dash_space():
    text = "The parcel is still not here.\n\n-- \nAna Lima\n+33 6 12 34 56 78\n"
    assert reply_text(text) == "The parcel is still not here."


def test_reply_text_cuts_phone_signatures_in_both_languages():
    assert reply_text("OK merci\n\nEnvoyé de mon iPhone\n") == "OK merci"
    assert reply_text("Fine\nSent from my iPhone") == "Fine"


def test_reply_text_cuts_outlook_original_message_and_header_block():
    separator = "Yes please.\n\n-----Original Message-----\nFrom: Care\nSent: Tuesday\nHello"
    assert reply_text(separator) == "Yes please."
    header_block = "Oui.\n\nDe : Service client <care@shop.test>\nEnvoyé : mardi 1 décembre 2026\nObjet : Votre avis\n"
    assert reply_text(header_block) == "Oui."


def test_reply_text_drops_interleaved_quoted_lines_and_keeps_answers_between_them():
    text = "> Did it arrive?\nYes, today.\n> Was it damaged?\nNo.\n"
    assert reply_text(text) == "Yes, today.\nNo."


def test_reply_text_keeps_a_line_that_only_mentions_writing():
    assert (
        reply_text("On Monday I wrote to you twice.\nStill waiting.")
        == "On Monday I wrote to you twice.\nStill waiting."
    )


def test_reply_text_falls_back_to_the_whole_text_when_everything_is_quoted():
    assert reply_text("> only a quote\n") == "> only a quote"
